"""Inbound mail: accept it durably (SMTP or HTTP), then process it in a job.

Accepting stores the raw bytes and queues ``process_inbound_mail`` in ONE transaction
(transactional outbox), so an answered 250 / 202 is never lost. Processing parses, drops
automated mail and floods, threads the mail into a session, strips quoted history, stores
the message, then appends it to an open Case or checks the handoff triggers.
"""

from __future__ import annotations

import datetime as dt
import logging

from sfbridge import jobs
from sfbridge.core import subjects
from sfbridge.core.loops import classify_automated
from sfbridge.core.mailparse import ParsedEmail, parse_message
from sfbridge.core.quotes import strip_quoted
from sfbridge.core.threading import (
    CandidateSession,
    ThreadCandidates,
    ThreadDecision,
    choose_thread,
    make_thread_token,
    thread_keys,
)
from sfbridge.core.transcript import AuthorKind
from sfbridge.mail.inbound import InboundEnvelope
from sfbridge.services.email import jobnames
from sfbridge.services.email.handoff_trigger import maybe_trigger_handoff
from sfbridge.services.email.runtime import EmailRuntime
from sfbridge.services.email.settings import EmailSettings, from_workspace_settings
from sfbridge.store import email_addresses, email_inbound, email_messages, email_sessions
from sfbridge.store import workspaces as workspace_store
from sfbridge.store.db import Database, Transaction
from sfbridge.store.email_inbound import InboundStatus
from sfbridge.store.email_messages import NewMessage
from sfbridge.store.email_sessions import EmailSession, SessionStatus

log = logging.getLogger(__name__)


async def resolve_recipient(db: Database, address: str) -> str | None:
    """The SMTP listener's recipient check: the workspace owning ``address``, or ``None``."""
    async with db.transaction() as tx:
        return await email_addresses.resolve(tx, address)


def _sender_of(raw: bytes, fallback: str) -> str:
    parsed = parse_message(raw)
    return (parsed.from_address or fallback or "").lower()


async def store_inbound(
    rt: EmailRuntime,
    workspace_id: str,
    raw: bytes,
    *,
    mail_from: str,
    rcpt: str,
    source: str,
) -> tuple[int, bool]:
    """Store a received message and queue its processing in one transaction.

    Returns:
        ``(inbound id, is_new)``; a byte-identical copy returns the first id and False.
    """
    sender = _sender_of(raw, mail_from)
    async with rt.db.transaction() as tx:
        inbound_id, is_new = await email_inbound.insert(
            tx, workspace_id, mail_from=mail_from, rcpt=rcpt, raw=raw, source=source, sender=sender
        )
        if is_new:
            await jobs.defer(
                rt.jobs,
                jobnames.PROCESS_INBOUND,
                tx=tx,
                lock=jobnames.sender_lock(workspace_id, sender or f"#{inbound_id}"),
                workspace_id=workspace_id,
                inbound_id=inbound_id,
            )
    return inbound_id, is_new


async def accept_envelope(rt: EmailRuntime, envelope: InboundEnvelope) -> str:
    """The SMTP listener's accept callback: store durably, return the queue id for the 250."""
    inbound_id, _ = await store_inbound(
        rt,
        envelope.workspace_id,
        envelope.raw,
        mail_from=envelope.mail_from,
        rcpt=",".join(envelope.rcpt_tos),
        source="smtp",
    )
    return str(inbound_id)


async def load_settings(tx: Transaction, workspace_id: str) -> EmailSettings:
    """The workspace's email settings (defaults when none are saved)."""
    workspace = await workspace_store.get(tx, workspace_id)
    if workspace is None:
        return EmailSettings()
    return from_workspace_settings(dict(workspace.settings))


def _candidate(session: EmailSession) -> CandidateSession:
    return CandidateSession(
        session_id=session.id,
        contact_address=session.contact_address,
        subject_key=session.normalized_subject,
        last_activity=session.last_activity_at,
    )


async def _thread(
    tx: Transaction,
    workspace_id: str,
    email: ParsedEmail,
    settings: EmailSettings,
    now: dt.datetime,
) -> tuple[ThreadDecision, dict[str, EmailSession]]:
    tags = settings.subject_tags
    keys = thread_keys(email, tags=tags)
    by_id = await email_sessions.by_message_ids(tx, workspace_id, keys.message_ids)
    by_token = await email_sessions.by_tokens(tx, workspace_id, keys.tokens)
    by_index: dict[str, EmailSession] = {}
    if keys.thread_index:
        found = await email_sessions.by_thread_index(tx, workspace_id, keys.thread_index)
        if found is not None:
            by_index[keys.thread_index] = found
    window = dt.timedelta(hours=settings.subject_window_hours)
    recent = (
        await email_sessions.recent_from_sender(
            tx,
            workspace_id,
            contact_address=keys.sender,
            normalized_subject=keys.subject_key,
            since=now - window,
        )
        if keys.subject_key
        else []
    )
    known = {s.id: s for s in (*by_id.values(), *by_token.values(), *by_index.values(), *recent)}
    decision = choose_thread(
        email,
        ThreadCandidates(
            by_message_id={k: _candidate(s) for k, s in by_id.items()},
            by_token={k: _candidate(s) for k, s in by_token.items()},
            by_thread_index={k: _candidate(s) for k, s in by_index.items()},
            recent_from_sender=[_candidate(s) for s in recent],
        ),
        now=now,
        subject_window=window,
        tags=tags,
    )
    return decision, known


