"""Follow Cases in Salesforce: rep replies to the contact, closure and reopening.

A webhook (``handle_webhook_event``) or the periodic reconciliation reads the Case and what
is new since the session's cursor in ONE SOQL query (comments and outgoing emails as
subqueries). Rep replies are public CaseComments and outgoing EmailMessages written by
anyone but our integration user; each is stored once (unique Salesforce record id per
workspace) with its outbox row and ``send_reply`` job in one transaction, so duplicate, late
and out-of-order webhooks are harmless.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sfbridge.core import record_ids
from sfbridge.core.transcript import AuthorKind
from sfbridge.salesforce.errors import ReconnectNeeded
from sfbridge.salesforce.governor import Priority
from sfbridge.salesforce.soql import format_soql
from sfbridge.services import tracing
from sfbridge.services.email.intake import load_settings
from sfbridge.services.email.replies import queue_message
from sfbridge.services.email.runtime import EmailRuntime
from sfbridge.services.email.settings import MAX_REOPEN_WATCH_DAYS
from sfbridge.services.email.sftime import parse_sf_datetime, soql_time
from sfbridge.store import email_sessions
from sfbridge.store.email_sessions import EmailSession

log = logging.getLogger(__name__)

IN_CHUNK = 200

CASE_SOQL = (
    "SELECT Id, CaseNumber, Status, IsClosed, "
    "(SELECT Id, CommentBody, IsPublished, CreatedById, CreatedBy.Name, CreatedDate "
    "FROM CaseComments WHERE CreatedDate >= {cursor} ORDER BY CreatedDate), "
    "(SELECT Id, TextBody, Subject, Incoming, FromName, FromAddress, CreatedById, CreatedDate "
    "FROM EmailMessages WHERE Incoming = false AND CreatedDate >= {cursor} "
    "ORDER BY CreatedDate) "
    "FROM Case WHERE Id IN {ids}{only_open}"
)


@dataclass(frozen=True, kw_only=True, slots=True)
class RepReply:
    """A reply a rep wrote on the Case."""

    record_id: str
    author_name: str
    text: str
    created: dt.datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class SyncOutcome:
    """What one sync did to one session."""

    session_id: str
    replies: int
    closed: bool


def _rows(record: dict[str, Any], name: str) -> list[dict[str, Any]]:
    sub = record.get(name)
    if isinstance(sub, dict):
        return [r for r in sub.get("records") or () if isinstance(r, dict)]
    return []


def rep_replies(record: dict[str, Any], integration_user: str | None) -> list[RepReply]:
    """The rep replies in a Case record with its two subqueries, oldest first."""

    def ours(user: Any) -> bool:
        return bool(integration_user) and str(user)[:15] == str(integration_user)[:15]

    replies: list[RepReply] = []
    for row in _rows(record, "CaseComments"):
        created = parse_sf_datetime(row.get("CreatedDate"))
        if not row.get("IsPublished") or ours(row.get("CreatedById")) or created is None:
            continue
        by = row.get("CreatedBy")
        name = str(by.get("Name") or "") if isinstance(by, dict) else ""
        replies.append(
            RepReply(
                record_id=str(row["Id"]),
                author_name=name,
                text=str(row.get("CommentBody") or ""),
                created=created,
            )
        )
    for row in _rows(record, "EmailMessages"):
        created = parse_sf_datetime(row.get("CreatedDate"))
        if row.get("Incoming") or ours(row.get("CreatedById")) or created is None:
            continue
        replies.append(
            RepReply(
                record_id=str(row["Id"]),
                author_name=str(row.get("FromName") or ""),
                text=str(row.get("TextBody") or ""),
                created=created,
            )
        )
    replies.sort(key=lambda r: (r.created, r.record_id))
    return replies


def newest_seen(record: dict[str, Any]) -> dt.datetime | None:
    """The newest CreatedDate among the subquery rows (the next cursor)."""
    times = [
        parse_sf_datetime(r.get("CreatedDate"))
        for name in ("CaseComments", "EmailMessages")
        for r in _rows(record, name)
    ]
    known = [t for t in times if t is not None]
    return max(known) if known else None


async def integration_user(rt: EmailRuntime, workspace_id: str) -> str | None:
    """The Salesforce user id sfbridge writes as."""
    async with rt.db.transaction() as tx:
        value = await tx.fetch_value("email_integration_user", {"workspace_id": workspace_id})
    return str(value) if value else None


async def sync_sessions(
    rt: EmailRuntime,
    workspace_id: str,
    sessions: Sequence[EmailSession],
    *,
    open_only: bool = False,
) -> list[SyncOutcome]:
    """Read the Cases of these sessions (one SOQL per 200) and apply what is new.

    Args:
        rt: The email runtime.
        workspace_id: The sessions' workspace.
        sessions: Sessions with a Case.
        open_only: Read only the Cases that are open now (a resolved session's Case that
            was reopened); the others are left alone.
    """
    outcomes: list[SyncOutcome] = []
    if not sessions:
        return outcomes
    client = await rt.access.client(workspace_id)
    user = await integration_user(rt, workspace_id)
    for start in range(0, len(sessions), IN_CHUNK):
        part = [s for s in sessions[start : start + IN_CHUNK] if s.case_id]
        if not part:
            continue
        cursors = [s.sf_cursor or s.handoff_started_at or s.created_at for s in part]
        cursor = soql_time(min(cursors))
        soql = CASE_SOQL.format(
            cursor=format_soql("{}", cursor),
            ids=format_soql("{}", [s.case_id for s in part]),
            only_open=" AND IsClosed = false" if open_only else "",
        )
        records = await client.query_all(soql, priority=Priority.URGENT)
        by_case = {str(r.get("Id")): r for r in records}
        for session in part:
            record = by_case.get(str(session.case_id))
            if record is not None:
                outcomes.append(await apply_case(rt, session, record, user))
    return outcomes


async def apply_case(
    rt: EmailRuntime, session: EmailSession, record: dict[str, Any], user: str | None
) -> SyncOutcome:
    """Store the rep replies (queueing their mail) and follow the Case's status."""
    ws = session.workspace_id
    replies = rep_replies(record, user)
    sent = 0
    async with rt.db.transaction() as tx:
        current = await email_sessions.get(tx, ws, session.id, for_update=True)
        if current is None:
            return SyncOutcome(session_id=session.id, replies=0, closed=False)
        settings = await load_settings(tx, ws)
        cursor = current.sf_cursor
        for reply in replies:
            if cursor is not None and reply.created < soql_time(cursor):
                continue
            stored = await queue_message(
                rt,
                tx,
                current,
                author_kind=AuthorKind.REP,
                author_name=reply.author_name,
                text=reply.text,
                settings=settings,
                sf_record_id=reply.record_id,
                sent_at=reply.created,
            )
            sent += stored is not None
        closed = bool(record.get("IsClosed"))
        number = record.get("CaseNumber")
        await email_sessions.set_case_state(
            tx,
            ws,
            session.id,
            closed=closed,
            case_number=str(number) if number else None,
            cursor=newest_seen(record),
        )
    return SyncOutcome(session_id=session.id, replies=sent, closed=closed)


