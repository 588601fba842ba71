"""What already exists in Salesforce: the Case's fields, and an earlier attempt's records.

A retry after a crash (or a lost answer) asks Salesforce first: the Case by its external id
(the session id) with its comments, or, when the org lacks that field, by SuppliedEmail +
Subject + CreatedDate; comments appended later are looked up by parent and time. Only the
chunks not found are written again, so a retry never makes a second Case or comment.
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sfbridge.salesforce.client import SalesforceClient
from sfbridge.salesforce.governor import Priority
from sfbridge.salesforce.soql import format_soql
from sfbridge.services.email.runtime import EmailRuntime
from sfbridge.services.email.sftime import soql_time
from sfbridge.store import email_addresses
from sfbridge.store.email_sessions import EmailSession

#: A comment is (Salesforce id, body).
Comment = tuple[str, str]


@dataclass(frozen=True, kw_only=True, slots=True)
class ExistingCase:
    """A Case found on a retry, with the bodies of its comments."""

    id: str
    case_number: str | None
    comments: tuple[Comment, ...]  #: (id, body)


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


def _comments_of(record: dict[str, Any]) -> tuple[Comment, ...]:
    sub = record.get("CaseComments") or {}
    rows = sub.get("records") or () if isinstance(sub, dict) else ()
    return tuple((str(r.get("Id")), str(r.get("CommentBody") or "")) for r in rows)


async def existing_case(
    client: SalesforceClient,
    session: EmailSession,
    *,
    external_field: str | None,
    subject: str,
) -> ExistingCase | None:
    """The Case an earlier handoff attempt of ``session`` wrote, with its comments, or ``None``.

    Args:
        client: The workspace's Salesforce client.
        session: The session being handed off (its ``handoff_started_at`` bounds the search).
        external_field: The Case's external-id field, or ``None`` when the org lacks it.
        subject: The Case subject the attempt used.
    """
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


async def comments_since(
    client: SalesforceClient, case_id: str, since: dt.datetime
) -> tuple[Comment, ...]:
    """The Case's comments created since an earlier push attempt started (one second slack)."""
    rows = await client.query_all(
        format_soql(
            "SELECT Id, CommentBody FROM CaseComment WHERE ParentId = {} AND CreatedDate >= {}",
            case_id,
            soql_time(since) - dt.timedelta(seconds=1),
        ),
        priority=Priority.URGENT,
    )
    return tuple((str(r["Id"]), str(r.get("CommentBody") or "")) for r in rows)


def missing_chunks(chunks: Sequence[str], existing: Sequence[Comment]) -> list[int]:
    """Indexes of the chunks not yet present (a multiset comparison of bodies)."""
    have = collections.Counter(body for _, body in existing)
    missing = []
    for index, chunk in enumerate(chunks):
        if have[chunk] > 0:
            have[chunk] -= 1
        else:
            missing.append(index)
    return missing


def known_ids(chunks: Sequence[str], existing: Sequence[Comment]) -> list[str | None]:
    """For each chunk, the id of an existing comment with the same body, else ``None``."""
    have = {body: cid for cid, body in existing}
    return [have.get(chunk) for chunk in chunks]
