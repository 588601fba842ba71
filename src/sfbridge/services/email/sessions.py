"""The email-cases operations the API and admin pages call."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sfbridge import jobs
from sfbridge.core.mailparse import parse_message
from sfbridge.core.transcript import AuthorKind
from sfbridge.errors import DuplicateRow, InvalidRow
from sfbridge.services.email import jobnames
from sfbridge.services.email.errors import (
    AddressNotFound,
    AddressTaken,
    InvalidMail,
    InvalidSettings,
    MailTooLarge,
    SessionNotFound,
    SessionResolved,
)
from sfbridge.services.email.handoff_trigger import HandoffQueued, request_handoff
from sfbridge.services.email.intake import load_settings, store_inbound
from sfbridge.services.email.replies import queue_message
from sfbridge.services.email.runtime import EmailRuntime
from sfbridge.services.email.settings import SETTINGS_KEY, EmailSettings
from sfbridge.store import email_addresses, email_inbound, email_messages, email_sessions
from sfbridge.store import workspaces as workspace_store
from sfbridge.store.db import Database, Row
from sfbridge.store.email_addresses import MailAddress
from sfbridge.store.email_inbound import DevMail
from sfbridge.store.email_messages import EmailMessage
from sfbridge.store.email_sessions import EmailSession, SessionStatus

#: Largest raw message the HTTP inbound endpoint takes.
MAX_HTTP_MAIL_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionDetail:
    """A session and its messages."""

    session: EmailSession
    messages: tuple[EmailMessage, ...]


async def list_addresses(db: Database, workspace_id: str) -> list[MailAddress]:
    """The workspace's recipient addresses (the first is the support address)."""
    async with db.transaction() as tx:
        return await email_addresses.list_for(tx, workspace_id)


async def add_address(db: Database, workspace_id: str, address: str) -> MailAddress:
    """Route mail for ``address`` to the workspace.

    Raises:
        AddressTaken: another (or this) workspace already has it.
    """
    try:
        async with db.transaction() as tx:
            return await email_addresses.add(tx, workspace_id, address)
    except DuplicateRow as exc:
        raise AddressTaken() from exc
    except InvalidRow as exc:
        raise InvalidSettings(f"{address!r} is not an email address.") from exc


async def remove_address(db: Database, workspace_id: str, address: str) -> None:
    """Stop routing ``address`` to the workspace.

    Raises:
        AddressNotFound: the workspace does not have it.
    """
    async with db.transaction() as tx:
        if not await email_addresses.remove(tx, workspace_id, address):
            raise AddressNotFound()


async def get_settings(db: Database, workspace_id: str) -> EmailSettings:
    """The workspace's email settings (defaults when none are saved)."""
    async with db.transaction() as tx:
        return await load_settings(tx, workspace_id)


async def put_settings(db: Database, workspace_id: str, settings: EmailSettings) -> EmailSettings:
    """Replace the workspace's email settings."""
    async with db.transaction() as tx:
        await workspace_store.merge_settings(
            tx, workspace_id, {SETTINGS_KEY: settings.model_dump(mode="json")}
        )
        await tx.execute("email_state_forget_case_fields", {"workspace_id": workspace_id})
    return settings


async def list_sessions(
    db: Database,
    workspace_id: str,
    *,
    status: SessionStatus | None = None,
    contact: str | None = None,
    before: tuple[dt.datetime, str] | None = None,
    limit: int = 50,
) -> list[EmailSession]:
    """A page of sessions, most recently updated first."""
    async with db.transaction() as tx:
        return await email_sessions.list_page(
            tx, workspace_id, status=status, contact=contact, before=before, limit=limit
        )


async def get_session(db: Database, workspace_id: str, session_id: str) -> SessionDetail:
    """One session with its messages.

    Raises:
        SessionNotFound: no such session in this workspace.
    """
    async with db.transaction() as tx:
        session = await email_sessions.get(tx, workspace_id, session_id)
        if session is None:
            raise SessionNotFound()
        messages = await email_messages.list_for(tx, workspace_id, session_id)
    return SessionDetail(session=session, messages=tuple(messages))


