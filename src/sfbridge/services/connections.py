"""A workspace's Salesforce connection: credentials, connect, callback, status, disconnect.

The redirect URI and the webhook URL are derived from the public URL, never typed by anyone.
The OAuth ``state`` is single-use and bound to the workspace; the PKCE verifier stays on our
side. Disconnecting revokes the refresh token at Salesforce, wipes the tokens and rotates the
webhook token; nothing in Salesforce is deleted.
"""

from __future__ import annotations

import dataclasses
import secrets as pysecrets
from collections.abc import Collection
from dataclasses import dataclass

from sfbridge.errors import BridgeError
from sfbridge.salesforce import oauth
from sfbridge.salesforce.errors import SalesforceError
from sfbridge.secrets import SecretBox
from sfbridge.services.sfaccess import SalesforceAccess, token_set
from sfbridge.settings import Settings
from sfbridge.store import connections, workspaces
from sfbridge.store.connections import ConnectionStatus, SfConnection
from sfbridge.store.db import Database

CALLBACK_PATH = "/oauth/callback"
WEBHOOK_PREFIX = "/hooks/salesforce/"


class ConnectionProblem(BridgeError):
    """The Salesforce connection cannot do that."""


class UnknownWorkspace(BridgeError):
    """No such workspace."""


class CallbackRejected(BridgeError):
    """The sign-in coming back from Salesforce was refused."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ConnectionView:
    """What an admin sees of a connection. Never holds a secret."""

    workspace_id: str
    status: ConnectionStatus
    login_url: str | None
    client_id: str | None
    has_client_secret: bool
    redirect_uri: str
    username: str | None
    org_id: str | None
    instance_url: str | None
    environment: str | None  # "sandbox" | "production" | None
    webhook_url: str | None
    last_error: str | None


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
                login_url=None,
                client_id=None,
                has_client_secret=False,
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
            login_url=conn.login_url,
            client_id=conn.client_id,
            has_client_secret=True,
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
    ) -> ConnectionView:
        """Save the connected app's credentials (a ``None`` secret keeps the stored one)."""
        client_id = client_id.strip()
        if not client_id:
            raise ConnectionProblem("Enter the connected app's Consumer Key as the client id.")
        async with self._db.transaction() as tx:
            ws = await workspaces.get(tx, workspace_id)
            if ws is None:
                raise UnknownWorkspace()
            checked = oauth.check_login_url(
                login_url,
                allowed_hosts=(*self._settings.allowed_login_hosts, *self._extra_hosts),
                demo=ws.is_demo or self._settings.demo.value == "on",
            )
            await connections.save_credentials(
                tx,
                self._box,
                workspace_id,
                login_url=checked,
                client_id=client_id,
                client_secret=client_secret or None,
            )
        self._access.forget(workspace_id)
        return await self.view(workspace_id)

    async def start_connect(self, workspace_id: str) -> str:
        """Return the Salesforce authorize URL to send the admin's browser to."""
        state = pysecrets.token_urlsafe(32)
        pkce = oauth.new_pkce()
        async with self._db.transaction() as tx:
            conn = await connections.get(tx, self._box, workspace_id)
            if conn is None:
                raise ConnectionProblem(
                    "Save the connected app's client id, client secret and login URL first."
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
        sandbox = who.is_sandbox
        if sandbox is None:
            sandbox = await self._ask_sandbox(tokens.instance_url, tokens.access_token)
        async with self._db.transaction() as tx:
            await connections.mark_connected(
                tx,
                self._box,
                pending.workspace_id,
                instance_url=tokens.instance_url,
                org_id=who.org_id,
                user_id=who.user_id,
                username=who.username,
                is_sandbox=sandbox,
                access_token=tokens.access_token,
                refresh_token=tokens.refresh_token,
                issued_at=tokens.issued_at,
            )
            if await connections.webhook_token(tx, self._box, pending.workspace_id) is None:
                await connections.set_webhook_token(
                    tx, self._box, pending.workspace_id, connections.new_webhook_token()
                )
        self._access.forget(pending.workspace_id)
        return pending.workspace_id

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
