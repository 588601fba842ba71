"""Storage of email sessions: one email conversation with one contact."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sfbridge.store.db import Row, Transaction


class SessionStatus(enum.StrEnum):
    """Where a conversation stands."""

    OPEN = "open"  #: the AI agent / platform handles it
    HANDED_OFF = "handed_off"  #: a Case is open in Salesforce; a rep handles it
    RESOLVED = "resolved"  #: the Case was closed


@dataclass(frozen=True, kw_only=True, slots=True)
class EmailSession:
    """An email conversation with one contact."""

    id: str
    workspace_id: str
    contact_address: str
    contact_name: str
    subject: str
    normalized_subject: str
    thread_token: str
    thread_index: str | None
    status: SessionStatus
    case_id: str | None
    case_number: str | None
    case_closed: bool
    handoff_reason: str | None
    handoff_topic: str | None
    handoff_summary: str | None
    handoff_requested_at: dt.datetime | None
    handoff_started_at: dt.datetime | None
    handoff_upto: int | None
    handoff_error: str | None
    resolved_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    last_activity_at: dt.datetime
    sf_cursor: dt.datetime | None


def session_from_row(row: Row) -> EmailSession:
    """Build a session from a row of ``email_sessions`` (extra columns are ignored)."""
    names = EmailSession.__dataclass_fields__
    values = {k: v for k, v in row.items() if k in names}
    values["status"] = SessionStatus(row["status"])
    return EmailSession(**values)


def new_session_id() -> str:
    """A fresh session id (the Case's external id, so it is chosen before any write)."""
    return str(uuid.uuid4())


async def create(
    tx: Transaction,
    workspace_id: str,
    *,
    session_id: str,
    contact_address: str,
    contact_name: str,
    subject: str,
    normalized_subject: str,
    thread_token: str,
    thread_index: str | None,
) -> EmailSession:
    """Create a session."""
    row = await tx.fetch_one(
        "email_session_create",
        {
            "id": session_id,
            "workspace_id": workspace_id,
            "contact_address": contact_address,
            "contact_name": contact_name,
            "subject": subject,
            "normalized_subject": normalized_subject,
            "thread_token": thread_token,
            "thread_index": thread_index,
        },
    )
    assert row is not None  # INSERT ... RETURNING
    return session_from_row(row)


async def get(
    tx: Transaction, workspace_id: str, session_id: str, *, for_update: bool = False
) -> EmailSession | None:
    """Return the session (locked for this transaction with ``for_update``), or ``None``."""
    name = "email_session_get_for_update" if for_update else "email_session_get"
    row = await tx.fetch_one(name, {"workspace_id": workspace_id, "session_id": session_id})
    return None if row is None else session_from_row(row)


async def list_page(
    tx: Transaction,
    workspace_id: str,
    *,
    status: SessionStatus | None = None,
    contact: str | None = None,
    before: tuple[dt.datetime, str] | None = None,
    limit: int = 50,
) -> list[EmailSession]:
    """Sessions, most recently updated first; ``before`` is the last (updated_at, id) seen."""
    rows = await tx.fetch_all(
        "email_session_list",
        {
            "workspace_id": workspace_id,
            "status": status.value if status else None,
            "contact": contact,
            "before_updated": before[0] if before else None,
            "before_id": before[1] if before else None,
            "limit": limit,
        },
    )
    return [session_from_row(r) for r in rows]


async def by_message_ids(
    tx: Transaction, workspace_id: str, message_ids: Sequence[str]
) -> dict[str, EmailSession]:
    """The sessions holding messages with these Message-IDs, keyed by id."""
    if not message_ids:
        return {}
    rows = await tx.fetch_all(
        "email_session_by_message_ids",
        {"workspace_id": workspace_id, "message_ids": list(message_ids)},
    )
    return {r["message_id_header"]: session_from_row(r) for r in rows}


async def by_tokens(
    tx: Transaction, workspace_id: str, tokens: Sequence[str]
) -> dict[str, EmailSession]:
    """The sessions carrying these thread tokens, keyed by token."""
    if not tokens:
        return {}
    rows = await tx.fetch_all(
        "email_session_by_tokens", {"workspace_id": workspace_id, "tokens": list(tokens)}
    )
    return {r["thread_token"]: session_from_row(r) for r in rows}


async def by_thread_index(
    tx: Transaction, workspace_id: str, thread_index: str
) -> EmailSession | None:
    """The newest session of an Outlook conversation key."""
    row = await tx.fetch_one(
        "email_session_by_thread_index",
        {"workspace_id": workspace_id, "thread_index": thread_index},
    )
    return None if row is None else session_from_row(row)


async def recent_from_sender(
    tx: Transaction,
    workspace_id: str,
    *,
    contact_address: str,
    normalized_subject: str,
    since: dt.datetime,
) -> list[EmailSession]:
    """This sender's sessions with the same subject key, active since ``since``."""
    rows = await tx.fetch_all(
        "email_session_recent_from_sender",
        {
            "workspace_id": workspace_id,
            "contact_address": contact_address,
            "normalized_subject": normalized_subject,
            "since": since,
        },
    )
    return [session_from_row(r) for r in rows]


async def open_case_of_contact(
    tx: Transaction, workspace_id: str, contact_address: str
) -> EmailSession | None:
    """The contact's newest handed-off session whose Case is still open."""
    row = await tx.fetch_one(
        "email_session_open_case_of_contact",
        {"workspace_id": workspace_id, "contact_address": contact_address},
    )
    return None if row is None else session_from_row(row)


async def by_case(tx: Transaction, workspace_id: str, case_id: str) -> EmailSession | None:
    """The session of a Case, or ``None``."""
    row = await tx.fetch_one(
        "email_session_by_case", {"workspace_id": workspace_id, "case_id": case_id}
    )
    return None if row is None else session_from_row(row)


async def handed_off(tx: Transaction, workspace_id: str) -> list[EmailSession]:
    """Every handed-off session with a Case (the reconciliation's work list)."""
    rows = await tx.fetch_all("email_session_handed_off_list", {"workspace_id": workspace_id})
    return [session_from_row(r) for r in rows]


async def resolved_since(
    tx: Transaction, workspace_id: str, since: dt.datetime
) -> list[EmailSession]:
    """Sessions with a Case resolved after ``since`` (watched for a reopening)."""
    rows = await tx.fetch_all(
        "email_session_resolved_since", {"workspace_id": workspace_id, "since": since}
    )
    return [session_from_row(r) for r in rows]


async def workspaces_to_reconcile(tx: Transaction, *, resolved_since: dt.datetime) -> list[str]:
    """Workspaces with a handed-off session, or one resolved after ``resolved_since``."""
    rows = await tx.fetch_all("email_workspaces_to_reconcile", {"resolved_since": resolved_since})
    return [str(r["workspace_id"]) for r in rows]


async def touch(tx: Transaction, workspace_id: str, session_id: str) -> None:
    """Record activity on the session now."""
    await tx.execute(
        "email_session_touch", {"workspace_id": workspace_id, "session_id": session_id}
    )


async def request_handoff(
    tx: Transaction,
    workspace_id: str,
    session_id: str,
    *,
    reason: str,
    topic: str | None,
    summary: str | None,
) -> EmailSession | None:
    """Record that a handoff was asked for (topic/summary kept unless given anew)."""
    row = await tx.fetch_one(
        "email_session_request_handoff",
        {
            "workspace_id": workspace_id,
            "session_id": session_id,
            "reason": reason,
            "topic": topic,
            "summary": summary,
        },
    )
    return None if row is None else session_from_row(row)


async def start_handoff(
    tx: Transaction, workspace_id: str, session_id: str, *, upto: int | None
) -> EmailSession:
    """Record "handoff attempt started" (first time only) and the transcript's last message."""
    row = await tx.fetch_one(
        "email_session_start_handoff",
        {"workspace_id": workspace_id, "session_id": session_id, "upto": upto},
    )
    assert row is not None  # the caller holds the session
    return session_from_row(row)


async def mark_handed_off(
    tx: Transaction, workspace_id: str, session_id: str, *, case_id: str, case_number: str | None
) -> None:
    """Store the Case on the session and mark it handed off."""
    await tx.execute(
        "email_session_handed_off",
        {
            "workspace_id": workspace_id,
            "session_id": session_id,
            "case_id": case_id,
            "case_number": case_number,
        },
    )


async def set_handoff_error(
    tx: Transaction, workspace_id: str, session_id: str, error: str | None
) -> None:
    """Show why the handoff has not happened yet (``None`` clears it)."""
    await tx.execute(
        "email_session_handoff_error",
        {"workspace_id": workspace_id, "session_id": session_id, "error": error},
    )


async def set_case_state(
    tx: Transaction,
    workspace_id: str,
    session_id: str,
    *,
    closed: bool,
    case_number: str | None,
    cursor: dt.datetime | None,
) -> None:
    """Follow the Case: closed -> resolved, open -> handed off; move the cursor forward."""
    await tx.execute(
        "email_session_case_state",
        {
            "workspace_id": workspace_id,
            "session_id": session_id,
            "closed": closed,
            "case_number": case_number,
            "cursor": cursor,
        },
    )


async def reopen(tx: Transaction, workspace_id: str, session_id: str) -> None:
    """Put a resolved session back to handed off (its Case was reopened by us)."""
    await tx.execute(
        "email_session_reopen", {"workspace_id": workspace_id, "session_id": session_id}
    )
