"""A workspace's Salesforce connection: credentials, connect, callback, status, disconnect.

The redirect URI and the webhook URL are derived from the public URL, never typed by anyone.
The OAuth ``state`` is single-use and bound to the workspace; the PKCE verifier stays on our
side. Disconnecting revokes the refresh token at Salesforce, wipes the tokens and rotates the
webhook token; nothing in Salesforce is deleted.

Three flows (:class:`~sfbridge.store.connections.AuthFlow`): the web-server flow (an admin
signs in once in the browser), and two server-to-server flows that connect at once with no
browser: JWT bearer (client id, username, private key) and client credentials (client id and
secret, on the org's My Domain host).
"""

from __future__ import annotations

import dataclasses
import secrets as pysecrets
from collections.abc import Collection
from dataclasses import dataclass

from sfbridge.salesforce import oauth
from sfbridge.salesforce.errors import SalesforceError
from sfbridge.salesforce.tokens import TokenSet
from sfbridge.secrets import SecretBox
from sfbridge.services.connection_setup import (
    FLOW_HINTS,
    FLOW_NAMES,
    SAVE_FIRST,
    CallbackRejected,
    ConnectionProblem,
    InvalidSetup,
    UnknownWorkspace,
    check_setup,
)
from sfbridge.services.sfaccess import SalesforceAccess, server_grant, token_set
from sfbridge.settings import Settings
from sfbridge.store import connections, workspaces
from sfbridge.store.connections import AuthFlow, ConnectionStatus, SfConnection
from sfbridge.store.db import Database

__all__ = [
    "CALLBACK_PATH",
    "WEBHOOK_PREFIX",
    "CallbackRejected",
    "ConnectOutcome",
    "ConnectionProblem",
    "ConnectionService",
    "ConnectionView",
    "InvalidSetup",
    "UnknownWorkspace",
]

CALLBACK_PATH = "/oauth/callback"
WEBHOOK_PREFIX = "/hooks/salesforce/"


@dataclass(frozen=True, kw_only=True, slots=True)
class ConnectionView:
    """What an admin sees of a connection. Never holds a secret."""

    workspace_id: str
    status: ConnectionStatus
    flow: AuthFlow
    login_url: str | None
    client_id: str | None
    has_client_secret: bool
    jwt_username: str | None
    has_private_key: bool
    redirect_uri: str
    username: str | None
    org_id: str | None
    instance_url: str | None
    environment: str | None  # "sandbox" | "production" | None
    webhook_url: str | None
    last_error: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class ConnectOutcome:
    """What "Connect" did: an authorize URL to open (web-server flow), or a connection made."""

    flow: AuthFlow
    authorize_url: str | None
    view: ConnectionView