async def _new_session(
    tx: Transaction, workspace_id: str, email: ParsedEmail, settings: EmailSettings
) -> EmailSession:
    state = await email_addresses.state(tx, workspace_id)
    session_id = email_sessions.new_session_id()
    keys = thread_keys(email, tags=settings.subject_tags)
    return await email_sessions.create(
        tx,
        workspace_id,
        session_id=session_id,
        contact_address=email.from_address,
        contact_name=email.from_name,
        subject=subjects.clean_subject(email.subject, tags=settings.subject_tags) or email.subject,
        normalized_subject=keys.subject_key,
        thread_token=make_thread_token(session_id, state.thread_secret),
        thread_index=keys.thread_index,
    )


def _within_reopen_window(session: EmailSession, settings: EmailSettings, now: dt.datetime) -> bool:
    if settings.reopen_window_days <= 0 or session.resolved_at is None or not session.case_id:
        return False
    return now - session.resolved_at <= dt.timedelta(days=settings.reopen_window_days)


async def process_inbound(rt: EmailRuntime, workspace_id: str, inbound_id: int) -> None:
    """The ``process_inbound_mail`` job: from stored bytes to a message in a session.

    Safe to run twice: a row that is no longer ``received`` is left alone.
    """
    now = rt.clock()
    async with rt.db.transaction() as tx:
        inbound = await email_inbound.get(tx, workspace_id, inbound_id)
        if inbound is None or inbound.status != InboundStatus.RECEIVED:
            return
        settings = await load_settings(tx, workspace_id)
        email = parse_message(inbound.raw)
        if email.parse_error is not None:
            await email_inbound.mark(
                tx,
                workspace_id,
                inbound_id,
                status=InboundStatus.IGNORED,
                reason="unparseable",
                parse_error=email.parse_error,
            )
            return
        own = [a.address for a in await email_addresses.list_for(tx, workspace_id)]
        automated = classify_automated(email, own_addresses=own)
        if automated is not None:
            await email_inbound.mark(
                tx,
                workspace_id,
                inbound_id,
                status=InboundStatus.IGNORED,
                reason=f"automated {automated.kind.value}: {automated.reason}"[:500],
            )
            return
        limit = settings.rate_limit()
        earlier = await email_inbound.recent_times(
            tx,
            workspace_id,
            sender=email.from_address,
            exclude_id=inbound_id,
            since=inbound.received_at - limit.window,
            until=inbound.received_at,
        )
        if limit.is_flooding(earlier, inbound.received_at):
            await email_inbound.mark(
                tx,
                workspace_id,
                inbound_id,
                status=InboundStatus.IGNORED,
                reason=f"flood: more than {limit.max_messages} mails from this sender "
                f"within {int(limit.window.total_seconds())} s",
            )
            return
        decision, known = await _thread(tx, workspace_id, email, settings, now)
        reopen = False
        target: EmailSession | None = None
        if decision.session_id is not None:
            chosen = known[decision.session_id]
            if chosen.status != SessionStatus.RESOLVED:
                target = chosen
            elif _within_reopen_window(chosen, settings, now):
                target, reopen = chosen, True
        if target is None:
            # A returning customer with an open Case is appended to it, not given a new one.
            target = await email_sessions.open_case_of_contact(tx, workspace_id, email.from_address)
        if target is None:
            target = await _new_session(tx, workspace_id, email, settings)
        target = await email_sessions.get(tx, workspace_id, target.id, for_update=True)
        assert target is not None  # found or created in this transaction
        if reopen:
            await email_sessions.reopen(tx, workspace_id, target.id)
        message = await email_messages.insert(
            tx,
            workspace_id,
            NewMessage(
                session_id=target.id,
                inbound_id=inbound_id,
                direction="in",
                author_kind=AuthorKind.CONTACT.value,
                author_name=email.from_name,
                author_address=email.from_address,
                sent_at=inbound.received_at,
                subject=email.subject,
                text=strip_quoted(email.text),
                raw_mime=inbound.raw,
                message_id_header=email.message_id,
                in_reply_to=email.in_reply_to,
                references=email.references,
                attachments=tuple(
                    {
                        "filename": a.filename,
                        "content_type": a.content_type,
                        "size": a.size,
                        "inline": a.inline,
                    }
                    for a in email.attachments
                ),
            ),
        )
        assert message is not None  # no sf_record_id: never a duplicate
        await email_sessions.touch(tx, workspace_id, target.id)
        await email_inbound.mark(
            tx,
            workspace_id,
            inbound_id,
            status=InboundStatus.PROCESSED,
            reason=f"thread: {decision.reason.value}" + (" (reopened)" if reopen else ""),
            session_id=target.id,
        )
        if target.case_id and (target.status == SessionStatus.HANDED_OFF or reopen):
            await jobs.defer(
                rt.jobs,
                jobnames.PUSH_MESSAGE,
                tx=tx,
                lock=jobnames.session_lock(workspace_id, target.id),
                workspace_id=workspace_id,
                message_id=message.id,
                reopen=reopen,
            )
        elif target.status == SessionStatus.OPEN and target.handoff_requested_at is None:
            await maybe_trigger_handoff(
                rt,
                tx,
                target,
                message_text=message.text,
                sender=email.from_address,
                settings=settings,
            )
