"""The job queue: a procrastinate App on sfbridge's Postgres, its tasks, and how to defer them.

Shape (procrastinate 3.x):

- :func:`create_job_app` builds the ``App``; tasks live in a ``Blueprint`` added under the
  namespace ``sfbridge`` (task names are ``sfbridge:<name>``). A blueprint can be bound to
  one app only, so tasks are registered by *registrar* functions called on a fresh
  blueprint per app (:func:`build_blueprint`)::

      def register_email_tasks(bp: Blueprint) -> None:
          @bp.task(name="handle_event", queue=Queue.URGENT, retry=URGENT_RETRY,
                   pass_context=True)
          async def handle_event(context: JobContext, *, workspace_id: str, event_id: int) -> None:
              await services.events.handle(job_deps(context), workspace_id, event_id)

      app = create_job_app(db, registrars=[register_email_tasks])

- A job holds ids, never payloads. The payload row and the job are written in the SAME
  transaction (transactional outbox): commit both or neither::

      async with db.transaction() as tx:
          event_id = await events.record(tx, ws_id, query=q, body=b, headers=h)
          await defer(app, "handle_event", tx=tx, lock=f"ws:{ws_id}",
                      workspace_id=ws_id, event_id=event_id)

- Every task that concerns a workspace takes ``workspace_id`` as a keyword argument: the
  failed-jobs listing and :func:`replay` filter on it.
- Workers run with :func:`worker_options`: heartbeats, stalled-worker detection, the
  :class:`ErrorRecorder` middleware (procrastinate keeps a job's status, not its error) and
  the dependencies tasks read from their context.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from procrastinate import App, Blueprint, JobContext, PsycopgConnector, RetryStrategy
from procrastinate import exceptions as pq_exceptions
from procrastinate.app import WorkerOptions
from procrastinate.connector import BaseConnector
from procrastinate.types import JSONValue

from sfbridge.errors import AlreadyQueued, JobNotFound, StoreError
from sfbridge.store import traces
from sfbridge.store.db import Database, Transaction

logger = logging.getLogger(__name__)

NAMESPACE = "sfbridge"

#: Seconds between worker heartbeats, and after which a silent worker counts as dead.
HEARTBEAT_SECONDS = 10.0
STALLED_AFTER_SECONDS = 60.0


class Queue(enum.StrEnum):
    """The queues sfbridge uses. One worker serves all of them unless told otherwise."""

    URGENT = "urgent"  #: a customer is waiting (replies, webhook events)
    DEFAULT = "default"  #: normal work
    DEFERRABLE = "deferrable"  #: may wait when the Salesforce API budget runs low


#: Backoff for normal work: 2, 4, 8 ... 1024 s (about 34 minutes over 10 attempts).
STANDARD_RETRY = RetryStrategy(max_attempts=10, exponential_wait=2)
#: Backoff for urgent work: 2, 4, 8, 16, 32 s, then give up and surface the failure.
URGENT_RETRY = RetryStrategy(max_attempts=5, exponential_wait=2)

Registrar = Callable[[Blueprint], None]


def qualified(task_name: str) -> str:
    """Return the full task name (``sfbridge:<name>``) for a short or full name."""
    return task_name if ":" in task_name else f"{NAMESPACE}:{task_name}"


def build_blueprint(registrars: Iterable[Registrar] = ()) -> Blueprint:
    """Return a fresh blueprint holding the maintenance tasks plus each registrar's tasks."""
    blueprint = Blueprint()
    register_maintenance_tasks(blueprint)
    for register in registrars:
        register(blueprint)
    return blueprint


