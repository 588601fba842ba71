"""The handoff to a Salesforce Case, exactly once.

Handoff (job ``handoff``, one at a time per session), at most three API calls:

1. ``SELECT Id, AccountId FROM Contact WHERE Email = ...`` (exactly one -> ContactId and
   AccountId; several -> left blank, the trace says so);
2. ONE composite request, allOrNone: upsert the Case by its external id (the session id),
   the transcript as CaseComments (``@{case.id}``), and a GET of its CaseNumber;
3. the Case describe, once per workspace (cached), to know whether the external-id and
   marker fields exist.

"Handoff attempt started" is stored BEFORE calling Salesforce. A retry after a crash (or a
lost answer) first asks Salesforce what exists (:mod:`case_lookup`) and writes only what is
missing, so a retry never makes a second Case or a second comment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sfbridge import jobs
from sfbridge.core.summary import extractive_summary, topic
from sfbridge.core.transcript import chunk_transcript, format_line
from sfbridge.salesforce.batching import Subrequest
from sfbridge.salesforce.client import SalesforceClient
from sfbridge.salesforce.errors import ReconnectNeeded, SalesforceError
from sfbridge.salesforce.governor import Priority
from sfbridge.salesforce.soql import format_soql
from sfbridge.services import tracing
from sfbridge.services.email import jobnames
from sfbridge.services.email.case_comments import (
    COMPOSITE_MAX,
    comment_sub,
    first_error,
    post_comments,
    pushable,
    transcript_lines,
)
from sfbridge.services.email.case_lookup import (
    ExistingCase,
    case_fields,
    existing_case,
    known_ids,
    missing_chunks,
)
from sfbridge.services.email.intake import load_settings
from sfbridge.services.email.runtime import EmailRuntime
from sfbridge.services.email.settings import EmailSettings
from sfbridge.services.email.sfretry import TRANSIENT, requeue
from sfbridge.store import email_messages, email_sessions
from sfbridge.store.email_messages import EmailMessage
from sfbridge.store.email_sessions import EmailSession, SessionStatus


class HandoffCrash(RuntimeError):
    """Raised by the test hook right after the composite call (a simulated worker death)."""


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


async def run_handoff(
    rt: EmailRuntime, workspace_id: str, session_id: str, *, attempt: int = 0
) -> None:
    """The ``handoff`` job. Idempotent: a session with a Case is left alone.

    Raises:
        SalesforceError: Salesforce refused the Case (shown on the session), or a transient
            failure outlasted ``rt.salesforce_backoff``.
    """
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
        await requeue(
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
        await requeue(
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
                existing = await existing_case(
                    client, session, external_field=external, subject=subject
                )
                step.detail = (
                    f"found Case {existing.id} with {len(existing.comments)} comments"
                    if existing
                    else "no Case yet"
                )
        if existing is not None:
            comment_ids = known_ids(chunks, existing.comments)
            missing = missing_chunks(chunks, existing.comments)
            async with run.step("add missing comments") as step:
                await post_comments(client, existing.id, chunks, missing, comment_ids, settings)
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
            case_id, number, comment_ids = await _create_case(
                rt, client, session, settings, values, chunks, external=external
            )
            step.detail = f"Case {number or case_id} with {len(chunks)} transcript comments"
        return case_id, number, comment_ids


async def _create_case(
    rt: EmailRuntime,
    client: SalesforceClient,
    session: EmailSession,
    settings: EmailSettings,
    values: dict[str, Any],
    chunks: Sequence[str],
    *,
    external: str | None,
) -> tuple[str, str | None, list[str | None]]:
    """One composite call: the Case, the first comments, its CaseNumber; then the rest."""
    if external:
        case_sub = Subrequest(
            method="PATCH",
            url=f"sobjects/Case/{external}/{session.id}",
            reference_id="case",
            body=values,
        )
    else:
        case_sub = Subrequest(method="POST", url="sobjects/Case", reference_id="case", body=values)
    first = list(range(min(len(chunks), COMPOSITE_MAX - 2)))
    subs = [case_sub]
    for index in first:
        subs.append(comment_sub(index, chunks[index], "@{case.id}", settings))
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
    error = first_error(results)
    if error is not None:
        raise error
    by_ref = {r.reference_id: r for r in results}
    case_id = str(by_ref["case"].body["id"])
    number_body = by_ref["number"].body
    number = number_body.get("CaseNumber") if isinstance(number_body, dict) else None
    comment_ids: list[str | None] = [None] * len(chunks)
    for index in first:
        body = by_ref[f"c{index}"].body
        comment_ids[index] = str(body["id"]) if isinstance(body, dict) else None
    rest = [i for i in range(len(chunks)) if i not in set(first)]
    if rest:
        await post_comments(client, case_id, chunks, rest, comment_ids, settings)
    return case_id, str(number) if number else None, comment_ids


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
            if message.id > upto and message.sf_comment_id is None and pushable(message):
                await jobs.defer(
                    rt.jobs,
                    jobnames.PUSH_MESSAGE,
                    tx=tx,
                    lock=jobnames.session_lock(ws, session.id),
                    workspace_id=ws,
                    message_id=message.id,
                )
