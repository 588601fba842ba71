"""Storage of received mail (the inbound inbox) and of the dev mailbox."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sfbridge.store.db import Row, Transaction


class InboundStatus(enum.StrEnum):
    """What became of a received mail."""

    RECEIVED = "received"  #: stored, not processed yet
    PROCESSED = "processed"  #: put in a session
    IGNORED = "ignored"  #: automated, flooding or unusable (``reason`` says which)
    FAILED = "failed"  #: the processing failed for good


@dataclass(frozen=True, kw_only=True, slots=True)
class InboundMail:
    """One received message, as it came in."""

    id: int
    workspace_id: str
    mail_from: str
    rcpt: str
    raw: bytes
    source: str
    received_at: dt.datetime
    status: InboundStatus
    reason: str | None
    parse_error: str | None
    session_id: str | None
    sender: str


@dataclass(frozen=True, kw_only=True, slots=True)
class DevMail:
    """A message kept in the dev mailbox (no SMTP relay configured)."""

    id: int
    at: dt.datetime
    envelope_from: str
    to: tuple[str, ...]
    subject: str
    raw: bytes


def digest(raw: bytes) -> str:
    """SHA-256 of the raw bytes: the same for a sender's retry of one transaction."""
    return hashlib.sha256(raw).hexdigest()


def _inbound(row: Row) -> InboundMail:
    return InboundMail(
        id=row["id"],
        workspace_id=row["workspace_id"],
        mail_from=row["mail_from"],
        rcpt=row["rcpt"],
        raw=bytes(row["raw"]),
        source=row["source"],
        received_at=row["received_at"],
        status=InboundStatus(row["status"]),
        reason=row["reason"],
        parse_error=row["parse_error"],
        session_id=row["session_id"],
        sender=row["sender"],
    )


async def insert(
    tx: Transaction,
    workspace_id: str,
    *,
    mail_from: str,
    rcpt: str,
    raw: bytes,
    source: str,
    sender: str,
) -> tuple[int, bool]:
    """Store a received message; return ``(id, is_new)``.

    The same bytes received twice for one workspace (an SMTP sender retrying after a
    temporary failure) are stored once: the second call returns the first id and False.
    """
    params = {
        "workspace_id": workspace_id,
        "mail_from": mail_from,
        "rcpt": rcpt,
        "raw": raw,
        "digest": digest(raw),
        "source": source,
        "sender": sender.lower(),
    }
    new_id = await tx.fetch_value("email_inbound_insert", params)
    if new_id is not None:
        return int(new_id), True
    existing = await tx.fetch_value(
        "email_inbound_find_digest", {"workspace_id": workspace_id, "digest": params["digest"]}
    )
    return int(existing), False


async def get(tx: Transaction, workspace_id: str, inbound_id: int) -> InboundMail | None:
    """Return the received message, or ``None``."""
    row = await tx.fetch_one(
        "email_inbound_get", {"workspace_id": workspace_id, "inbound_id": inbound_id}
    )
    return None if row is None else _inbound(row)


async def mark(
    tx: Transaction,
    workspace_id: str,
    inbound_id: int,
    *,
    status: InboundStatus,
    reason: str | None = None,
    parse_error: str | None = None,
    session_id: str | None = None,
) -> None:
    """Record what became of a received message."""
    await tx.execute(
        "email_inbound_mark",
        {
            "workspace_id": workspace_id,
            "inbound_id": inbound_id,
            "status": status.value,
            "reason": reason,
            "parse_error": parse_error,
            "session_id": session_id,
        },
    )


async def recent_times(
    tx: Transaction,
    workspace_id: str,
    *,
    sender: str,
    exclude_id: int,
    since: dt.datetime,
    until: dt.datetime,
) -> list[dt.datetime]:
    """When this sender's other mails arrived between ``since`` and ``until``."""
    rows = await tx.fetch_all(
        "email_inbound_recent_times",
        {
            "workspace_id": workspace_id,
            "sender": sender.lower(),
            "inbound_id": exclude_id,
            "since": since,
            "until": until,
        },
    )
    return [r["received_at"] for r in rows]


async def list_recent(tx: Transaction, workspace_id: str, *, limit: int = 50) -> list[Row]:
    """The newest received messages (without their bytes), newest first."""
    return await tx.fetch_all("email_inbound_list", {"workspace_id": workspace_id, "limit": limit})


async def dev_mailbox_store(
    tx: Transaction,
    workspace_id: str,
    *,
    envelope_from: str,
    to: Sequence[str],
    subject: str,
    raw: bytes,
) -> int:
    """Keep an outgoing message in the dev mailbox; return its id."""
    value = await tx.fetch_value(
        "email_dev_mailbox_insert",
        {
            "workspace_id": workspace_id,
            "envelope_from": envelope_from,
            "to": list(to),
            "subject": subject,
            "raw": raw,
        },
    )
    return int(value)


async def dev_mailbox_list(tx: Transaction, workspace_id: str, *, limit: int = 50) -> list[DevMail]:
    """The dev mailbox, newest first."""
    rows = await tx.fetch_all(
        "email_dev_mailbox_list", {"workspace_id": workspace_id, "limit": limit}
    )
    return [
        DevMail(
            id=r["id"],
            at=r["at"],
            envelope_from=r["envelope_from"],
            to=tuple(r["to"]),
            subject=r["subject"],
            raw=bytes(r["raw"]),
        )
        for r in rows
    ]