class ConnectionService:
    """Runs the connection lifecycle of every workspace."""

    def __init__(
        self,
        db: Database,
        box: SecretBox,
        settings: Settings,
        access: SalesforceAccess,
        *,
        extra_login_hosts: Collection[str] = (),
    ) -> None:
        self._db = db
        self._box = box
        self._settings = settings
        self._access = access
        self._extra_hosts = tuple(extra_login_hosts)

    @property
    def redirect_uri(self) -> str:
        return self._settings.public_url.rstrip("/") + CALLBACK_PATH

    def webhook_url(self, token: str) -> str:
        return self._settings.public_url.rstrip("/") + WEBHOOK_PREFIX + token

    async def view(self, workspace_id: str) -> ConnectionView:
        async with self._db.transaction() as tx:
            if await workspaces.get(tx, workspace_id) is None:
                raise UnknownWorkspace()
            conn = await connections.get(tx, self._box, workspace_id)
            token = await connections.webhook_token(tx, self._box, workspace_id) if conn else None
        return self._view(workspace_id, conn, token.reveal() if token else None)

    def _view(
        self, workspace_id: str, conn: SfConnection | None, webhook_token: str | None
    ) -> ConnectionView:
        if conn is None:
            return ConnectionView(
                workspace_id=workspace_id,
                status=ConnectionStatus.NOT_CONFIGURED,
                flow=AuthFlow.WEB_SERVER,
                login_url=None,
                client_id=None,
                has_client_secret=False,
                jwt_username=None,
                has_private_key=False,
                redirect_uri=self.redirect_uri,
                username=None,
                org_id=None,
                instance_url=None,
                environment=None,
                webhook_url=None,
                last_error=None,
            )
        environment = None
        if conn.is_sandbox is not None:
            environment = "sandbox" if conn.is_sandbox else "production"
        connected = conn.status == ConnectionStatus.CONNECTED
        return ConnectionView(
            workspace_id=workspace_id,
            status=conn.status,
            flow=conn.auth_flow,
            login_url=conn.login_url,
            client_id=conn.client_id,
            has_client_secret=bool(conn.client_secret.reveal()),
            jwt_username=conn.jwt_username,
            has_private_key=conn.private_key is not None,
            redirect_uri=self.redirect_uri,
            username=conn.username,
            org_id=conn.org_id,
            instance_url=conn.instance_url,
            environment=environment,
            webhook_url=self.webhook_url(webhook_token) if webhook_token and connected else None,
            last_error=conn.last_error,
        )

    async def save_credentials(
        self,
        workspace_id: str,
        *,
        login_url: str,
        client_id: str,
        client_secret: str | None,
        flow: AuthFlow | str = AuthFlow.WEB_SERVER,
        username: str | None = None,
        private_key_pem: str | None = None,
    ) -> ConnectionView:
        """Save a connection setup. A ``None`` secret or key keeps the stored one.

        Args:
            workspace_id: the workspace.
            login_url: login.salesforce.com, test.salesforce.com or a My Domain URL (other
                hosts only in demo mode or when allow-listed).
            client_id: the connected app's consumer key.
            client_secret: the consumer secret (web server and client credentials; optional
                for JWT bearer).
            flow: ``web_server`` (default), ``jwt_bearer`` or ``client_credentials``.
            username: JWT bearer: the Salesforce username to act as.
            private_key_pem: JWT bearer: the unencrypted RSA private key (PEM) whose
                certificate is on the connected app.

        Raises:
            InvalidSetup: a field is missing or invalid (the message names it).
            InvalidLoginUrl: the login URL is outside the policy, or the client-credentials
                flow was given login/test.salesforce.com.
            InvalidRow: the secret is neither given nor stored.
            UnknownWorkspace: no such workspace.
        """
        setup = check_setup(
            flow, client_id=client_id, username=username, private_key_pem=private_key_pem
        )
        async with self._db.transaction() as tx:
            ws = await workspaces.get(tx, workspace_id)
            if ws is None:
                raise UnknownWorkspace()
            checked = oauth.check_login_url(
                login_url,
                allowed_hosts=(*self._settings.allowed_login_hosts, *self._extra_hosts),
                demo=ws.is_demo or self._settings.demo.value == "on",
            )
            if setup.flow is AuthFlow.CLIENT_CREDENTIALS:
                oauth.check_client_credentials_login_url(checked)
            await connections.save_setup(
                tx,
                self._box,
                workspace_id,
                flow=setup.flow,
                login_url=checked,
                client_id=setup.client_id,
                client_secret=client_secret or None,
                jwt_username=setup.username,
                private_key_pem=setup.private_key_pem,
            )
        self._access.forget(workspace_id)
        return await self.view(workspace_id)

    async def connect(self, workspace_id: str) -> ConnectOutcome:
        """Connect by the saved flow.

        The web-server flow returns the authorize URL for the admin's browser; the
        server-to-server flows get tokens at once and return the connected view.

        Raises:
            ConnectionProblem: nothing is saved, or Salesforce refused the grant (the reason
                is also kept as the connection's ``last_error``).
            UnknownWorkspace: no such workspace.
        """
        async with self._db.transaction() as tx:
            if await workspaces.get(tx, workspace_id) is None:
                raise UnknownWorkspace()
            conn = await connections.get(tx, self._box, workspace_id)
        if conn is None:
            raise ConnectionProblem(SAVE_FIRST)
        if conn.auth_flow is AuthFlow.WEB_SERVER:
            url = await self.start_connect(workspace_id)
            return ConnectOutcome(
                flow=conn.auth_flow, authorize_url=url, view=await self.view(workspace_id)
            )
        http = self._access.http
        try:
            tokens = await server_grant(conn, http)
            who = await oauth.identity(http, tokens, login_url=conn.login_url)
        except SalesforceError as exc:
            reason = f"Salesforce refused the {FLOW_NAMES[conn.auth_flow]} sign-in: {exc}"
            async with self._db.transaction() as tx:
                await connections.record_error(tx, workspace_id, error=reason)
            raise ConnectionProblem(f"{reason}. {FLOW_HINTS[conn.auth_flow]}") from exc
        await self._store_connected(workspace_id, conn.login_url, tokens, who)
        return ConnectOutcome(
            flow=conn.auth_flow, authorize_url=None, view=await self.view(workspace_id)
        )

    async def start_connect(self, workspace_id: str) -> str:
        """Return the Salesforce authorize URL to send the admin's browser to.

        Raises:
            ConnectionProblem: nothing is saved, or the workspace uses a server-to-server
                flow (call :meth:`connect`).
        """
        state = pysecrets.token_urlsafe(32)
        pkce = oauth.new_pkce()
        async with self._db.transaction() as tx:
            conn = await connections.get(tx, self._box, workspace_id)
            if conn is None:
                raise ConnectionProblem(SAVE_FIRST)
            if conn.auth_flow is not AuthFlow.WEB_SERVER:
                raise ConnectionProblem(
                    f"This workspace uses the {FLOW_NAMES[conn.auth_flow]} flow, which "
                    "connects without a browser: use Connect (POST .../connection/connect)."
                )
            await connections.create_oauth_state(
                tx, self._box, workspace_id, state=state, code_verifier=pkce.verifier
            )
        return oauth.authorize_url(
            conn.login_url,
            client_id=conn.client_id,
            redirect_uri=self.redirect_uri,
            state=state,
            code_challenge=pkce.challenge,
        )

    async def finish_connect(
        self, *, state: str, code: str | None, error: str | None = None
    ) -> str:
        """Complete the sign-in Salesforce redirected back with; return the workspace id.

        Raises:
            CallbackRejected: unknown, expired or reused state; Salesforce reported an
                error (the admin denied access); or the code exchange failed.
        """
        async with self._db.transaction() as tx:
            pending = await connections.consume_oauth_state(tx, self._box, state)
            if pending is None:
                raise CallbackRejected(
                    "This sign-in link is unknown, expired or already used; click Connect again."
                )
            conn = await connections.get(tx, self._box, pending.workspace_id)
        if error or not code:
            raise CallbackRejected(f"Salesforce did not grant access ({error or 'no code'}).")
        if conn is None:
            raise CallbackRejected("The workspace's credentials were removed meanwhile.")
        if conn.auth_flow is not AuthFlow.WEB_SERVER:
            raise CallbackRejected(
                "The workspace switched to a server-to-server flow meanwhile; click Connect again."
            )
        app = oauth.AppCredentials(
            client_id=conn.client_id, client_secret=conn.client_secret.reveal()
        )
        http = self._access.http
        try:
            tokens = await oauth.exchange_code(
                http,
                login_url=conn.login_url,
                app=app,
                code=code,
                redirect_uri=self.redirect_uri,
                code_verifier=pending.code_verifier.reveal(),
            )
            who = await oauth.identity(http, tokens, login_url=conn.login_url)
        except SalesforceError as exc:
            raise CallbackRejected(f"Salesforce refused the sign-in: {exc}") from exc
        await self._store_connected(pending.workspace_id, conn.login_url, tokens, who)
        return pending.workspace_id

    async def _store_connected(
        self, workspace_id: str, login_url: str, tokens: TokenSet, who: oauth.Identity
    ) -> None:
        sandbox = who.is_sandbox
        if sandbox is None:
            sandbox = await self._ask_sandbox(tokens.instance_url, tokens.access_token)
        async with self._db.transaction() as tx:
            await connections.mark_connected(
                tx,
                self._box,
                workspace_id,
                instance_url=tokens.instance_url,
                org_id=who.org_id,
                user_id=who.user_id,
                username=who.username,
                is_sandbox=sandbox,
                access_token=tokens.access_token,
                refresh_token=tokens.refresh_token,
                issued_at=tokens.issued_at,
            )
            if await connections.webhook_token(tx, self._box, workspace_id) is None:
                await connections.set_webhook_token(
                    tx, self._box, workspace_id, connections.new_webhook_token()
                )
        self._access.forget(workspace_id)

    async def _ask_sandbox(self, instance_url: str, access_token: str) -> bool:
        resp = await self._access.http.get(
            f"{instance_url}/services/data/v59.0/query/",
            params={"q": "SELECT IsSandbox FROM Organization LIMIT 1"},
            headers={"Authorization": f"Bearer {access_token}"},
        )
        if resp.status_code != 200:
            return False
        records = resp.json().get("records") or [{}]
        return bool(records[0].get("IsSandbox"))

    async def disconnect(self, workspace_id: str) -> ConnectionView:
        """Revoke at Salesforce (best effort), wipe tokens, rotate the webhook token."""
        async with self._db.transaction() as tx:
            conn = await connections.get(tx, self._box, workspace_id)
        if conn is None:
            raise ConnectionProblem("This workspace has no Salesforce connection to disconnect.")
        tokens = token_set(conn)
        revoke_error = None
        if tokens is not None:
            try:
                await oauth.revoke(
                    self._access.http,
                    login_url=conn.login_url,
                    token=tokens.refresh_token or tokens.access_token,
                )
            except SalesforceError as exc:
                revoke_error = str(exc)
        async with self._db.transaction() as tx:
            await connections.disconnect(tx, workspace_id)
            await connections.set_webhook_token(
                tx, self._box, workspace_id, connections.new_webhook_token()
            )
        self._access.forget(workspace_id)
        view = await self.view(workspace_id)
        if revoke_error:
            return dataclasses.replace(
                view,
                last_error=(
                    "Tokens wiped here, but Salesforce did not confirm the revocation "
                    f"({revoke_error}); revoke sfbridge under Connected Apps OAuth Usage if needed."
                ),
            )
        return view

    async def rotate_webhook_token(self, workspace_id: str) -> str:
        """Issue a new webhook token (the old URL stops working); return the new URL."""
        token = connections.new_webhook_token()
        async with self._db.transaction() as tx:
            if not await connections.set_webhook_token(tx, self._box, workspace_id, token):
                raise ConnectionProblem("Connect Salesforce before creating a webhook URL.")
        return self.webhook_url(token)