def create_job_app(
    target: Database | str | BaseConnector, *, registrars: Iterable[Registrar] = ()
) -> App:
    """Build the procrastinate App with sfbridge's tasks.

    Args:
        target: A :class:`Database` (then open the app on its pool:
            ``async with app.open_async(pool=db.pool)``), a database URL, or any
            procrastinate connector (tests may pass ``InMemoryConnector``).
        registrars: Functions that register tasks on the blueprint.
    """
    if isinstance(target, BaseConnector):
        connector = target
    elif isinstance(target, str):
        connector = PsycopgConnector(conninfo=target, kwargs={"options": "-c TimeZone=UTC"})
    else:
        connector = PsycopgConnector()  # the pool comes from app.open_async(pool=db.pool)
    app = App(connector=connector)
    app.add_tasks_from(build_blueprint(registrars), namespace=NAMESPACE)
    return app


# --- deferring -----------------------------------------------------------------------------


async def defer(
    app: App,
    task_name: str,
    *,
    tx: Transaction | None = None,
    lock: str | None = None,
    queueing_lock: str | None = None,
    queue: Queue | None = None,
    priority: int | None = None,
    schedule_in: Mapping[str, float] | None = None,
    **task_kwargs: JSONValue,
) -> int:
    """Queue a job and return its id.

    Args:
        app: The job app.
        task_name: ``"handle_event"`` or ``"sfbridge:handle_event"``; must be registered.
        tx: Defer inside this transaction (outbox): the job exists only if it commits.
        lock: Jobs with the same lock run one at a time, in order (e.g. one conversation).
        queueing_lock: At most one waiting job with this value (coalescing).
        queue: Override the task's queue.
        priority: Higher runs first.
        schedule_in: Delay, as ``timedelta`` keywords (``{"seconds": 30}``).
        task_kwargs: The task's arguments: ids, never payloads.

    Raises:
        AlreadyQueued: A job with ``queueing_lock`` is already waiting (``tx`` stays usable).
        StoreError: The database failed.
    """
    try:
        deferrer = app.configure_task(
            qualified(task_name),
            allow_unknown=False,
            lock=lock,
            queueing_lock=queueing_lock,
            queue=queue.value if queue else None,
            priority=priority,
            schedule_in=dict(schedule_in) if schedule_in else None,
            connection=tx.connection if tx else None,
        )
    except pq_exceptions.TaskNotFound as exc:
        raise StoreError(f"No task named {qualified(task_name)!r} is registered.") from exc
    try:
        if tx is None:
            job_id: int = await deferrer.defer_async(**task_kwargs)
        else:
            # A savepoint: a refused job (queueing lock) must not abort the caller's transaction.
            async with tx.connection.transaction():
                job_id = await deferrer.defer_async(**task_kwargs)
    except pq_exceptions.AlreadyEnqueued as exc:
        raise AlreadyQueued(
            f"A job with queueing lock {queueing_lock!r} is already waiting.",
            queueing_lock=queueing_lock,
        ) from exc
    except pq_exceptions.ConnectorException as exc:
        raise StoreError(f"The job could not be queued ({type(exc).__name__}).") from exc
    return job_id


# --- workers -------------------------------------------------------------------------------