async def handle_webhook_event(rt: EmailRuntime, workspace_id: str, event_id: int) -> None:
    """The ``handle_webhook_event`` job: sync the Case named by the event, then coalesce."""
    started = rt.clock()
    async with rt.db.transaction() as tx:
        event = await tx.fetch_one(
            "event_get", {"workspace_id": workspace_id, "event_id": event_id}
        )
        if event is None or event["status"] != "received":
            return
        query = event["query"] if isinstance(event["query"], dict) else {}
        given = str(query.get("caseId") or "").strip()
        # Apex may send the 15-character id; we store the 18-character one.
        case_id = record_ids.to18(given)
        session = await email_sessions.by_case(tx, workspace_id, case_id) if case_id else None
        if session is None:
            if not given:
                reason = "no caseId parameter"
            elif case_id is None:
                reason = f"caseId {given[:40]!r} is not a Salesforce record id"
            else:
                reason = f"no session has Case {given}"
            await tx.execute(
                "event_mark",
                {
                    "workspace_id": workspace_id,
                    "event_id": event_id,
                    "status": "ignored",
                    "error": reason,
                },
            )
            return
    async with (
        tracing.run(
            rt.db, workspace_id, activity_type="email_webhook", activity_id=session.id
        ) as run,
        run.step(f"sync Case {session.case_number or case_id}") as step,
    ):
        try:
            outcomes = await sync_sessions(rt, workspace_id, [session])
        except ReconnectNeeded as exc:
            step.warn(f"Salesforce is not connected ({exc.message}); reconciliation will catch up")
            outcomes = []
        step.detail = step.detail or ", ".join(
            f"{o.replies} new reply(ies){'; Case closed' if o.closed else ''}" for o in outcomes
        )
    async with rt.db.transaction() as tx:
        await tx.execute(
            "email_events_mark_case",
            {
                "workspace_id": workspace_id,
                "case_id": case_id,
                "event_id": event_id,
                "until": started,
            },
        )


async def reconcile(rt: EmailRuntime) -> int:
    """The periodic reconciliation: catch what a webhook that never came would have told.

    Per workspace, one SOQL query per 200 handed-off sessions (rep replies, closure), and
    one per 200 sessions resolved in the last ``reopen_watch_days`` days that reads only
    Cases open again (reopened in Salesforce: the session is handed off again).

    Returns:
        The number of rep replies found.
    """
    now = rt.clock()
    async with rt.db.transaction() as tx:
        workspaces = await email_sessions.workspaces_to_reconcile(
            tx, resolved_since=now - dt.timedelta(days=MAX_REOPEN_WATCH_DAYS)
        )
    total = 0
    for workspace_id in workspaces:
        async with rt.db.transaction() as tx:
            settings = await load_settings(tx, workspace_id)
            sessions = await email_sessions.handed_off(tx, workspace_id)
            watched = (
                await email_sessions.resolved_since(
                    tx, workspace_id, now - dt.timedelta(days=settings.reopen_watch_days)
                )
                if settings.reopen_watch_days > 0
                else []
            )
        try:
            outcomes = await sync_sessions(rt, workspace_id, sessions)
            outcomes += await sync_sessions(rt, workspace_id, watched, open_only=True)
        except ReconnectNeeded:
            continue
        except Exception:  # one workspace's failure must not stop the others
            log.exception("reconciliation failed for workspace %s", workspace_id)
            continue
        total += sum(o.replies for o in outcomes)
    return total
