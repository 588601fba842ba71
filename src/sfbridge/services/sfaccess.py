"""A workspace's Salesforce client, with its tokens kept (encrypted) in Postgres.

:class:`PgTokenStorage` and :class:`PgRefreshLock` implement the client's storage and
cross-process single-flight refresh on our database; :class:`SalesforceAccess` hands out one
:class:`~sfbridge.salesforce.client.SalesforceClient` per workspace, built once and reused, so
the in-process refresh lock and the token cache are shared by every coroutine of the process.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable

import httpx

from sfbridge.salesforce import oauth
from sfbridge.salesforce.client import SalesforceClient
from sfbridge.salesforce.errors import ReconnectNeeded
from sfbridge.salesforce.governor import Governor
from sfbridge.salesforce.recorder import CallRecorder
from sfbridge.salesforce.session import RefreshTokenRenewer, SessionManager
from sfbridge.salesforce.tokens import TokenSet
from sfbridge.secrets import SecretBox
from sfbridge.store import connections
from sfbridge.store.connections import ConnectionStatus, SfConnection
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
    """

    def __init__(
        self,
        db: Database,
        box: SecretBox,
        http: httpx.AsyncClient,
        governor: Governor,
        *,
        recorder_for: Callable[[str], CallRecorder | None] = lambda _ws: None,
    ) -> None:
        self._db = db
        self._box = box
        self._http = http
        self.governor = governor
        self._recorder_for = recorder_for
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
            renewer=RefreshTokenRenewer(
                http=self._http,
                login_url=conn.login_url,
                app=oauth.AppCredentials(
                    client_id=conn.client_id, client_secret=conn.client_secret.reveal()
                ),
            ),
            lock=PgRefreshLock(self._db, workspace_id),
        )
        client = SalesforceClient(
            self._http,
            session,
            api_version=API_VERSION,
            governor=self.governor,
            recorder=self._recorder_for(workspace_id),
            org_key=conn.org_id,
        )
        self._clients[workspace_id] = client
        return client

    def forget(self, workspace_id: str) -> None:
        """Drop a workspace's client (after connect, disconnect or new credentials)."""
        self._clients.pop(workspace_id, None)