class ErrorRecorder:
    """Worker middleware: store each failed attempt's error in ``job_errors``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def __call__(
        self, call_next: Callable[[], Awaitable[Any]], context: JobContext, worker: object
    ) -> Any:
        try:
            return await call_next()
        except Exception as exc:
            await self._record(context, exc)
            raise

    async def _record(self, context: JobContext, exc: Exception) -> None:
        job = context.job
        workspace_id = job.task_kwargs.get("workspace_id")
        params = {
            "job_id": job.id,
            "workspace_id": workspace_id if isinstance(workspace_id, str) else None,
            "task_name": job.task_name,
            "attempt": job.attempts + 1,
            "error_type": type(exc).__name__,
            "message": (str(exc) or type(exc).__name__)[:2000],
        }
        try:
            async with self._db.transaction() as tx:
                await tx.execute("job_error_insert", params)
        except StoreError:
            logger.exception("Could not record the error of job %s", job.id)


def worker_options(
    db: Database,
    *,
    concurrency: int = 4,
    trace_retention_days: int = 30,
    context: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> WorkerOptions:
    """Return the options for ``app.run_worker_async(**worker_options(db, ...))``.

    Args:
        db: Handed to tasks as ``context.additional_context["db"]``; also records errors.
        concurrency: Jobs run at once by this worker.
        trace_retention_days: How long the trace purge keeps traces.
        context: More dependencies for tasks (``context.additional_context[...]``).
        overrides: Any other procrastinate worker option (``wait``, ``queues``, ``name``...).
    """
    options: WorkerOptions = {
        "concurrency": concurrency,
        "update_heartbeat_interval": HEARTBEAT_SECONDS,
        "stalled_worker_timeout": STALLED_AFTER_SECONDS,
        "additional_context": {
            "db": db,
            "trace_retention_days": trace_retention_days,
            **(context or {}),
        },
        "worker_middleware": [ErrorRecorder(db)],
    }
    options.update(overrides)  # type: ignore[typeddict-item]  # overrides are WorkerOptions keys
    return options


def context_db(context: JobContext) -> Database:
    """Return the :class:`Database` a task received through :func:`worker_options`."""
    db = context.additional_context.get("db")
    if not isinstance(db, Database):
        raise StoreError("The worker was started without worker_options(db); tasks need it.")
    return db


# --- failed jobs ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class FailedJob:
    """A job that ran out of attempts, with the last error it raised."""

    id: int
    task_name: str
    queue: str
    lock: str | None
    args: Mapping[str, Any]
    attempts: int
    error_type: str | None
    error_message: str | None
    failed_at: dt.datetime | None


async def list_failed_jobs(
    tx: Transaction, workspace_id: str, *, limit: int = 50
) -> list[FailedJob]:
    """Return this workspace's failed jobs, newest first."""
    rows = await tx.fetch_all("job_list_failed", {"workspace_id": workspace_id, "limit": limit})
    return [
        FailedJob(
            id=r["id"],
            task_name=r["task_name"],
            queue=r["queue_name"],
            lock=r["lock"],
            args=r["args"],
            attempts=r["attempts"],
            error_type=r["error_type"],
            error_message=r["message"],
            failed_at=r["failed_at"],
        )
        for r in rows
    ]


async def replay(tx: Transaction, workspace_id: str, job_id: int) -> None:
    """Put a failed job of this workspace back in its queue, to run now.

    Raises:
        JobNotFound: No failed job with that id belongs to this workspace.
    """
    replayed = await tx.execute("job_replay", {"workspace_id": workspace_id, "job_id": job_id})
    if replayed != 1:
        raise JobNotFound(f"No failed job {job_id} in this workspace.")


# --- maintenance tasks ---------------------------------------------------------------------


async def retry_stalled_jobs(context: JobContext, timestamp: int) -> int:
    """Put jobs of dead workers (no heartbeat for a while) back in their queue."""
    manager = context.app.job_manager
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS)
    count = 0
    for job in stalled:
        await manager.retry_job(job)
        count += 1
    if count:
        logger.warning("Requeued %d jobs of stalled workers", count)
    return count


async def purge_traces(context: JobContext, timestamp: int) -> int:
    """Delete traces older than the retention (``trace_retention_days``)."""
    days = int(context.additional_context.get("trace_retention_days", 30))
    async with context_db(context).transaction() as tx:
        return await traces.purge_older_than(tx, days=days)


async def purge_finished_jobs(context: JobContext, timestamp: int) -> None:
    """Delete succeeded jobs older than a week (failed ones stay for replay)."""
    await context.app.job_manager.delete_old_jobs(nb_hours=24 * 7)


def register_maintenance_tasks(blueprint: Blueprint) -> None:
    """Register the periodic housekeeping tasks."""
    for func, cron in (
        (retry_stalled_jobs, "* * * * *"),
        (purge_traces, "17 3 * * *"),
        (purge_finished_jobs, "37 3 * * *"),
    ):
        task = blueprint.task(
            name=func.__name__,
            queue=Queue.DEFAULT.value,
            queueing_lock=func.__name__,
            pass_context=True,
        )(func)
        blueprint.periodic(cron=cron)(task)
