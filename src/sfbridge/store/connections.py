"""Storage of each workspace's Salesforce connection, its webhook token and OAuth states.

Secrets (client secret, tokens, webhook token, PKCE verifier) are sealed with the
installation's :class:`~sfbridge.secrets.SecretBox`, bound to ``"<workspace id>:<field>"``
so a value copied into another workspace's row does not open. Read values come back
wrapped in :class:`~sfbridge.settings.Secret`.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sfbridge.errors import InvalidRow
from sfbridge.secrets import SecretBox
from sfbridge.settings import Secret
from sfbridge.store.db import Row, Transaction

OAUTH_STATE_TTL_SECONDS = 600


class AuthFlow(enum.StrEnum):
    """How a workspace gets its Salesforce tokens."""

    WEB_SERVER = "web_server"  #: an admin signs in once in the browser; refresh token kept
    JWT_BEARER = "jwt_bearer"  #: server to server: a signed JWT for a pre-authorized user
    CLIENT_CREDENTIALS = "client_credentials"  #: server to server: the app's run-as user


class ConnectionStatus(enum.StrEnum):
    """Lifecycle of a workspace's Salesforce connection."""

    NOT_CONFIGURED = "not_configured"  #: no credentials saved (no row)
    CREDENTIALS_SAVED = "credentials_saved"  #: client id/secret saved, never connected
    CONNECTED = "connected"  #: tokens held and working
    NEEDS_RECONNECT = "needs_reconnect"  #: refresh failed for good; an admin must reconnect
    DISCONNECTED = "disconnected"  #: an admin disconnected; tokens wiped


@dataclass(frozen=True, kw_only=True, slots=True)
class SfConnection:
    """A workspace's Salesforce connection, secrets opened and wrapped."""

    workspace_id: str
    login_url: str
    client_id: str
    client_secret: Secret  #: empty for a JWT bearer setup saved without one
    status: ConnectionStatus
    auth_flow: AuthFlow
    jwt_username: str | None
    private_key: Secret | None
    instance_url: str | None
    org_id: str | None
    user_id: str | None
    username: str | None
    is_sandbox: bool | None
    access_token: Secret | None
    refresh_token: Secret | None
    issued_at: dt.datetime | None
    last_refresh_at: dt.datetime | None
    last_error: str | None
    has_webhook_token: bool
    updated_at: dt.datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class OAuthState:
    """An authorize request coming back: whose it is and its PKCE verifier."""

    workspace_id: str
    code_verifier: Secret


def hash_token(token: str) -> str:
    """Return the SHA-256 (hex) under which a webhook token or OAuth state is looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_webhook_token() -> str:
    """Return a fresh unguessable webhook token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def _seal(box: SecretBox, workspace_id: str, field: str, value: str | None) -> str | None:
    return None if value is None else box.encrypt(value, context=f"{workspace_id}:{field}")


def _open(box: SecretBox, workspace_id: str, field: str, sealed: str | None) -> Secret | None:
    if sealed is None:
        return None
    return Secret(box.decrypt(sealed, context=f"{workspace_id}:{field}"))


def _connection(box: SecretBox, row: Row) -> SfConnection:
    ws = row["workspace_id"]
    return SfConnection(
        workspace_id=ws,
        login_url=row["login_url"],
        client_id=row["client_id"],
        client_secret=Secret(box.decrypt(row["client_secret_enc"], context=f"{ws}:client_secret")),
        status=ConnectionStatus(row["status"]),
        auth_flow=AuthFlow(row["auth_flow"]),
        jwt_username=row["jwt_username"],
        private_key=_open(box, ws, "private_key", row["private_key_enc"]),
        instance_url=row["instance_url"],
        org_id=row["org_id"],
        user_id=row["user_id"],
        username=row["username"],
        is_sandbox=row["is_sandbox"],
        access_token=_open(box, ws, "access_token", row["access_token_enc"]),
        refresh_token=_open(box, ws, "refresh_token", row["refresh_token_enc"]),
        issued_at=row["issued_at"],
        last_refresh_at=row["last_refresh_at"],
        last_error=row["last_error"],
        has_webhook_token=row["webhook_token_hash"] is not None,
        updated_at=row["updated_at"],
    )


async def get(tx: Transaction, box: SecretBox, workspace_id: str) -> SfConnection | None:
    """Return the workspace's connection, or ``None`` (status "not configured")."""
    row = await tx.fetch_one("connection_get", {"workspace_id": workspace_id})
    return None if row is None else _connection(box, row)


