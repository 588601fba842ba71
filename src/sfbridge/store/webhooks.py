"""Webhook intake: store events and queue their jobs, many calls per commit (the hot path).

One statement (``webhook_accept``) stores a batch of calls and queues one job per stored event,
so an event and its job commit together or not at all. :class:`WebhookIntake` is a group
commit: calls that arrive while a commit is in flight wait for the next one, and each caller
gets its answer only after the transaction holding its row has committed. Nothing is held in
memory past a failed commit: the callers get the error (the endpoint answers 5xx and the sender
retries).

Example::

    intake = WebhookIntake(db)
    event_id = await intake.accept(WebhookCall(token=t, query={"caseId": c}, body="", headers={}))
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sfbridge.errors import StoreError, StoreUnavailable
from sfbridge.store.connections import hash_token
from sfbridge.store.db import Database, Json

#: The task that handles a Salesforce webhook event (registered by the email-cases jobs).
TASK_NAME = "sfbridge:handle_webhook_event"
QUEUE = "urgent"

#: Most calls stored by one statement (one transaction).
MAX_BATCH = 256
#: Most batches committing at once (each holds one pooled connection while it does).
MAX_IN_FLIGHT = 2


@dataclass(frozen=True, kw_only=True, slots=True)
class WebhookCall:
    """One call of the webhook endpoint, as it will be stored."""

    token: str
    query: Mapping[str, str]
    body: str
    headers: Mapping[str, str]


def _text(value: str) -> str:
    # Postgres text and jsonb cannot hold NUL; like undecodable bytes, it becomes U+FFFD.
    return value.replace("\x00", "\ufffd")


def _row(call: WebhookCall) -> dict[str, object]:
    return {
        "token_hash": hash_token(call.token),
        "query": {_text(k): _text(v) for k, v in call.query.items()},
        "body": _text(call.body),
        "headers": {_text(k): _text(v) for k, v in call.headers.items()},
    }


async def accept_many(db: Database, calls: Sequence[WebhookCall]) -> list[int | None]:
    """Persist webhook calls and queue their handling in one transaction.

    Args:
        db: The database.
        calls: The calls, in arrival order (events of one Case are handled in this order).

    Returns:
        For each call, its event id, or ``None`` when its token belongs to no workspace (nothing
        is stored for it).

    Raises:
        StoreError: The statement or the commit failed; nothing of the batch is stored.
    """
    if not calls:
        return []
    async with db.transaction() as tx:
        rows = await tx.fetch_all(
            "webhook_accept",
            {
                "calls": Json([_row(call) for call in calls]),
                "queue": QUEUE,
                "task_name": TASK_NAME,
            },
        )
    ids: list[int | None] = [None] * len(calls)
    for row in rows:
        ids[int(row["n"]) - 1] = int(row["id"])
    return ids


async def accept(
    db: Database,
    *,
    token: str,
    query: Mapping[str, str],
    body: str,
    headers: Mapping[str, str],
) -> int | None:
    """Persist one webhook call and queue its handling; return the event id.

    Returns ``None`` when the token belongs to no workspace (nothing is stored).
    """
    call = WebhookCall(token=token, query=query, body=body, headers=headers)
    return (await accept_many(db, [call]))[0]


@dataclass(kw_only=True, slots=True)
class _Waiting:
    call: WebhookCall
    answer: asyncio.Future[int | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def settle(self, result: int | BaseException | None) -> None:
        if self.answer.done():  # the caller went away (client disconnected)
            return
        if isinstance(result, BaseException):
            self.answer.set_exception(result)
        else:
            self.answer.set_result(result)


def _copy(exc: StoreError) -> StoreError:
    """A fresh exception per waiting caller (a raised exception collects its traceback)."""
    if isinstance(exc, StoreUnavailable):
        fresh: StoreError = StoreUnavailable(exc.message)
    else:
        fresh = StoreError(exc.message)
    fresh.__cause__ = exc
    return fresh


def _unexpected(exc: Exception) -> StoreError:
    fresh = StoreError(f"Storing the webhook call failed ({type(exc).__name__}).")
    fresh.__cause__ = exc
    return fresh


class WebhookIntake:
    """Group commit of webhook calls: concurrent calls share one transaction.

    A call that arrives while fewer than ``max_in_flight`` batches are committing starts a
    batch at once (so a lone call waits for one commit, no timer); calls that arrive meanwhile
    queue and go in the next batch. Every caller gets its event id only after its batch
    committed, so the 202 still means "durably stored". When a batch fails for a reason other
    than an unreachable database, its calls are retried one per transaction, so one bad call
    cannot fail the others.

    Build one per process and event loop (the web app keeps it in ``app.state``).
    """

    def __init__(
        self, db: Database, *, max_batch: int = MAX_BATCH, max_in_flight: int = MAX_IN_FLIGHT
    ) -> None:
        self._db = db
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._queue: list[_Waiting] = []
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def accept(self, call: WebhookCall) -> int | None:
        """Store ``call`` and queue its job; return the event id once committed.

        Returns ``None`` when the token belongs to no workspace (nothing is stored).

        Raises:
            StoreError: The transaction holding the call failed; nothing of it is stored.
        """
        waiting = _Waiting(call=call)
        self._queue.append(waiting)
        if self._in_flight < self._max_in_flight:
            self._in_flight += 1
            task = asyncio.create_task(self._drain(), name="webhook-intake")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # The commit runs in its own task: a caller that goes away (client disconnected)
        # cancels only its own wait, never the transaction the others share.
        return await waiting.answer

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                await self._commit(batch)
        except BaseException:  # cancelled (the process stops): nobody will commit the rest
            for waiting in self._queue:
                waiting.settle(StoreUnavailable("The server stopped before storing the call."))
            self._queue.clear()
            raise
        finally:
            self._in_flight -= 1

    async def _commit(self, batch: list[_Waiting]) -> None:
        try:
            ids = await accept_many(self._db, [w.call for w in batch])
        except StoreError as exc:
            if len(batch) > 1 and not isinstance(exc, StoreUnavailable):
                for waiting in batch:  # one at a time: the pool stays free for the others
                    await self._commit([waiting])
                return
            for waiting in batch:
                waiting.settle(exc if len(batch) == 1 else _copy(exc))
        except Exception as exc:  # a bug, not the database: each caller gets a 500
            for waiting in batch:
                waiting.settle(_unexpected(exc))
        except BaseException:
            for waiting in batch:
                waiting.settle(StoreUnavailable("The server stopped before storing the call."))
            raise
        else:
            for waiting, event_id in zip(batch, ids, strict=True):
                waiting.settle(event_id)

    async def close(self) -> None:
        """Wait for the batches in flight (call when the server stops)."""
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._tasks)
