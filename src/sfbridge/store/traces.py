"""Storage of traces: one row per pipeline run, with its steps and the Salesforce calls made.

A trace never holds tokens or personal data: steps name what was done, calls record
method, path, status, duration and attempts. Listing pages by keyset (newest first) with
an opaque cursor.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sfbridge.errors import InvalidRow
from sfbridge.store.db import Json, Row, Transaction

MAX_PAGE = 200


class TraceStatus(enum.StrEnum):
    """Outcome of a pipeline run."""

    RUNNING = "Running"
    COMPLETE = "Complete"
    COMPLETE_WITH_ERRORS = "Complete with errors"
    ERROR = "Error"


@dataclass(frozen=True, kw_only=True, slots=True)
class SalesforceCall:
    """One HTTP call to Salesforce made during a step."""

    method: str
    path: str
    status: int | None
    duration_ms: int
    attempts: int = 1


@dataclass(frozen=True, kw_only=True, slots=True)
class TraceStep:
    """One step of a pipeline run."""

    name: str
    status: str
    duration_ms: int
    detail: str = ""
    calls: tuple[SalesforceCall, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Trace:
    """A recorded pipeline run."""

    id: str
    workspace_id: str
    activity_id: str
    activity_type: str
    status: TraceStatus
    started_at: dt.datetime
    duration_ms: int | None
    steps: tuple[TraceStep, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class TracePage:
    """One page of traces and the cursor of the next page (``None`` on the last page)."""

    items: tuple[Trace, ...]
    next_cursor: str | None


def _steps_json(steps: Sequence[TraceStep]) -> list[dict[str, Any]]:
    return [
        {
            "name": s.name,
            "status": s.status,
            "duration_ms": s.duration_ms,
            "detail": s.detail,
            "calls": [
                {
                    "method": c.method,
                    "path": c.path,
                    "status": c.status,
                    "duration_ms": c.duration_ms,
                    "attempts": c.attempts,
                }
                for c in s.calls
            ],
        }
        for s in steps
    ]


def _step(data: Mapping[str, Any]) -> TraceStep:
    return TraceStep(
        name=data["name"],
        status=data["status"],
        duration_ms=data["duration_ms"],
        detail=data.get("detail", ""),
        calls=tuple(SalesforceCall(**call) for call in data.get("calls", [])),
    )


def _trace(row: Row) -> Trace:
    return Trace(
        id=row["id"],
        workspace_id=row["workspace_id"],
        activity_id=row["activity_id"],
        activity_type=row["activity_type"],
        status=TraceStatus(row["status"]),
        started_at=row["started_at"],
        duration_ms=row["duration_ms"],
        steps=tuple(_step(s) for s in row["steps"]),
    )


async def start(
    tx: Transaction,
    workspace_id: str,
    *,
    activity_id: str,
    activity_type: str,
    started_at: dt.datetime | None = None,
) -> str:
    """Record a run as ``Running``; return the trace id to :func:`finish` later."""
    return await _insert(
        tx, workspace_id, activity_id, activity_type, TraceStatus.RUNNING, started_at, None, ()
    )


async def record(
    tx: Transaction,
    workspace_id: str,
    *,
    activity_id: str,
    activity_type: str,
    status: TraceStatus,
    started_at: dt.datetime,
    duration_ms: int,
    steps: Sequence[TraceStep],
) -> str:
    """Record a finished run in one statement; return its trace id."""
    return await _insert(
        tx, workspace_id, activity_id, activity_type, status, started_at, duration_ms, steps
    )


async def _insert(
    tx: Transaction,
    workspace_id: str,
    activity_id: str,
    activity_type: str,
    status: TraceStatus,
    started_at: dt.datetime | None,
    duration_ms: int | None,
    steps: Sequence[TraceStep],
) -> str:
    trace_id = await tx.fetch_value(
        "trace_insert",
        {
            "workspace_id": workspace_id,
            "activity_id": activity_id,
            "activity_type": activity_type,
            "status": status.value,
            "started_at": started_at,
            "duration_ms": duration_ms,
            "steps": Json(_steps_json(steps)),
        },
    )
    return str(trace_id)


async def finish(
    tx: Transaction,
    workspace_id: str,
    trace_id: str,
    *,
    status: TraceStatus,
    duration_ms: int,
    steps: Sequence[TraceStep],
) -> bool:
    """Store the outcome of a run started with :func:`start`; False if no such trace here."""
    if status is TraceStatus.RUNNING:
        raise InvalidRow("A finished trace needs a final status, not Running.")
    changed = await tx.execute(
        "trace_finish",
        {
            "workspace_id": workspace_id,
            "trace_id": trace_id,
            "status": status.value,
            "duration_ms": duration_ms,
            "steps": Json(_steps_json(steps)),
        },
    )
    return changed == 1


async def get(tx: Transaction, workspace_id: str, trace_id: str) -> Trace | None:
    """Return one trace of this workspace in full, or ``None``."""
    row = await tx.fetch_one("trace_get", {"workspace_id": workspace_id, "trace_id": trace_id})
    return None if row is None else _trace(row)


def _encode_cursor(trace: Trace) -> str:
    raw = json.dumps([trace.started_at.isoformat(), trace.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        started, trace_id = json.loads(raw)
        return dt.datetime.fromisoformat(started), str(trace_id)
    except (ValueError, TypeError) as exc:
        raise InvalidRow("The page cursor is not valid; start again from the first page.") from exc


async def list_page(
    tx: Transaction,
    workspace_id: str,
    *,
    status: TraceStatus | None = None,
    activity_type: str | None = None,
    activity_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> TracePage:
    """Return one page of this workspace's traces, newest first, matching the filters.

    Args:
        tx: The transaction.
        workspace_id: Whose traces.
        status: Only this outcome.
        activity_type: Only this kind of activity (e.g. ``call``, ``chat``).
        activity_id: Only runs for this activity.
        since: Started at or after (inclusive).
        until: Started before (exclusive).
        limit: Page size, 1 to 200.
        cursor: ``next_cursor`` of the previous page.

    Raises:
        InvalidRow: The cursor is malformed.
    """
    limit = max(1, min(limit, MAX_PAGE))
    after_started, after_id = _decode_cursor(cursor) if cursor else (None, None)
    rows = await tx.fetch_all(
        "trace_list",
        {
            "workspace_id": workspace_id,
            "status": status.value if status else None,
            "activity_type": activity_type,
            "activity_id": activity_id,
            "since": since,
            "until": until,
            "after_started_at": after_started,
            "after_id": after_id,
            "limit": limit + 1,
        },
    )
    items = tuple(_trace(r) for r in rows[:limit])
    next_cursor = _encode_cursor(items[-1]) if len(rows) > limit else None
    return TracePage(items=items, next_cursor=next_cursor)


async def purge_older_than(tx: Transaction, *, days: int) -> int:
    """Delete every workspace's traces started more than ``days`` ago; return how many."""
    return await tx.execute("trace_purge", {"days": days})
