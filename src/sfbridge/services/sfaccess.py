"""A workspace's Salesforce client, with its tokens kept (encrypted) in Postgres.

:class:`PgTokenStorage` and :class:`PgRefreshLock` implement the client's storage and
cross-process single-flight refresh on our database; :class:`SalesforceAccess` hands out one
:class:`~sfbridge.salesforce.client.SalesforceClient` per workspace, built once and reused, so
the in-process refresh lock and the token cache are shared by every coroutine of the process.

Each connection renews the way its flow says (:func:`renewer_for`): the refresh-token grant
for the web-server flow, a new grant for the JWT bearer and client-credentials flows. The
client's renewer (:class:`StoredRenewer`) reads the setup when it renews, so a process that
kept a client across a reconnect or a change of flow in another process still renews right.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Callable

import httpx

from sfbridge.salesforce import oauth
from sfbridge.salesforce.client import SalesforceClient
from sfbridge.salesforce.clock import Clock, system_clock
from sfbridge.salesforce.errors import ReconnectNeeded
from sfbridge.salesforce.governor import Governor
from sfbridge.salesforce.recorder import CallRecorder
from sfbridge.salesforce.session import (
    ClientCredentialsRenewer,
    JwtBearerRenewer,
    RefreshTokenRenewer,
    Renewer,
    SessionManager,
)
from sfbridge.salesforce.tokens import TokenSet
from sfbridge.secrets import SecretBox
from sfbridge.store import connections
from sfbridge.store.connections import AuthFlow, ConnectionStatus, SfConnection
from sfbridge.store.db import Database

API_VERSION = "59.0"


def identity_url(conn: SfConnection) -> str:
    """The identity URL of a connection (``{login}/id/{org}/{user}``)."""
    return f"{conn.login_url.rstrip('/')}/id/{conn.org_id}/{conn.user_id}"


def token_set(conn: SfConnection) -> TokenSet | None:
    """The stored tokens of a connection as the client wants them, or None."""
    if conn.access_token is None or conn.instance_url is None or conn.issued_at is None:
        return None
    return TokenSet(
        access_token=conn.access_token.reveal(),
        refresh_token=conn.refresh_token.reveal() if conn.refresh_token else None,
        instance_url=conn.instance_url,
        id_url=identity_url(conn),
        issued_at=conn.issued_at,
    )


def renewer_for(
    conn: SfConnection, http: httpx.AsyncClient, *, clock: Clock = system_clock
) -> Renewer:
    """The renewer matching the connection's flow.

    Raises:
        ReconnectNeeded: a JWT bearer setup lacks its username or key (cannot happen for
            rows saved through the store, which checks both).
    """
    if conn.auth_flow is AuthFlow.JWT_BEARER:
        if conn.private_key is None or not conn.jwt_username:
            raise ReconnectNeeded("the JWT bearer setup has no username or private key")
        return JwtBearerRenewer(
            http=http,
            login_url=conn.login_url,
            client_id=conn.client_id,
            username=conn.jwt_username,
            private_key_pem=conn.private_key.reveal(),
            clock=clock,
        )
    app = oauth.AppCredentials(client_id=conn.client_id, client_secret=conn.client_secret.reveal())
    if conn.auth_flow is AuthFlow.CLIENT_CREDENTIALS:
        return ClientCredentialsRenewer(http=http, login_url=conn.login_url, app=app, clock=clock)
    return RefreshTokenRenewer(http=http, login_url=conn.login_url, app=app, clock=clock)


async def server_grant(
    conn: SfConnection, http: httpx.AsyncClient, *, clock: Clock = system_clock
) -> TokenSet:
    """Get first tokens for a server-to-server setup (JWT bearer or client credentials).

    Raises:
        ValueError: the connection uses the web-server flow (it needs a browser).
        ReconnectNeeded: Salesforce refused the grant for good (not approved, unknown
            user, wrong audience, no run-as user, wrong secret).
        OAuthFailed: another OAuth error.
        ServerUnavailable: the token endpoint failed.
        TransportFailure: the token endpoint was unreachable.
    """
    if conn.auth_flow is AuthFlow.JWT_BEARER:
        if conn.private_key is None or not conn.jwt_username:
            raise ReconnectNeeded("the JWT bearer setup has no username or private key")
        return await oauth.jwt_bearer(
            http,
            login_url=conn.login_url,
            client_id=conn.client_id,
            username=conn.jwt_username,
            private_key_pem=conn.private_key.reveal(),
            clock=clock,
        )
    if conn.auth_flow is AuthFlow.CLIENT_CREDENTIALS:
        app = oauth.AppCredentials(
            client_id=conn.client_id, client_secret=conn.client_secret.reveal()
        )
        return await oauth.client_credentials(http, login_url=conn.login_url, app=app, clock=clock)
    raise ValueError("the web-server flow connects through the browser")


@dataclasses.dataclass(frozen=True, slots=True)
class StoredRenewer:
    """Renews with the flow and credentials stored for the workspace at renewal time."""

    db: Database
    box: SecretBox
    workspace_id: str
    http: httpx.AsyncClient
    clock: Clock = system_clock

    async def renew(self, current: TokenSet) -> TokenSet:
        """Run the stored flow's renewal.

        Raises:
            ReconnectNeeded: no setup is stored, or the grant is dead.
        """
        async with self.db.transaction() as tx:
            conn = await connections.get(tx, self.box, self.workspace_id)
        if conn is None:
            raise ReconnectNeeded("the connection's credentials were removed")
        return await renewer_for(conn, self.http, clock=self.clock).renew(current)


@dataclasses.dataclass(frozen=True, slots=True)
class PgTokenStorage:
    """Token storage for one workspace, on the ``sf_connections`` row."""

    db: Database
    box: SecretBox
    workspace_id: str

    async def load(self) -> TokenSet | None:
        async with self.db.transaction() as tx:
            conn = await connections.get(tx, self.box, self.workspace_id)
        if conn is None or conn.status != ConnectionStatus.CONNECTED:
            return None
        return token_set(conn)

    async def save(self, tokens: TokenSet) -> None:
        async with self.db.transaction() as tx:
            await connections.store_tokens(
                tx,
                self.box,
                self.workspace_id,
                access_token=tokens.access_token,
                refresh_token=tokens.refresh_token,
                issued_at=tokens.issued_at,
            )

    async def mark_needs_reconnect(self, reason: str) -> None:
        async with self.db.transaction() as tx:
            await connections.mark_needs_reconnect(tx, self.workspace_id, error=reason)


@dataclasses.dataclass(frozen=True, slots=True)
class PgRefreshLock:
    """Cross-process refresh lock: a transaction-scoped advisory lock per workspace.

    Every process (``serve`` and ``worker`` on several machines) that finds the token stale
    queues on the same lock; the first refreshes, the others then reload what it stored.
    """

    db: Database
    workspace_id: str

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        async with self.db.transaction() as tx:
            await tx.execute("connection_refresh_lock", {"workspace_id": self.workspace_id})
            yield


class SalesforceAccess:
    """One client per workspace, built on first use and kept for the process's life.

    Args:
        db: the database holding the connections.
        box: opens the stored secrets.
        http: the pooled HTTP client every Salesforce call goes through.
        governor: the process-wide API budget keeper.
        recorder_for: the call recorder for an org id (traces, metrics), or None.
        clock: time source for token ages (tests move it).
    """

    def __init__(
        self,
        db: Database,
        box: SecretBox,
        http: httpx.AsyncClient,
        governor: Governor,
        *,
        recorder_for: Callable[[str], CallRecorder | None] = lambda _ws: None,
        clock: Clock = system_clock,
    ) -> None:
        self._db = db
        self._box = box
        self._http = http
        self.governor = governor
        self._recorder_for = recorder_for
        self._clock = clock
        self._clients: dict[str, SalesforceClient] = {}

    @property
    def http(self) -> httpx.AsyncClient:
        """The pooled HTTP client (the OAuth calls of the connection service use it)."""
        return self._http

    async def client(self, workspace_id: str) -> SalesforceClient:
        """The workspace's client.

        Raises:
            ReconnectNeeded: the workspace is not connected (never, disconnected, or its
                refresh token died): its work must wait for a reconnect.
        """
        cached = self._clients.get(workspace_id)
        if cached is not None:
            return cached
        async with self._db.transaction() as tx:
            conn = await connections.get(tx, self._box, workspace_id)
        if conn is None or conn.status != ConnectionStatus.CONNECTED:
            status = conn.status.value if conn else ConnectionStatus.NOT_CONFIGURED.value
            raise ReconnectNeeded(f"Salesforce is not connected (status: {status})")
        session = SessionManager(
            storage=PgTokenStorage(self._db, self._box, workspace_id),
            renewer=StoredRenewer(self._db, self._box, workspace_id, self._http, self._clock),
            lock=PgRefreshLock(self._db, workspace_id),
            clock=self._clock,
        )
        client = SalesforceClient(
            self._http,
            session,
            api_version=API_VERSION,
            governor=self.governor,
            recorder=self._recorder_for(conn.org_id or workspace_id),
            org_key=conn.org_id,
        )
        self._clients[workspace_id] = client
        return client

    async def ensure_fresh(self, workspace_id: str, max_age: dt.timedelta) -> bool:
        """Renew the workspace's tokens when they are older than ``max_age``.

        Returns:
            ``True`` when a renewal happened (here or, just before, in another process).

        Raises:
            ReconnectNeeded: not connected, or the grant is dead (the connection is marked).
        """
        client = await self.client(workspace_id)
        return await client.session.ensure_fresh(max_age)

    def forget(self, workspace_id: str) -> None:
        """Drop a workspace's client (after connect, disconnect or new credentials)."""
        self._clients.pop(workspace_id, None)
