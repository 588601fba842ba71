"""Waiting for Salesforce: which failures are worth a retry, and re-queueing with backoff.

Transient failures re-queue the job with our own backoff (visible on the session as
``handoff_error``) instead of procrastinate's retry, so the delay is configurable and a test
can make it short (decision 0005).
"""

from __future__ import annotations

from typing import Any

from sfbridge import jobs
from sfbridge.salesforce.errors import (
    RateLimited,
    RowLocked,
    SalesforceError,
    ServerUnavailable,
    TransportFailure,
)
from sfbridge.services.email import jobnames
from sfbridge.services.email.runtime import EmailRuntime
from sfbridge.store import email_sessions

#: Salesforce errors worth waiting for (the work is re-queued with backoff).
TRANSIENT: tuple[type[SalesforceError], ...] = (
    ServerUnavailable,
    TransportFailure,
    RowLocked,
    RateLimited,
)


async def requeue(
    rt: EmailRuntime,
    task: str,
    workspace_id: str,
    lock_session: str,
    *,
    delay: float,
    error: str,
    **kwargs: Any,
) -> None:
    """Show ``error`` on the session and queue ``task`` again after ``delay`` seconds.

    Args:
        rt: The email runtime.
        task: The task to queue (``jobnames.HANDOFF`` or ``jobnames.PUSH_MESSAGE``).
        workspace_id: The workspace.
        lock_session: The session whose lock orders the job.
        delay: Seconds before the job runs.
        error: What the session shows meanwhile.
        kwargs: The task's other arguments.
    """
    async with rt.db.transaction() as tx:
        await email_sessions.set_handoff_error(tx, workspace_id, lock_session, error[:1000])
        await jobs.defer(
            rt.jobs,
            task,
            tx=tx,
            lock=jobnames.session_lock(workspace_id, lock_session),
            schedule_in={"seconds": delay},
            workspace_id=workspace_id,
            **kwargs,
        )
