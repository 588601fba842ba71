"""Messages as CaseComments: the transcript's chunks, and appending a later message, exactly once.

A message written after the handoff (the contact again, or the AI agent) is appended to the
session's Case by the ``push_message`` job. "Push started" is stored before calling
Salesforce; a retry first reads the comments written since then and adds only the missing
chunks.
"""

from __future__ import annotations

from collections.abc import Sequence

from sfbridge.core.transcript import AuthorKind, TranscriptLine, chunk_transcript
from sfbridge.salesforce.batching import Subrequest, SubResult
from sfbridge.salesforce.client import SalesforceClient
from sfbridge.salesforce.errors import ReconnectNeeded, SalesforceError
from sfbridge.salesforce.governor import Priority
from sfbridge.services import tracing
from sfbridge.services.email import jobnames
from sfbridge.services.email.case_lookup import Comment, comments_since, known_ids, missing_chunks
from sfbridge.services.email.intake import load_settings
from sfbridge.services.email.runtime import EmailRuntime
from sfbridge.services.email.settings import EmailSettings
from sfbridge.services.email.sfretry import TRANSIENT, requeue
from sfbridge.store import email_messages, email_sessions
from sfbridge.store.email_messages import EmailMessage

#: Subrequests per composite call.
COMPOSITE_MAX = 25


def transcript_lines(messages: Sequence[EmailMessage]) -> list[TranscriptLine]:
    """The messages as transcript lines."""
    return [
        TranscriptLine(
            author_kind=AuthorKind(m.author_kind),
            author_name=m.author_name,
            author_address=m.author_address,
            at=m.sent_at,
            text=m.text,
        )
        for m in messages
    ]


def pushable(message: EmailMessage) -> bool:
    """Contact and AI-agent messages go to the Case; rep replies are already there."""
    return message.author_kind in (AuthorKind.CONTACT.value, AuthorKind.AGENT.value)


def comment_sub(index: int, body: str, parent: str, settings: EmailSettings) -> Subrequest:
    """A composite subrequest creating chunk ``index`` as a comment on ``parent``."""
    return Subrequest(
        method="POST",
        url="sobjects/CaseComment",
        reference_id=f"c{index}",
        body={"ParentId": parent, "CommentBody": body, "IsPublished": settings.comments_published},
    )


def first_error(results: Sequence[SubResult]) -> SalesforceError | None:
    """The error that failed a composite call (not the PROCESSING_HALTED of the others)."""
    errors = [r.error() for r in results if not r.ok]
    real = [e for e in errors if e is not None and e.error_code != "PROCESSING_HALTED"]
    if real:
        return real[0]
    return next((e for e in errors if e is not None), None)


async def post_comments(
    client: SalesforceClient,
    case_id: str,
    chunks: Sequence[str],
    indexes: Sequence[int],
    comment_ids: list[str | None],
    settings: EmailSettings,
) -> None:
    """Post the given chunks in order, ``COMPOSITE_MAX`` per call; fill in their ids.

    Raises:
        SalesforceError: A call failed (nothing of that call was written: allOrNone).
    """
    for start in range(0, len(indexes), COMPOSITE_MAX):
        part = indexes[start : start + COMPOSITE_MAX]
        subs = [comment_sub(i, chunks[i], case_id, settings) for i in part]
        results = await client.composite(
            subs, all_or_none=True, priority=Priority.URGENT, idempotent=False
        )
        error = first_error(results)
        if error is not None:
            raise error
        for index, result in zip(part, results, strict=True):
            comment_ids[index] = str(result.body["id"]) if isinstance(result.body, dict) else None


async def push_message(
    rt: EmailRuntime,
    workspace_id: str,
    message_id: int,
    *,
    reopen: bool = False,
    attempt: int = 0,
) -> None:
    """The ``push_message`` job: append one message to the session's Case, exactly once."""
    async with rt.db.transaction() as tx:
        message = await email_messages.get(tx, workspace_id, message_id)
        if message is None or message.sf_comment_id is not None:
            return
        session = await email_sessions.get(tx, workspace_id, message.session_id)
        if session is None or session.case_id is None:
            return  # the handoff carries it in the transcript
        settings = await load_settings(tx, workspace_id)
        started_before = message.push_started_at
        await email_messages.start_push(tx, workspace_id, message_id)
    case_id = session.case_id
    try:
        client = await rt.access.client(workspace_id)
    except ReconnectNeeded as exc:
        await requeue(
            rt,
            jobnames.PUSH_MESSAGE,
            workspace_id,
            session.id,
            delay=rt.reconnect_wait_seconds,
            error=f"waiting for Salesforce: {exc.message}",
            message_id=message_id,
            reopen=reopen,
            attempt=attempt,
        )
        return
    chunks = chunk_transcript(transcript_lines([message]))
    ids: list[str | None] = [None] * len(chunks)
    try:
        async with tracing.run(
            rt.db, workspace_id, activity_type="email_comment", activity_id=session.id
        ) as run:
            if reopen:
                async with run.step("reopen Case") as step:
                    await client.update(
                        "Case",
                        case_id,
                        {"Status": settings.reopen_status},
                        priority=Priority.URGENT,
                    )
                    step.detail = f"Status set to {settings.reopen_status}"
            existing: tuple[Comment, ...] = ()
            if started_before is not None:
                async with run.step("check an earlier attempt") as step:
                    existing = await comments_since(client, case_id, started_before)
                    step.detail = f"{len(existing)} comments since the earlier attempt"
            ids = known_ids(chunks, existing)
            missing = missing_chunks(chunks, existing)
            async with run.step("append to Case") as step:
                for index in missing:
                    ids[index] = await client.create(
                        "CaseComment",
                        {
                            "ParentId": case_id,
                            "CommentBody": chunks[index],
                            "IsPublished": settings.comments_published,
                        },
                        priority=Priority.URGENT,
                    )
                step.detail = (
                    f"{len(missing)} comment(s) added to Case {session.case_number or case_id}"
                )
    except TRANSIENT as exc:
        if attempt + 1 >= rt.salesforce_backoff.attempts:
            raise
        await requeue(
            rt,
            jobnames.PUSH_MESSAGE,
            workspace_id,
            session.id,
            delay=rt.salesforce_backoff.delay(attempt + 1),
            error=f"Salesforce failed ({exc.message}); retrying",
            message_id=message_id,
            reopen=reopen,
            attempt=attempt + 1,
        )
        return
    first = next((i for i in ids if i), None)
    if first is not None:
        async with rt.db.transaction() as tx:
            await email_messages.set_comment(tx, workspace_id, [message_id], first)
