"""Webhook intake: store an event and queue its job in one statement (the hot path)."""

from __future__ import annotations

from collections.abc import Mapping

from sfbridge.store.connections import hash_token
from sfbridge.store.db import Database, Json

#: The task that handles a Salesforce webhook event (registered by the email-cases jobs).
TASK_NAME = "sfbridge:handle_webhook_event"
QUEUE = "urgent"


async def accept(
    db: Database,
    *,
    token: str,
    query: Mapping[str, str],
    body: str,
    headers: Mapping[str, str],
) -> int | None:
    """Persist a webhook call and queue its handling; return the event id.

    Returns ``None`` when the token belongs to no workspace (nothing is stored).
    """
    async with db.transaction() as tx:
        row = await tx.fetch_one(
            "webhook_accept",
            {
                "token_hash": hash_token(token),
                "query": Json(dict(query)),
                "body": body,
                "headers": Json(dict(headers)),
                "queue": QUEUE,
                "task_name": TASK_NAME,
            },
        )
    return None if row is None else int(row["id"])
