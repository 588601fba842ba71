"""Storage of the messages of email sessions, and of the outgoing-mail outbox."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sfbridge.store.db import Json, Row, Transaction


class DeliveryStatus(enum.StrEnum):
    """Whether an outgoing message reached the relay."""

    NONE = "none"  #: not an outgoing mail (inbound, or a rep's own Salesforce email)
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, kw_only=True, slots=True)
class EmailMessage:
    """One message of a session."""

    id: int
    workspace_id: str
    session_id: str
    inbound_id: int | None
    direction: str  #: ``in`` or ``out``
    author_kind: str  #: contact, agent, rep, system
    author_name: str
    author_address: str
    sent_at: dt.datetime
    subject: str
    text: str
    message_id_header: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    attachments: tuple[Mapping[str, Any], ...]
    sf_record_id: str | None
    sf_comment_id: str | None
    push_started_at: dt.datetime | None
    delivery_status: DeliveryStatus
    delivery_error: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class NewMessage:
    """A message to store."""

    session_id: str
    direction: str
    author_kind: str
    author_name: str = ""
    author_address: str = ""
    sent_at: dt.datetime | None = None
    subject: str = ""
    text: str = ""
    raw_mime: bytes | None = None
    message_id_header: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    attachments: tuple[Mapping[str, Any], ...] = ()
    sf_record_id: str | None = None
    inbound_id: int | None = None
    delivery_status: DeliveryStatus = DeliveryStatus.NONE


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxRow:
    """One outgoing mail, rendered once (stable Message-ID and bytes across retries)."""

    id: int
    workspace_id: str
    message_id: int
    mail_from: str
    to: tuple[str, ...]
    message_id_header: str
    raw: bytes
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None


def message_from_row(row: Row) -> EmailMessage:
    """Build a message from a row of ``email_messages``."""
    return EmailMessage(
        id=row["id"],
        workspace_id=row["workspace_id"],
        session_id=row["session_id"],
        inbound_id=row["inbound_id"],
        direction=row["direction"],
        author_kind=row["author_kind"],
        author_name=row["author_name"],
        author_address=row["author_address"],
        sent_at=row["sent_at"],
        subject=row["subject"],
        text=row["text"],
        message_id_header=row["message_id_header"],
        in_reply_to=row["in_reply_to"],
        references=tuple(row["references"] or ()),
        attachments=tuple(row["attachments"] or ()),
        sf_record_id=row["sf_record_id"],
        sf_comment_id=row["sf_comment_id"],
        push_started_at=row["push_started_at"],
        delivery_status=DeliveryStatus(row["delivery_status"]),
        delivery_error=row["delivery_error"],
    )


async def insert(tx: Transaction, workspace_id: str, new: NewMessage) -> EmailMessage | None:
    """Store a message; ``None`` when its ``sf_record_id`` is already stored (a duplicate)."""
    row = await tx.fetch_one(
        "email_message_insert",
        {
            "workspace_id": workspace_id,
            "session_id": new.session_id,
            "inbound_id": new.inbound_id,
            "direction": new.direction,
            "author_kind": new.author_kind,
            "author_name": new.author_name,
            "author_address": new.author_address,
            "sent_at": new.sent_at,
            "subject": new.subject,
            "text": new.text,
            "raw_mime": new.raw_mime,
            "message_id_header": new.message_id_header,
            "in_reply_to": new.in_reply_to,
            "references": list(new.references),
            "attachments": Json([dict(a) for a in new.attachments]),
            "sf_record_id": new.sf_record_id,
            "delivery_status": new.delivery_status.value,
        },
    )
    return None if row is None else message_from_row(row)


async def list_for(tx: Transaction, workspace_id: str, session_id: str) -> list[EmailMessage]:
    """The session's messages in conversation order."""
    rows = await tx.fetch_all(
        "email_message_list", {"workspace_id": workspace_id, "session_id": session_id}
    )
    return [message_from_row(r) for r in rows]


async def get(tx: Transaction, workspace_id: str, message_id: int) -> EmailMessage | None:
    """Return one message, or ``None``."""
    row = await tx.fetch_one(
        "email_message_get", {"workspace_id": workspace_id, "message_id": message_id}
    )
    return None if row is None else message_from_row(row)


