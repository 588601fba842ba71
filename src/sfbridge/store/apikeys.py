"""Storage of API keys: shown once as ``sfb_<prefix>_<secret>``, kept only as a SHA-256 hash.

A ``workspace`` key reaches one workspace; an ``admin`` key belongs to none and may
create workspaces. :func:`authenticate` turns a presented key into the key's record.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sfbridge.settings import Secret
from sfbridge.store.db import Row, Transaction

_TOKEN = re.compile(r"^sfb_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


class Scope(enum.StrEnum):
    """What a key may reach."""

    ADMIN = "admin"  #: every workspace; may create workspaces
    WORKSPACE = "workspace"  #: one workspace


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiKey:
    """A stored key (never its secret)."""

    id: str
    workspace_id: str | None
    scope: Scope
    prefix: str
    label: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class NewApiKey:
    """A key just created: ``token`` is the only time the full key is available."""

    key: ApiKey
    token: Secret


def hash_token(token: str) -> str:
    """Return the SHA-256 (hex) stored for a key."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_token(token: str) -> str | None:
    """Return the prefix of a well-formed key, or ``None``."""
    match = _TOKEN.match(token.strip())
    return match.group(1) if match else None


def _key(row: Row) -> ApiKey:
    return ApiKey(
        id=row["id"],
        workspace_id=row["workspace_id"],
        scope=Scope(row["scope"]),
        prefix=row["prefix"],
        label=row["label"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


async def _create(tx: Transaction, workspace_id: str | None, scope: Scope, label: str) -> NewApiKey:
    prefix = secrets.token_hex(6)
    token = f"sfb_{prefix}_{secrets.token_urlsafe(32)}"
    row = await tx.fetch_required(
        "apikey_create",
        {
            "workspace_id": workspace_id,
            "scope": scope.value,
            "prefix": prefix,
            "key_hash": hash_token(token),
            "label": label,
        },
    )
    return NewApiKey(key=_key(row), token=Secret(token))


async def create_workspace_key(tx: Transaction, workspace_id: str, *, label: str = "") -> NewApiKey:
    """Create a key for one workspace.

    Raises:
        MissingReference: The workspace does not exist.
    """
    return await _create(tx, workspace_id, Scope.WORKSPACE, label)


async def create_admin_key(tx: Transaction, *, label: str = "") -> NewApiKey:
    """Create an admin key (all workspaces)."""
    return await _create(tx, None, Scope.ADMIN, label)


async def authenticate(tx: Transaction, token: str) -> ApiKey | None:
    """Return the live key matching ``token``, or ``None`` (unknown, malformed or revoked).

    The hash comparison is constant-time; use is recorded (at most once a minute).
    """
    prefix = parse_token(token)
    if prefix is None:
        return None
    row = await tx.fetch_one("apikey_find_by_prefix", {"prefix": prefix})
    if row is None or not hmac.compare_digest(row["key_hash"], hash_token(token.strip())):
        return None
    if row["revoked_at"] is not None:
        return None
    await tx.execute("apikey_touch", {"key_id": row["id"]})
    return _key(row)


async def list_keys(tx: Transaction, workspace_id: str) -> list[ApiKey]:
    """Return the workspace's keys (revoked ones included), oldest first."""
    return [_key(r) for r in await tx.fetch_all("apikey_list", {"workspace_id": workspace_id})]


async def revoke(tx: Transaction, workspace_id: str, key_id: str) -> bool:
    """Revoke one of the workspace's keys; False if there is no such live key."""
    changed = await tx.execute("apikey_revoke", {"workspace_id": workspace_id, "key_id": key_id})
    return changed == 1


async def list_admin_keys(tx: Transaction) -> list[ApiKey]:
    """Return the admin keys, oldest first."""
    return [_key(r) for r in await tx.fetch_all("apikey_list_admin")]


async def revoke_admin_key(tx: Transaction, key_id: str) -> bool:
    """Revoke an admin key; False if there is no such live admin key."""
    return await tx.execute("apikey_revoke_admin", {"key_id": key_id}) == 1
