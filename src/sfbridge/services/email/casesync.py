"""Handoff to a Salesforce Case, and appending later messages to it, exactly once.

Handoff (job ``handoff``, one at a time per session), at most three API calls:

1. ``SELECT Id, AccountId FROM Contact WHERE Email = ...`` (exactly one -> ContactId and
   AccountId; several -> left blank, the trace says so);
2. ONE composite request, allOrNone: upsert the Case by its external id (the session id),
   the transcript as CaseComments (``@{case.id}``), and a GET of its CaseNumber;
3. the Case describe, once per workspace (cached), to know whether the external-id and
   marker fields exist.

"Handoff attempt started" is stored BEFORE calling Salesforce. A retry after a crash (or a
lost answer) first asks Salesforce what exists (the Case by external id with its comments,
or, without that field, by SuppliedEmail + Subject + CreatedDate) and writes only what is
missing, so a retry never makes a second Case or a second comment.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sfbridge import jobs
from sfbridge.core.summary import extractive_summary, topic
from sfbridge.core.transcript import AuthorKind, TranscriptLine, chunk_transcript, format_line
from sfbridge.salesforce.batching import Subrequest, SubResult
from sfbridge.salesforce.client import SalesforceClient
from sfbridge.salesforce.errors import (
    RateLimited,
    ReconnectNeeded,
    RowLocked,
    SalesforceError,
    ServerUnavailable,
    TransportFailure,
)
from sfbridge.salesforce.governor import Priority
from sfbridge.salesforce.soql import format_soql
from sfbridge.services import tracing
from sfbridge.services.email import jobnames
from sfbridge.services.email.intake import load_settings
from sfbridge.services.email.runtime import EmailRuntime
from sfbridge.services.email.settings import EmailSettings
from sfbridge.store import email_addresses, email_messages, email_sessions
from sfbridge.store.email_messages import EmailMessage
from sfbridge.store.email_sessions import EmailSession, SessionStatus

log = logging.getLogger(__name__)

#: Salesforce errors worth waiting for (the work is re-queued with backoff).
TRANSIENT: tuple[type[SalesforceError], ...] = (
    ServerUnavailable,
    TransportFailure,
    RowLocked,
    RateLimited,
)
COMPOSITE_MAX = 25


class HandoffCrash(RuntimeError):
    """Raised by the test hook right after the composite call (a simulated worker death)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ExistingCase:
    """A Case found on a retry, with the bodies of its comments."""

    id: str
    case_number: str | None
    comments: tuple[tuple[str, str], ...]  #: (id, body)


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


def soql_time(at: dt.datetime) -> dt.datetime:
    """A cursor time floored to the second (SOQL datetimes have no fractions)."""
    return at.astimezone(dt.UTC).replace(microsecond=0)


async def case_fields(rt: EmailRuntime, client: SalesforceClient, workspace_id: str) -> set[str]:
    """The Case's field names: described once per workspace, then cached in Postgres."""
    async with rt.db.transaction() as tx:
        state = await email_addresses.state(tx, workspace_id)
    if state.case_fields is not None:
        return set(state.case_fields)
    described = await client.describe("Case", priority=Priority.URGENT)
    names = {str(f.get("name")) for f in described.get("fields") or () if f.get("name")}
    async with rt.db.transaction() as tx:
        await email_addresses.set_case_fields(tx, workspace_id, sorted(names))
    return names


async def forget_case_fields(rt: EmailRuntime, workspace_id: str) -> None:
    """Describe Case again on the next handoff (after the admin added a field)."""
    async with rt.db.transaction() as tx:
        await tx.execute("email_state_forget_case_fields", {"workspace_id": workspace_id})