async def last_inbound(tx: Transaction, workspace_id: str, session_id: str) -> EmailMessage | None:
    """The contact's latest message in the session."""
    row = await tx.fetch_one(
        "email_message_last_inbound", {"workspace_id": workspace_id, "session_id": session_id}
    )
    return None if row is None else message_from_row(row)


async def thread_ids(tx: Transaction, workspace_id: str, session_id: str) -> list[str]:
    """Every Message-ID of the session, oldest first (the References chain)."""
    rows = await tx.fetch_all(
        "email_message_thread_ids", {"workspace_id": workspace_id, "session_id": session_id}
    )
    return [str(r["message_id_header"]) for r in rows]


async def start_push(tx: Transaction, workspace_id: str, message_id: int) -> EmailMessage | None:
    """Record "comment push started" (first time only) before writing to Salesforce."""
    row = await tx.fetch_one(
        "email_message_start_push", {"workspace_id": workspace_id, "message_id": message_id}
    )
    return None if row is None else message_from_row(row)


async def set_comment(
    tx: Transaction, workspace_id: str, message_ids: Sequence[int], comment_id: str
) -> None:
    """Record the CaseComment that carries these messages (first one wins)."""
    await tx.execute(
        "email_message_set_comment",
        {"workspace_id": workspace_id, "message_ids": list(message_ids), "comment_id": comment_id},
    )


async def set_delivery(
    tx: Transaction,
    workspace_id: str,
    message_id: int,
    *,
    status: DeliveryStatus,
    error: str | None = None,
) -> None:
    """Show the delivery state of an outgoing message."""
    await tx.execute(
        "email_message_set_delivery",
        {
            "workspace_id": workspace_id,
            "message_id": message_id,
            "status": status.value,
            "error": error,
        },
    )


async def outbox_insert(
    tx: Transaction,
    workspace_id: str,
    *,
    message_id: int,
    mail_from: str,
    to: Sequence[str],
    message_id_header: str,
    raw: bytes,
) -> int:
    """Queue a rendered mail for sending; return the outbox id."""
    value = await tx.fetch_value(
        "email_outbox_insert",
        {
            "workspace_id": workspace_id,
            "message_id": message_id,
            "mail_from": mail_from,
            "to": list(to),
            "message_id_header": message_id_header,
            "raw": raw,
        },
    )
    return int(value)


async def outbox_get_for_update(
    tx: Transaction, workspace_id: str, outbox_id: int
) -> OutboxRow | None:
    """Return the outbox row locked for this transaction, or ``None``."""
    r = await tx.fetch_one(
        "email_outbox_get_for_update", {"workspace_id": workspace_id, "outbox_id": outbox_id}
    )
    if r is None:
        return None
    return OutboxRow(
        id=r["id"],
        workspace_id=r["workspace_id"],
        message_id=r["message_id"],
        mail_from=r["mail_from"],
        to=tuple(r["to"]),
        message_id_header=r["message_id_header"],
        raw=bytes(r["raw"]),
        status=r["status"],
        attempts=r["attempts"],
        last_error=r["last_error"],
        next_attempt_at=r["next_attempt_at"],
        sent_at=r["sent_at"],
    )


async def outbox_attempt(
    tx: Transaction,
    workspace_id: str,
    outbox_id: int,
    *,
    status: str,
    error: str | None,
    next_attempt_at: dt.datetime | None,
    transport: str | None,
) -> int:
    """Record one send attempt; return the attempts so far."""
    value = await tx.fetch_value(
        "email_outbox_attempt",
        {
            "workspace_id": workspace_id,
            "outbox_id": outbox_id,
            "status": status,
            "error": error,
            "next_attempt_at": next_attempt_at,
            "transport": transport,
        },
    )
    return int(value)


async def outbox_list(tx: Transaction, workspace_id: str, *, limit: int = 50) -> list[Row]:
    """The newest outbox rows (without their bytes)."""
    return await tx.fetch_all("email_outbox_list", {"workspace_id": workspace_id, "limit": limit})