async def get_for_update(tx: Transaction, box: SecretBox, workspace_id: str) -> SfConnection | None:
    """Like :func:`get`, and lock the row until ``tx`` ends.

    The token refresh takes this lock first and re-reads the tokens: a refresh another
    process just finished is seen, so only one refresh happens (single flight).
    """
    row = await tx.fetch_one("connection_get_for_update", {"workspace_id": workspace_id})
    return None if row is None else _connection(box, row)


async def save_credentials(
    tx: Transaction,
    box: SecretBox,
    workspace_id: str,
    *,
    login_url: str,
    client_id: str,
    client_secret: str | None,
) -> SfConnection:
    """Save the connected app's credentials (``client_secret=None`` keeps the stored one).

    A different login URL or client id wipes the tokens and returns to "credentials saved".

    Raises:
        InvalidRow: No secret is stored yet and none was given.
        MissingReference: The workspace does not exist.
    """
    params: dict[str, object] = {
        "workspace_id": workspace_id,
        "login_url": login_url,
        "client_id": client_id,
    }
    if client_secret is None:
        row = await tx.fetch_one("connection_update_credentials_keep_secret", params)
    else:
        params["client_secret_enc"] = _seal(box, workspace_id, "client_secret", client_secret)
        row = await tx.fetch_one("connection_save_credentials", params)
    if row is None:
        raise InvalidRow("Enter the client secret of the connected app.")
    return _connection(box, row)


async def save_setup(
    tx: Transaction,
    box: SecretBox,
    workspace_id: str,
    *,
    flow: AuthFlow,
    login_url: str,
    client_id: str,
    client_secret: str | None,
    jwt_username: str | None = None,
    private_key_pem: str | None = None,
) -> SfConnection:
    """Save a connection setup for any flow; ``None`` keeps a stored secret or key.

    A change of login URL, client id, flow or run-as user wipes the tokens and returns to
    "credentials saved". The caller checked the values (flow rules, login-URL policy).

    Raises:
        InvalidRow: a secret or key the flow needs is neither given nor stored.
        MissingReference: the workspace does not exist.
    """
    old = await tx.fetch_one("connection_get_for_update", {"workspace_id": workspace_id})
    secret_enc = _seal(box, workspace_id, "client_secret", client_secret)
    if secret_enc is None and old is not None:
        secret_enc = old["client_secret_enc"]
    if secret_enc is None:
        if flow is not AuthFlow.JWT_BEARER:
            raise InvalidRow("Enter the client secret of the connected app.")
        secret_enc = _seal(box, workspace_id, "client_secret", "")
    key_enc: str | None = None
    if flow is AuthFlow.JWT_BEARER:
        key_enc = _seal(box, workspace_id, "private_key", private_key_pem)
        if key_enc is None and old is not None:
            key_enc = old["private_key_enc"]
        if key_enc is None:
            raise InvalidRow("Enter the private key (PEM) whose certificate is on the app.")
    else:
        jwt_username = None
    same_grant = old is not None and (
        old["login_url"],
        old["client_id"],
        old["auth_flow"],
        old["jwt_username"],
    ) == (login_url, client_id, flow.value, jwt_username)
    row = await tx.fetch_one(
        "connection_save_setup",
        {
            "workspace_id": workspace_id,
            "login_url": login_url,
            "client_id": client_id,
            "client_secret_enc": secret_enc,
            "auth_flow": flow.value,
            "jwt_username": jwt_username,
            "private_key_enc": key_enc,
            "same_grant": same_grant,
        },
    )
    if row is None:
        raise InvalidRow("The connection setup was not saved.")
    return _connection(box, row)


async def record_error(tx: Transaction, workspace_id: str, *, error: str) -> bool:
    """Note why a connect attempt failed (shown to the admin); the status is unchanged."""
    changed = await tx.execute(
        "connection_record_error", {"workspace_id": workspace_id, "error": error}
    )
    return changed == 1


async def list_connected(tx: Transaction) -> list[str]:
    """Every connected workspace (global maintenance: the daily refresh sweep)."""
    rows = await tx.fetch_all("connection_list_connected")
    return [str(r["workspace_id"]) for r in rows]