def _comments_of(record: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    sub = record.get("CaseComments") or {}
    rows = sub.get("records") or () if isinstance(sub, dict) else ()
    return tuple((str(r.get("Id")), str(r.get("CommentBody") or "")) for r in rows)


async def _existing_case(
    client: SalesforceClient,
    session: EmailSession,
    *,
    external_field: str | None,
    subject: str,
) -> ExistingCase | None:
    base = "SELECT Id, CaseNumber, (SELECT Id, CommentBody FROM CaseComments) FROM Case WHERE "
    if external_field:
        soql = base + format_soql(f"{external_field} = {{}}", session.id)
    else:
        started = soql_time(session.handoff_started_at or dt.datetime.now(dt.UTC))
        soql = base + format_soql(
            "SuppliedEmail = {} AND Subject = {} AND CreatedDate >= {} "
            "ORDER BY CreatedDate LIMIT 1",
            session.contact_address,
            subject,
            started - dt.timedelta(minutes=5),
        )
    rows = await client.query_all(soql, priority=Priority.URGENT)
    if not rows:
        return None
    row = rows[0]
    number = row.get("CaseNumber")
    return ExistingCase(
        id=str(row["Id"]),
        case_number=str(number) if number else None,
        comments=_comments_of(row),
    )


def _missing(chunks: Sequence[str], existing: Sequence[tuple[str, str]]) -> list[int]:
    """Indexes of the chunks not yet present (a multiset comparison of bodies)."""
    have = collections.Counter(body for _, body in existing)
    missing = []
    for index, chunk in enumerate(chunks):
        if have[chunk] > 0:
            have[chunk] -= 1
        else:
            missing.append(index)
    return missing


def _first_error(results: Sequence[SubResult]) -> SalesforceError | None:
    errors = [r.error() for r in results if not r.ok]
    real = [e for e in errors if e is not None and e.error_code != "PROCESSING_HALTED"]
    if real:
        return real[0]
    return next((e for e in errors if e is not None), None)


def _case_values(
    session: EmailSession,
    settings: EmailSettings,
    *,
    subject: str,
    description: str,
    contact: tuple[str, str | None] | None,
    fields: set[str],
    step: tracing.Step,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "Subject": subject[:255],
        "Description": description[:32000],
        "Origin": settings.origin,
        "SuppliedEmail": session.contact_address,
        "SuppliedName": (session.contact_name or session.contact_address)[:80],
    }
    if contact is not None:
        values["ContactId"] = contact[0]
        if contact[1]:
            values["AccountId"] = contact[1]
    if settings.priority:
        values["Priority"] = settings.priority
    if settings.owner_id:
        values["OwnerId"] = settings.owner_id
    if settings.marker_field:
        if settings.marker_field in fields:
            values[settings.marker_field] = settings.marker_value
        else:
            step.warn(
                f"the org has no Case field {settings.marker_field}; the Case was created "
                "without the marker (run `sfbridge doctor` to see how to add it)"
            )
    return values


async def _find_contact(
    client: SalesforceClient, run: tracing.Run, address: str
) -> tuple[str, str | None] | None:
    async with run.step("find contact") as step:
        rows = await client.query_all(
            format_soql("SELECT Id, AccountId FROM Contact WHERE Email = {} LIMIT 2", address),
            priority=Priority.URGENT,
        )
        if len(rows) == 1:
            step.detail = "exactly one Contact has this email"
            account = rows[0].get("AccountId")
            return str(rows[0]["Id"]), str(account) if account else None
        if rows:
            step.warn("several Contacts share this email; ContactId and AccountId left blank")
        else:
            step.detail = "no Contact has this email"
        return None


async def _requeue(
    rt: EmailRuntime,
    task: str,
    workspace_id: str,
    lock_session: str,
    *,
    delay: float,
    error: str,
    **kwargs: Any,
) -> None:
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


async def run_handoff(
    rt: EmailRuntime, workspace_id: str, session_id: str, *, attempt: int = 0
) -> None:
    """The ``handoff`` job. Idempotent: a session with a Case is left alone."""
    async with rt.db.transaction() as tx:
        session = await email_sessions.get(tx, workspace_id, session_id, for_update=True)
        if session is None or session.case_id or session.status == SessionStatus.RESOLVED:
            return
        settings = await load_settings(tx, workspace_id)
        messages = await email_messages.list_for(tx, workspace_id, session_id)
        retrying = session.handoff_started_at is not None
        session = await email_sessions.start_handoff(
            tx, workspace_id, session_id, upto=messages[-1].id if messages else None
        )
    try:
        client = await rt.access.client(workspace_id)
    except ReconnectNeeded as exc:
        await _requeue(
            rt,
            jobnames.HANDOFF,
            workspace_id,
            session_id,
            delay=rt.reconnect_wait_seconds,
            error=f"waiting for Salesforce: {exc.message}",
            session_id=session_id,
            attempt=attempt,
        )
        return
    upto = session.handoff_upto
    included = [m for m in messages if upto is None or m.id <= upto]
    lines = transcript_lines(included)
    subject = session.handoff_topic or topic(lines, session.subject)
    description = session.handoff_summary or extractive_summary(lines)
    chunks = chunk_transcript(lines)
    try:
        case_id, case_number, comment_ids = await _write_case(
            rt,
            client,
            session,
            settings,
            subject=subject,
            description=description,
            chunks=chunks,
            retrying=retrying,
        )
    except TRANSIENT as exc:
        if attempt + 1 >= rt.salesforce_backoff.attempts:
            raise
        await _requeue(
            rt,
            jobnames.HANDOFF,
            workspace_id,
            session_id,
            delay=rt.salesforce_backoff.delay(attempt + 1),
            error=f"Salesforce failed ({exc.message}); retrying",
            session_id=session_id,
            attempt=attempt + 1,
        )
        return
    except SalesforceError as exc:
        async with rt.db.transaction() as tx:
            await email_sessions.set_handoff_error(
                tx, workspace_id, session_id, f"Salesforce refused the Case: {exc}"[:1000]
            )
        raise
    await _finish_handoff(rt, session, included, chunks, case_id, case_number, comment_ids)


async def _write_case(
    rt: EmailRuntime,
    client: SalesforceClient,
    session: EmailSession,
    settings: EmailSettings,
    *,
    subject: str,
    description: str,
    chunks: Sequence[str],
    retrying: bool,
) -> tuple[str, str | None, list[str | None]]:
    """Write the Case and its transcript; return (case id, number, comment id per chunk)."""
    async with tracing.run(
        rt.db, session.workspace_id, activity_type="email_handoff", activity_id=session.id
    ) as run:
        run.note("handoff", session.handoff_reason or "requested")
        async with run.step("describe Case") as step:
            fields = await case_fields(rt, client, session.workspace_id)
            external = settings.external_id_field if settings.external_id_field in fields else None
            if external is None:
                step.warn(
                    f"the org has no Case field {settings.external_id_field}; looking the "
                    "Case up by email, subject and time instead"
                )
        existing: ExistingCase | None = None
        if retrying:
            async with run.step("check an earlier attempt") as step:
                existing = await _existing_case(
                    client, session, external_field=external, subject=subject
                )
                step.detail = (
                    f"found Case {existing.id} with {len(existing.comments)} comments"
                    if existing
                    else "no Case yet"
                )
        comment_ids: list[str | None] = [None] * len(chunks)
        if existing is not None:
            have = {body: cid for cid, body in existing.comments}
            for index, chunk in enumerate(chunks):
                comment_ids[index] = have.get(chunk)
            missing = _missing(chunks, existing.comments)
            async with run.step("add missing comments") as step:
                await _post_comments(
                    client, existing.id, chunks, missing, comment_ids, settings, session
                )
                step.detail = f"{len(missing)} of {len(chunks)} comments were missing"
            return existing.id, existing.case_number, comment_ids
        contact = await _find_contact(client, run, session.contact_address)
        async with run.step("create Case with transcript") as step:
            values = _case_values(
                session,
                settings,
                subject=subject,
                description=description,
                contact=contact,
                fields=fields,
                step=step,
            )
            if external:
                case_sub = Subrequest(
                    method="PATCH",
                    url=f"sobjects/Case/{external}/{session.id}",
                    reference_id="case",
                    body=values,
                )
            else:
                case_sub = Subrequest(
                    method="POST", url="sobjects/Case", reference_id="case", body=values
                )
            first = list(range(min(len(chunks), COMPOSITE_MAX - 2)))
            subs = [case_sub]
            for index in first:
                subs.append(_comment_sub(index, chunks[index], "@{case.id}", settings))
            subs.append(
                Subrequest(
                    method="GET",
                    url="sobjects/Case/@{case.id}?fields=CaseNumber",
                    reference_id="number",
                )
            )
            results = await client.composite(
                subs, all_or_none=True, priority=Priority.URGENT, idempotent=False
            )
            if rt.crash_after_composite is not None:
                rt.crash_after_composite()
            error = _first_error(results)
            if error is not None:
                raise error
            by_ref = {r.reference_id: r for r in results}
            case_id = str(by_ref["case"].body["id"])
            number_body = by_ref["number"].body
            number = number_body.get("CaseNumber") if isinstance(number_body, dict) else None
            for index in first:
                body = by_ref[f"c{index}"].body
                comment_ids[index] = str(body["id"]) if isinstance(body, dict) else None
            rest = [i for i in range(len(chunks)) if i not in set(first)]
            if rest:
                await _post_comments(client, case_id, chunks, rest, comment_ids, settings, session)
            step.detail = f"Case {number or case_id} with {len(chunks)} transcript comments"
        return case_id, str(number) if number else None, comment_ids


def _comment_sub(index: int, body: str, parent: str, settings: EmailSettings) -> Subrequest:
    return Subrequest(
        method="POST",
        url="sobjects/CaseComment",
        reference_id=f"c{index}",
        body={"ParentId": parent, "CommentBody": body, "IsPublished": settings.comments_published},
    )


async def _post_comments(
    client: SalesforceClient,
    case_id: str,
    chunks: Sequence[str],
    indexes: Sequence[int],
    comment_ids: list[str | None],
    settings: EmailSettings,
    session: EmailSession,
) -> None:
    """Post the given chunks in order, ``COMPOSITE_MAX`` per call."""
    for start in range(0, len(indexes), COMPOSITE_MAX):
        part = indexes[start : start + COMPOSITE_MAX]
        subs = [_comment_sub(i, chunks[i], case_id, settings) for i in part]
        results = await client.composite(
            subs, all_or_none=True, priority=Priority.URGENT, idempotent=False
        )
        error = _first_error(results)
        if error is not None:
            raise error
        for index, result in zip(part, results, strict=True):
            comment_ids[index] = str(result.body["id"]) if isinstance(result.body, dict) else None


async def _finish_handoff(
    rt: EmailRuntime,
    session: EmailSession,
    included: Sequence[EmailMessage],
    chunks: Sequence[str],
    case_id: str,
    case_number: str | None,
    comment_ids: Sequence[str | None],
) -> None:
    ws = session.workspace_id
    async with rt.db.transaction() as tx:
        # The row lock orders this against an inbound mail being attached right now.
        await email_sessions.get(tx, ws, session.id, for_update=True)
        await email_sessions.mark_handed_off(
            tx, ws, session.id, case_id=case_id, case_number=case_number
        )
        for message in included:
            text = format_line(transcript_lines([message])[0])[:200]
            for index, chunk in enumerate(chunks):
                comment = comment_ids[index]
                if comment and text in chunk:
                    await email_messages.set_comment(tx, ws, [message.id], comment)
                    break
        upto = session.handoff_upto or 0
        for message in await email_messages.list_for(tx, ws, session.id):
            if message.id > upto and message.sf_comment_id is None and _pushable(message):
                await jobs.defer(
                    rt.jobs,
                    jobnames.PUSH_MESSAGE,
                    tx=tx,
                    lock=jobnames.session_lock(ws, session.id),
                    workspace_id=ws,
                    message_id=message.id,
                )


def _pushable(message: EmailMessage) -> bool:
    """Contact and AI-agent messages go to the Case; rep replies are already there."""
    return message.author_kind in (AuthorKind.CONTACT.value, AuthorKind.AGENT.value)


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
        await _requeue(
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
            existing: tuple[tuple[str, str], ...] = ()
            if started_before is not None:
                async with run.step("check an earlier attempt") as step:
                    rows = await client.query_all(
                        format_soql(
                            "SELECT Id, CommentBody FROM CaseComment WHERE ParentId = {} "
                            "AND CreatedDate >= {}",
                            case_id,
                            soql_time(started_before) - dt.timedelta(seconds=1),
                        ),
                        priority=Priority.URGENT,
                    )
                    existing = tuple((str(r["Id"]), str(r.get("CommentBody") or "")) for r in rows)
                    step.detail = f"{len(existing)} comments since the earlier attempt"
            have = {body: cid for cid, body in existing}
            for index, chunk in enumerate(chunks):
                ids[index] = have.get(chunk)
            missing = _missing(chunks, existing)
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
        await _requeue(
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
