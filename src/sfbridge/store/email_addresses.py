"""Storage of the recipient addresses that route mail to a workspace, and its email state."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sfbridge.store.db import Json, Transaction


@dataclass(frozen=True, kw_only=True, slots=True)
class MailAddress:
    """A recipient address owned by a workspace (stored lower-case)."""

    address: str
    workspace_id: str
    created_at: dt.datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class EmailState:
    """Per-workspace email state: the thread-token key and the cached Case field names."""

    workspace_id: str
    thread_secret: bytes
    case_fields: tuple[str, ...] | None  #: ``None`` until Case was described once
    described_at: dt.datetime | None


async def resolve(tx: Transaction, address: str) -> str | None:
    """Return the workspace owning ``address`` (case-insensitive), or ``None``.

    This query finds the workspace; it is the only one here not filtered by workspace.
    """
    value = await tx.fetch_value("email_address_resolve", {"address": address.strip()})
    return None if value is None else str(value)


async def add(tx: Transaction, workspace_id: str, address: str) -> MailAddress:
    """Route ``address`` to the workspace.

    Raises:
        DuplicateRow: the address already belongs to a workspace.
        InvalidRow: the address is not an address.
    """
    row = await tx.fetch_one(
        "email_address_add", {"workspace_id": workspace_id, "address": address.strip()}
    )
    assert row is not None  # INSERT ... RETURNING
    return MailAddress(**row)


async def remove(tx: Transaction, workspace_id: str, address: str) -> bool:
    """Stop routing ``address`` to the workspace; False when it was not the workspace's."""
    params = {"workspace_id": workspace_id, "address": address.strip()}
    return await tx.execute("email_address_remove", params) == 1


async def list_for(tx: Transaction, workspace_id: str) -> list[MailAddress]:
    """The workspace's addresses, oldest first (the first is its support address)."""
    rows = await tx.fetch_all("email_address_list", {"workspace_id": workspace_id})
    return [MailAddress(**r) for r in rows]


async def state(tx: Transaction, workspace_id: str) -> EmailState:
    """Return the workspace's email state, creating it (with a new token key) on first use."""
    row = await tx.fetch_one(
        "email_state_ensure", {"workspace_id": workspace_id, "secret": secrets.token_bytes(32)}
    )
    assert row is not None  # INSERT ... ON CONFLICT DO UPDATE ... RETURNING
    fields = row["case_fields"]
    return EmailState(
        workspace_id=row["workspace_id"],
        thread_secret=bytes(row["thread_secret"]),
        case_fields=tuple(str(f) for f in fields) if isinstance(fields, list) else None,
        described_at=row["described_at"],
    )


async def set_case_fields(tx: Transaction, workspace_id: str, fields: Sequence[str]) -> None:
    """Cache the Case field names (from one describe)."""
    await tx.execute(
        "email_state_set_case_fields",
        {"workspace_id": workspace_id, "case_fields": Json(sorted(fields))},
    )
