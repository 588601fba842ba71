"""Outgoing mail: a rep's reply, the AI agent's message or an acknowledgment, exactly once.

:func:`queue_message` stores the message, renders the mail ONCE (our stable Message-ID,
In-Reply-To the contact's last mail, the References chain, "Re: <subject>" with our thread
token, from the workspace's support address), writes the outbox row and queues
``send_reply`` in the caller's transaction. :func:`send_reply` hands the stored bytes to
the relay, retrying with backoff while it fails temporarily; a permanent failure (or running
out of attempts) shows on the message and in the trace.
"""

from __future__ import annotations

import datetime as dt
import logging

from sfbridge import jobs
from sfbridge.core.subjects import reply_subject
from sfbridge.core.transcript import AuthorKind
from sfbridge.jobs import Queue
from sfbridge.mail.compose import (
    MailEnvelope,
    OutgoingEmail,
    build_mime,
    envelope_for,
    text_with_token,
)
from sfbridge.mail.errors import MailError, MailPermanentError, MailTemporaryError
from sfbridge.mail.msgid import make_message_id, references_chain
from sfbridge.services import tracing
from sfbridge.services.email import jobnames
from sfbridge.services.email.errors import NoSupportAddress
from sfbridge.services.email.runtime import EmailRuntime
from sfbridge.services.email.settings import EmailSettings
from sfbridge.store import email_addresses, email_messages
from sfbridge.store.db import Transaction
from sfbridge.store.email_messages import DeliveryStatus, EmailMessage, NewMessage
from sfbridge.store.email_sessions import EmailSession

log = logging.getLogger(__name__)


async def queue_message(
    rt: EmailRuntime,
    tx: Transaction,
    session: EmailSession,
    *,
    author_kind: AuthorKind,
    author_name: str,
    text: str,
    settings: EmailSettings,
    sf_record_id: str | None = None,
    sent_at: dt.datetime | None = None,
    auto_generated: bool = False,
) -> EmailMessage | None:
    """Store an outgoing message, render its mail and queue the send, in ``tx``.

    Returns:
        The stored message, or ``None`` when ``sf_record_id`` was already stored (a
        duplicate webhook or reconciliation): then nothing is queued.

    Raises:
        NoSupportAddress: the workspace has no mail address to send from.
    """
    addresses = await email_addresses.list_for(tx, session.workspace_id)
    if not addresses:
        raise NoSupportAddress()
    support = addresses[0].address
    last_in = await email_messages.last_inbound(tx, session.workspace_id, session.id)
    thread = await email_messages.thread_ids(tx, session.workspace_id, session.id)
    in_reply_to = last_in.message_id_header if last_in else None
    subject = reply_subject(session.subject, token=session.thread_token or None)
    message = await email_messages.insert(
        tx,
        session.workspace_id,
        NewMessage(
            session_id=session.id,
            direction="out",
            author_kind=author_kind.value,
            author_name=author_name,
            author_address=support,
            sent_at=sent_at,
            subject=subject,
            text=text,
            sf_record_id=sf_record_id,
            delivery_status=DeliveryStatus.PENDING,
        ),
    )
    if message is None:
        return None
    domain = support.rpartition("@")[2]
    message_id = make_message_id(domain=domain, key=f"{session.workspace_id}.{message.id}")
    body = text_with_token(text, session.thread_token) if session.thread_token else text
    outgoing = OutgoingEmail(
        from_address=support,
        from_name=settings.from_name or author_name,
        to=(session.contact_address,),
        subject=subject,
        text=body,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references_chain(tuple(thread), in_reply_to) if thread else (),
        date=rt.clock(),
        workspace_id=session.workspace_id,
        session_id=session.id,
        auto_generated=auto_generated,
    )
    raw = build_mime(outgoing)
    envelope = envelope_for(outgoing)
    await tx.execute(
        "email_message_set_header",
        {"workspace_id": session.workspace_id, "message_id": message.id, "header": message_id},
    )
    outbox_id = await email_messages.outbox_insert(
        tx,
        session.workspace_id,
        message_id=message.id,
        mail_from=envelope.mail_from,
        to=envelope.rcpt_tos,
        message_id_header=message_id,
        raw=raw,
    )
    await jobs.defer(
        rt.jobs,
        jobnames.SEND_REPLY,
        tx=tx,
        lock=jobnames.outbox_lock(session.workspace_id, outbox_id),
        queue=Queue.URGENT,
        workspace_id=session.workspace_id,
        outbox_id=outbox_id,
    )
    await email_messages.set_delivery(
        tx, session.workspace_id, message.id, status=DeliveryStatus.PENDING
    )
    return message


async def send_reply(rt: EmailRuntime, workspace_id: str, outbox_id: int) -> None:
    """The ``send_reply`` job: one attempt to hand a queued mail to the relay."""
    async with rt.db.transaction() as tx:
        row = await email_messages.outbox_get_for_update(tx, workspace_id, outbox_id)
    if row is None or row.status != "pending":
        return
    subject = ""
    for line in row.raw.split(b"\r\n"):
        if line.lower().startswith(b"subject:"):
            subject = line[8:].decode("utf-8", errors="replace").strip()
            break
    envelope = MailEnvelope(mail_from=row.mail_from, rcpt_tos=row.to)
    async with tracing.run(
        rt.db, workspace_id, activity_type="email_reply", activity_id=str(row.message_id)
    ) as run:
        async with run.step(f"send via {rt.transport.name}") as step:
            try:
                reply = await rt.transport.deliver(workspace_id, row.raw, envelope, subject=subject)
            except MailTemporaryError as exc:
                attempt = row.attempts + 1
                if attempt >= rt.reply_backoff.attempts:
                    step.warn(f"gave up after {attempt} attempts: {exc}")
                    await _finish(rt, row.workspace_id, row.id, row.message_id, failed=str(exc))
                    return
                delay = rt.reply_backoff.delay(attempt)
                step.warn(f"relay failed temporarily ({exc}); retry in {delay:g} s")
                async with rt.db.transaction() as tx:
                    await email_messages.outbox_attempt(
                        tx,
                        workspace_id,
                        outbox_id,
                        status="pending",
                        error=str(exc)[:1000],
                        next_attempt_at=rt.clock() + dt.timedelta(seconds=delay),
                        transport=rt.transport.name,
                    )
                    await jobs.defer(
                        rt.jobs,
                        jobnames.SEND_REPLY,
                        tx=tx,
                        lock=jobnames.outbox_lock(workspace_id, outbox_id),
                        queue=Queue.URGENT,
                        schedule_in={"seconds": delay},
                        workspace_id=workspace_id,
                        outbox_id=outbox_id,
                    )
                return
            except (MailPermanentError, MailError) as exc:
                step.warn(f"relay refused the mail for good: {exc}")
                await _finish(rt, row.workspace_id, row.id, row.message_id, failed=str(exc))
                return
            step.detail = f"accepted: {reply}"[:500]
        await _finish(rt, row.workspace_id, row.id, row.message_id, failed=None)


async def _finish(
    rt: EmailRuntime, workspace_id: str, outbox_id: int, message_id: int, *, failed: str | None
) -> None:
    async with rt.db.transaction() as tx:
        await email_messages.outbox_attempt(
            tx,
            workspace_id,
            outbox_id,
            status="failed" if failed else "sent",
            error=failed[:1000] if failed else None,
            next_attempt_at=None,
            transport=rt.transport.name,
        )
        await email_messages.set_delivery(
            tx,
            workspace_id,
            message_id,
            status=DeliveryStatus.FAILED if failed else DeliveryStatus.SENT,
            error=failed[:1000] if failed else None,
        )
