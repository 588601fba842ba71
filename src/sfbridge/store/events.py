"""Storage of the webhook inbox: what Salesforce sent, written before the endpoint answers.

Headers that may carry credentials are dropped before storage (:func:`safe_headers`).
Pair :func:`record` with ``jobs.defer(..., tx=tx)`` in one transaction.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sfbridge.store.db import Json, Row, Transaction

_SECRET_HEADER_PARTS = ("auth", "cookie", "token", "secret", "password", "key", "signature")


class EventStatus(enum.StrEnum):
    """Where an event is in its processing."""

    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"


@dataclass(frozen=True, kw_only=True, slots=True)
class WebhookEvent:
    """One stored webhook request."""

    id: int
    workspace_id: str
    received_at: dt.datetime
    query: Mapping[str, Any]
    body: str
    headers: Mapping[str, str]
    status: EventStatus
    processed_at: dt.datetime | None
    error: str | None


def safe_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Return the headers worth keeping, lower-cased, without any that may hold a secret."""
    return {
        name.lower(): value
        for name, value in headers.items()
        if not any(part in name.lower() for part in _SECRET_HEADER_PARTS)
    }


def _event(row: Row) -> WebhookEvent:
    return WebhookEvent(
        id=row["id"],
        workspace_id=row["workspace_id"],
        received_at=row["received_at"],
        query=row["query"],
        body=row["body"],
        headers=row["headers"],
        status=EventStatus(row["status"]),
        processed_at=row["processed_at"],
        error=row["error"],
    )


async def record(
    tx: Transaction,
    workspace_id: str,
    *,
    query: Mapping[str, Any],
    body: str,
    headers: Mapping[str, str],
) -> int:
    """Store one webhook request; return its id."""
    event_id = await tx.fetch_value(
        "event_insert",
        {
            "workspace_id": workspace_id,
            "query": Json(dict(query)),
            "body": body,
            "headers": Json(safe_headers(headers)),
        },
    )
    return int(event_id)


async def get(tx: Transaction, workspace_id: str, event_id: int) -> WebhookEvent | None:
    """Return one event of this workspace, or ``None``."""
    row = await tx.fetch_one("event_get", {"workspace_id": workspace_id, "event_id": event_id})
    return None if row is None else _event(row)


async def mark(
    tx: Transaction,
    workspace_id: str,
    event_id: int,
    status: EventStatus,
    *,
    error: str | None = None,
) -> bool:
    """Set an event's status (and error); False if no such event in this workspace."""
    changed = await tx.execute(
        "event_mark",
        {
            "workspace_id": workspace_id,
            "event_id": event_id,
            "status": status.value,
            "error": error,
        },
    )
    return changed == 1


async def list_recent(tx: Transaction, workspace_id: str, *, limit: int = 50) -> list[WebhookEvent]:
    """Return this workspace's latest events, newest first."""
    rows = await tx.fetch_all("event_list_recent", {"workspace_id": workspace_id, "limit": limit})
    return [_event(r) for r in rows]


async def last_received_at(tx: Transaction, workspace_id: str) -> dt.datetime | None:
    """Return when this workspace last received a webhook (for ``doctor``)."""
    value = await tx.fetch_value("event_last_received_at", {"workspace_id": workspace_id})
    return value if isinstance(value, dt.datetime) else None