async def mark_connected(
    tx: Transaction,
    box: SecretBox,
    workspace_id: str,
    *,
    instance_url: str,
    org_id: str,
    user_id: str,
    username: str,
    is_sandbox: bool,
    access_token: str,
    refresh_token: str | None,
    issued_at: dt.datetime,
) -> bool:
    """Store the outcome of a successful authorization; False if no credentials are saved."""
    changed = await tx.execute(
        "connection_mark_connected",
        {
            "workspace_id": workspace_id,
            "instance_url": instance_url,
            "org_id": org_id,
            "user_id": user_id,
            "username": username,
            "is_sandbox": is_sandbox,
            "access_token_enc": _seal(box, workspace_id, "access_token", access_token),
            "refresh_token_enc": _seal(box, workspace_id, "refresh_token", refresh_token),
            "issued_at": issued_at,
        },
    )
    return changed == 1


async def store_tokens(
    tx: Transaction,
    box: SecretBox,
    workspace_id: str,
    *,
    access_token: str,
    refresh_token: str | None,
    issued_at: dt.datetime,
) -> bool:
    """Store refreshed tokens (a returned refresh token replaces the old one).

    False when the connection is neither connected nor waiting for reconnection (for
    example it was disconnected meanwhile): the tokens are then NOT stored.
    """
    changed = await tx.execute(
        "connection_store_tokens",
        {
            "workspace_id": workspace_id,
            "access_token_enc": _seal(box, workspace_id, "access_token", access_token),
            "refresh_token_enc": _seal(box, workspace_id, "refresh_token", refresh_token),
            "issued_at": issued_at,
        },
    )
    return changed == 1


async def mark_needs_reconnect(tx: Transaction, workspace_id: str, *, error: str) -> bool:
    """Record that the refresh failed for good; False unless the connection was connected."""
    changed = await tx.execute(
        "connection_mark_needs_reconnect", {"workspace_id": workspace_id, "error": error}
    )
    return changed == 1


async def disconnect(tx: Transaction, workspace_id: str) -> bool:
    """Wipe the tokens and mark the connection disconnected; False if there is none."""
    return await tx.execute("connection_disconnect", {"workspace_id": workspace_id}) == 1


async def set_webhook_token(tx: Transaction, box: SecretBox, workspace_id: str, token: str) -> bool:
    """Store a (new) webhook token; the old one stops working. False if no connection."""
    changed = await tx.execute(
        "connection_set_webhook_token",
        {
            "workspace_id": workspace_id,
            "token_hash": hash_token(token),
            "token_enc": _seal(box, workspace_id, "webhook_token", token),
        },
    )
    return changed == 1


async def webhook_token(tx: Transaction, box: SecretBox, workspace_id: str) -> Secret | None:
    """Return the workspace's webhook token (to show its URL again), or ``None``."""
    row = await tx.fetch_one("connection_get", {"workspace_id": workspace_id})
    if row is None:
        return None
    return _open(box, workspace_id, "webhook_token", row["webhook_token_enc"])


async def workspace_for_webhook_token(tx: Transaction, token: str) -> str | None:
    """Return the workspace owning ``token``, or ``None``; compares in constant time."""
    presented = hash_token(token)
    row = await tx.fetch_one("connection_find_by_webhook_token", {"token_hash": presented})
    if row is None or not hmac.compare_digest(row["webhook_token_hash"], presented):
        return None
    return str(row["workspace_id"])


async def create_oauth_state(
    tx: Transaction,
    box: SecretBox,
    workspace_id: str,
    *,
    state: str,
    code_verifier: str,
    ttl_seconds: int = OAUTH_STATE_TTL_SECONDS,
) -> None:
    """Remember an authorize request (state stored hashed, verifier sealed)."""
    state_hash = hash_token(state)
    await tx.execute(
        "oauth_state_create",
        {
            "state_hash": state_hash,
            "workspace_id": workspace_id,
            "code_verifier_enc": box.encrypt(code_verifier, context=f"{workspace_id}:{state_hash}"),
            "ttl_seconds": ttl_seconds,
        },
    )


async def consume_oauth_state(tx: Transaction, box: SecretBox, state: str) -> OAuthState | None:
    """Use up an authorize request's state; ``None`` if unknown, expired or already used."""
    state_hash = hash_token(state)
    row = await tx.fetch_one("oauth_state_consume", {"state_hash": state_hash})
    if row is None:
        return None
    ws = row["workspace_id"]
    verifier = box.decrypt(row["code_verifier_enc"], context=f"{ws}:{state_hash}")
    return OAuthState(workspace_id=ws, code_verifier=Secret(verifier))


async def purge_oauth_states(tx: Transaction) -> int:
    """Delete authorize requests that expired more than a day ago; return how many."""
    return await tx.execute("oauth_state_purge")
