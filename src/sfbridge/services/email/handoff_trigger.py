"""When a conversation goes to a human: triggers, office hours, and queueing the handoff job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo as dt_tzinfo
from zoneinfo import ZoneInfo

from sfbridge import jobs
from sfbridge.core.handoff import (
    HandoffTiming,
    OutsideHoursPolicy,
    next_opening,
    schedule_handoff,
    wants_handoff,
)
from sfbridge.core.transcript import AuthorKind
from sfbridge.services.email import jobnames
from sfbridge.services.email.replies import queue_message
from sfbridge.services.email.runtime import EmailRuntime
from sfbridge.services.email.settings import EmailSettings
from sfbridge.store import email_sessions
from sfbridge.store.db import Transaction
from sfbridge.store.email_sessions import EmailSession


@dataclass(frozen=True, kw_only=True, slots=True)
class HandoffQueued:
    """What :func:`request_handoff` decided."""

    reason: str
    timing: HandoffTiming
    ack_sent: bool


async def request_handoff(
    rt: EmailRuntime,
    tx: Transaction,
    session: EmailSession,
    *,
    reason: str,
    topic: str | None,
    summary: str | None,
    settings: EmailSettings,
) -> HandoffQueued:
    """Record the request and queue the ``handoff`` job, now or at the next opening time.

    Outside office hours with ``handoff_and_ack``, the contact gets the out-of-hours
    acknowledgment (``Auto-Submitted: auto-generated``) once per session.
    """
    first_request = session.handoff_requested_at is None
    await email_sessions.request_handoff(
        tx, session.workspace_id, session.id, reason=reason, topic=topic, summary=summary
    )
    now = rt.clock()
    hours = settings.office_hours.to_core() if settings.office_hours else None
    timing = schedule_handoff(hours, settings.outside_hours_policy, now)
    ack_sent = False
    if timing.send_ack and first_request and hours is not None:
        opening = next_opening(hours, now).astimezone(hours_zone(hours.tz))
        text = settings.out_of_hours_message.replace(
            "{opening}", f" ({opening:%A %d %B, %H:%M %Z})"
        )
        await queue_message(
            rt,
            tx,
            session,
            author_kind=AuthorKind.SYSTEM,
            author_name="",
            text=text,
            settings=settings,
            auto_generated=True,
        )
        ack_sent = True
    delay = (timing.at - now).total_seconds()
    await jobs.defer(
        rt.jobs,
        jobnames.HANDOFF,
        tx=tx,
        lock=jobnames.session_lock(session.workspace_id, session.id),
        schedule_in={"seconds": delay} if delay > 0 else None,
        workspace_id=session.workspace_id,
        session_id=session.id,
    )
    return HandoffQueued(reason=reason, timing=timing, ack_sent=ack_sent)


def hours_zone(tz: str) -> dt_tzinfo:
    """The zone of the office hours (validated by the settings)."""
    return ZoneInfo(tz)


async def maybe_trigger_handoff(
    rt: EmailRuntime,
    tx: Transaction,
    session: EmailSession,
    *,
    message_text: str,
    sender: str,
    settings: EmailSettings,
) -> HandoffQueued | None:
    """Check the triggers (every email, sender domain, phrases, keywords) on a new mail."""
    reason = wants_handoff(message_text, settings.rules(), sender=sender)
    if reason is None:
        return None
    return await request_handoff(
        rt,
        tx,
        session,
        reason=f"{reason.trigger.value}: {reason.detail}",
        topic=None,
        summary=None,
        settings=settings,
    )


__all__ = ["HandoffQueued", "OutsideHoursPolicy", "maybe_trigger_handoff", "request_handoff"]
