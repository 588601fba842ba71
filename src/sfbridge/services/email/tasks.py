"""The email-cases jobs (registered on the job app by ``compose``): thin shims over services."""

from __future__ import annotations

from procrastinate import Blueprint, JobContext

from sfbridge.jobs import STANDARD_RETRY, URGENT_RETRY, Queue
from sfbridge.services.email import case_comments, case_handoff, intake, jobnames, replies, sync
from sfbridge.services.email.runtime import runtime_from_context

#: Every 2 minutes: catch rep replies and closures whose webhook never came.
RECONCILE_CRON = "*/2 * * * *"


def register(blueprint: Blueprint) -> None:
    """Register the email-cases tasks on ``blueprint``."""

    @blueprint.task(
        name=jobnames.PROCESS_INBOUND,
        queue=Queue.DEFAULT.value,
        retry=STANDARD_RETRY,
        pass_context=True,
    )
    async def process_inbound_mail(
        context: JobContext, *, workspace_id: str, inbound_id: int
    ) -> None:
        await intake.process_inbound(runtime_from_context(context), workspace_id, inbound_id)

    @blueprint.task(
        name=jobnames.HANDOFF, queue=Queue.URGENT.value, retry=STANDARD_RETRY, pass_context=True
    )
    async def handoff(
        context: JobContext, *, workspace_id: str, session_id: str, attempt: int = 0
    ) -> None:
        await case_handoff.run_handoff(
            runtime_from_context(context), workspace_id, session_id, attempt=attempt
        )

    @blueprint.task(
        name=jobnames.PUSH_MESSAGE,
        queue=Queue.URGENT.value,
        retry=STANDARD_RETRY,
        pass_context=True,
    )
    async def push_message(
        context: JobContext,
        *,
        workspace_id: str,
        message_id: int,
        reopen: bool = False,
        attempt: int = 0,
    ) -> None:
        await case_comments.push_message(
            runtime_from_context(context),
            workspace_id,
            message_id,
            reopen=reopen,
            attempt=attempt,
        )

    @blueprint.task(
        name=jobnames.SEND_REPLY, queue=Queue.URGENT.value, retry=URGENT_RETRY, pass_context=True
    )
    async def send_reply(context: JobContext, *, workspace_id: str, outbox_id: int) -> None:
        await replies.send_reply(runtime_from_context(context), workspace_id, outbox_id)

    @blueprint.task(
        name=jobnames.WEBHOOK_EVENT,
        queue=Queue.URGENT.value,
        retry=URGENT_RETRY,
        pass_context=True,
    )
    async def handle_webhook_event(
        context: JobContext, *, workspace_id: str, event_id: int
    ) -> None:
        await sync.handle_webhook_event(runtime_from_context(context), workspace_id, event_id)

    @blueprint.periodic(cron=RECONCILE_CRON)
    @blueprint.task(
        name=jobnames.RECONCILE,
        queue=Queue.DEFAULT.value,
        queueing_lock=jobnames.RECONCILE,
        pass_context=True,
    )
    async def reconcile_cases(context: JobContext, timestamp: int) -> int:
        return await sync.reconcile(runtime_from_context(context))