async def post_agent_message(
    rt: EmailRuntime, workspace_id: str, session_id: str, *, text: str, author_name: str = ""
) -> EmailMessage:
    """Record the AI agent's (or platform's) reply and email it to the contact.

    While the session is handed off, the message is also appended to the Case.

    Raises:
        SessionNotFound: no such session.
        SessionResolved: the session is resolved.
        NoSupportAddress: the workspace has no address to send from.
    """
    async with rt.db.transaction() as tx:
        session = await email_sessions.get(tx, workspace_id, session_id, for_update=True)
        if session is None:
            raise SessionNotFound()
        if session.status == SessionStatus.RESOLVED:
            raise SessionResolved()
        settings = await load_settings(tx, workspace_id)
        message = await queue_message(
            rt,
            tx,
            session,
            author_kind=AuthorKind.AGENT,
            author_name=author_name,
            text=text,
            settings=settings,
        )
        assert message is not None  # no Salesforce record id: never a duplicate
        await email_sessions.touch(tx, workspace_id, session_id)
        if session.case_id and session.status == SessionStatus.HANDED_OFF:
            await jobs.defer(
                rt.jobs,
                jobnames.PUSH_MESSAGE,
                tx=tx,
                lock=jobnames.session_lock(workspace_id, session_id),
                workspace_id=workspace_id,
                message_id=message.id,
            )
    return message


async def escalate(
    rt: EmailRuntime,
    workspace_id: str,
    session_id: str,
    *,
    topic: str | None = None,
    summary: str | None = None,
) -> HandoffQueued | None:
    """Hand the session off to a human now (or at opening time); ``None`` if already done.

    Raises:
        SessionNotFound: no such session.
        SessionResolved: the session is resolved.
    """
    async with rt.db.transaction() as tx:
        session = await email_sessions.get(tx, workspace_id, session_id, for_update=True)
        if session is None:
            raise SessionNotFound()
        if session.status == SessionStatus.RESOLVED:
            raise SessionResolved()
        if session.case_id:
            return None
        settings = await load_settings(tx, workspace_id)
        return await request_handoff(
            rt, tx, session, reason="api", topic=topic, summary=summary, settings=settings
        )


async def accept_http_mail(rt: EmailRuntime, workspace_id: str, raw: bytes) -> tuple[int, bool]:
    """The HTTP inbound endpoint: check the bytes look like mail, store, queue.

    Raises:
        MailTooLarge: over :data:`MAX_HTTP_MAIL_BYTES`.
        InvalidMail: no header section or no From address.
    """
    if len(raw) > MAX_HTTP_MAIL_BYTES:
        raise MailTooLarge(f"The message is larger than {MAX_HTTP_MAIL_BYTES} bytes.")
    if not raw.strip():
        raise InvalidMail("The body is empty; send the raw RFC 822 message.")
    parsed = parse_message(raw)
    if parsed.parse_error is not None and not parsed.from_address:
        raise InvalidMail(f"This is not an email message: {parsed.parse_error}.")
    rcpt = ",".join(parsed.to)
    return await store_inbound(
        rt, workspace_id, raw, mail_from=parsed.from_address, rcpt=rcpt, source="http"
    )


async def dev_mailbox(db: Database, workspace_id: str, *, limit: int = 50) -> list[DevMail]:
    """The dev mailbox (outgoing mail kept because no SMTP relay is configured)."""
    async with db.transaction() as tx:
        return await email_inbound.dev_mailbox_list(tx, workspace_id, limit=limit)


async def inbound_log(db: Database, workspace_id: str, *, limit: int = 50) -> list[Row]:
    """Received mail (without bytes), newest first, with status, reason and parse error."""
    async with db.transaction() as tx:
        return await email_inbound.list_recent(tx, workspace_id, limit=limit)
