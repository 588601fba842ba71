"""The job app on real Postgres with a real worker: outbox, errors, replay, stalled jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import psycopg
import pytest
from procrastinate import App, Blueprint, JobContext

from sfbridge import jobs
from sfbridge.errors import AlreadyQueued, JobNotFound, StoreError
from sfbridge.store import events, workspaces
from sfbridge.store.db import Database


class Boom(Exception):
    """The test task failed on purpose."""


def register_test_tasks(bp: Blueprint) -> None:
    @bp.task(name="process_event", queue=jobs.Queue.URGENT.value, pass_context=True)
    async def process_event(context: JobContext, *, workspace_id: str, event_id: int) -> None:
        async with jobs.context_db(context).transaction() as tx:
            await events.mark(tx, workspace_id, event_id, events.EventStatus.PROCESSED)

    @bp.task(name="always_fails", retry=False, pass_context=True)
    async def always_fails(context: JobContext, *, workspace_id: str) -> None:
        raise Boom(f"attempt {context.job.attempts + 1} failed")


@pytest.fixture
async def app(db: Database) -> AsyncIterator[App]:
    job_app = jobs.create_job_app(db, registrars=[register_test_tasks])
    async with job_app.open_async(pool=db.pool):
        yield job_app


async def _workspace(db: Database, name: str = "Acme") -> str:
    async with db.transaction() as tx:
        return (await workspaces.create(tx, name=name)).id


async def _drain(app: App, db: Database) -> None:
    await app.run_worker_async(
        **jobs.worker_options(db, wait=False, install_signal_handlers=False, listen_notify=False)
    )


async def _statuses(app: App, task: str) -> list[str]:
    found = await app.job_manager.list_jobs_async(task=jobs.qualified(task))
    return [str(job.status) for job in found]


async def test_job_app_registers_namespaced_tasks(app: App) -> None:
    assert "sfbridge:process_event" in app.tasks
    assert "sfbridge:retry_stalled_jobs" in app.tasks
    assert jobs.qualified("x") == "sfbridge:x" and jobs.qualified("builtin:y") == "builtin:y"
    # a second app gets its own fresh blueprint (a blueprint binds to one app only)
    other = jobs.create_job_app("postgresql:///unused", registrars=[register_test_tasks])
    assert "sfbridge:process_event" in other.tasks


async def test_outbox_rollback_leaves_no_job_and_commit_leaves_one(app: App, db: Database) -> None:
    ws = await _workspace(db)
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            event_id = await events.record(tx, ws, query={}, body="lost", headers={})
            await jobs.defer(app, "process_event", tx=tx, workspace_id=ws, event_id=event_id)
            raise RuntimeError("the request failed after deferring")
    assert await _statuses(app, "process_event") == []
    async with db.transaction() as tx:
        assert await events.list_recent(tx, ws) == []

    async with db.transaction() as tx:
        event_id = await events.record(tx, ws, query={}, body="kept", headers={})
        job_id = await jobs.defer(
            app, "process_event", tx=tx, lock=f"ws:{ws}", workspace_id=ws, event_id=event_id
        )
    assert await _statuses(app, "process_event") == ["todo"]
    [job] = await app.job_manager.list_jobs_async(id=job_id)
    assert job.lock == f"ws:{ws}" and job.queue == "urgent"

    await _drain(app, db)
    assert await _statuses(app, "process_event") == ["succeeded"]
    async with db.transaction() as tx:
        event = await events.get(tx, ws, event_id)
    assert event is not None and event.status is events.EventStatus.PROCESSED


async def test_queueing_lock_refusal_keeps_the_transaction_usable(app: App, db: Database) -> None:
    ws = await _workspace(db)
    async with db.transaction() as tx:
        first = await events.record(tx, ws, query={}, body="1", headers={})
        await jobs.defer(
            app,
            "process_event",
            tx=tx,
            queueing_lock=f"sweep:{ws}",
            workspace_id=ws,
            event_id=first,
        )
        with pytest.raises(AlreadyQueued) as caught:
            await jobs.defer(
                app,
                "process_event",
                tx=tx,
                queueing_lock=f"sweep:{ws}",
                workspace_id=ws,
                event_id=first,
            )
        assert caught.value.queueing_lock == f"sweep:{ws}"
        second = await events.record(tx, ws, query={}, body="2", headers={})
    assert second > first
    assert await _statuses(app, "process_event") == ["todo"]


async def test_unknown_task_is_refused(app: App) -> None:
    with pytest.raises(StoreError, match="sfbridge:nope"):
        await jobs.defer(app, "nope", workspace_id="x")


async def test_failed_job_is_listed_with_its_error_and_replayable(app: App, db: Database) -> None:
    a = await _workspace(db, "A")
    b = await _workspace(db, "B")
    job_id = await jobs.defer(app, "always_fails", workspace_id=a)
    await _drain(app, db)
    assert await _statuses(app, "always_fails") == ["failed"]

    async with db.transaction() as tx:
        [failed] = await jobs.list_failed_jobs(tx, a)
        assert await jobs.list_failed_jobs(tx, b) == []
    assert failed.id == job_id and failed.task_name == "sfbridge:always_fails"
    assert failed.error_type == "Boom" and failed.error_message == "attempt 1 failed"
    assert failed.args == {"workspace_id": a}

    with pytest.raises(JobNotFound):
        async with db.transaction() as tx:
            await jobs.replay(tx, b, job_id)
    assert await _statuses(app, "always_fails") == ["failed"]

    async with db.transaction() as tx:
        await jobs.replay(tx, a, job_id)
    assert await _statuses(app, "always_fails") == ["todo"]
    await _drain(app, db)
    async with db.transaction() as tx:
        [again] = await jobs.list_failed_jobs(tx, a)
    assert again.error_type == "Boom" and again.error_message != failed.error_message
    with pytest.raises(JobNotFound):
        async with db.transaction() as tx:
            await jobs.replay(tx, a, job_id + 1000)


async def test_jobs_of_a_dead_worker_are_picked_up_again(
    app: App, db: Database, database_url: str
) -> None:
    ws = await _workspace(db)
    async with db.transaction() as tx:
        event_id = await events.record(tx, ws, query={}, body="x", headers={})
    await jobs.defer(app, "process_event", workspace_id=ws, event_id=event_id)
    # A worker takes the job, then dies without a word: its heartbeat goes stale.
    dead_worker = await app.job_manager.register_worker()
    taken = await app.job_manager.fetch_job(queues=None, worker_id=dead_worker)
    assert taken is not None and taken.task_name == "sfbridge:process_event"
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(
            "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour' WHERE id = %s",
            (dead_worker,),
        )
    assert await _statuses(app, "process_event") == ["doing"]

    await jobs.defer(app, "retry_stalled_jobs", timestamp=0)
    await _drain(app, db)  # runs the sweep, which puts the job back in its queue
    # The same drain may already have run the requeued job: either way it left "doing".
    assert await _statuses(app, "process_event") in (["todo"], ["succeeded"])
    await _drain(app, db)  # a live worker takes it (if the first drain did not)

    assert await _statuses(app, "process_event") == ["succeeded"]
    async with db.transaction() as tx:
        event = await events.get(tx, ws, event_id)
    assert event is not None and event.status is events.EventStatus.PROCESSED


async def test_purge_traces_task_uses_the_retention(app: App, db: Database) -> None:
    from datetime import UTC, datetime, timedelta

    from sfbridge.store import traces

    ws = await _workspace(db)
    async with db.transaction() as tx:
        for days in (3, 1):
            await traces.record(
                tx,
                ws,
                activity_id=f"d{days}",
                activity_type="call",
                status=traces.TraceStatus.COMPLETE,
                started_at=datetime.now(UTC) - timedelta(days=days),
                duration_ms=1,
                steps=[],
            )
    await jobs.defer(app, "purge_traces", timestamp=0)
    await app.run_worker_async(
        **jobs.worker_options(
            db,
            trace_retention_days=2,
            wait=False,
            install_signal_handlers=False,
            listen_notify=False,
        )
    )
    async with db.transaction() as tx:
        left = await traces.list_page(tx, ws)
    assert [t.activity_id for t in left.items] == ["d1"]
