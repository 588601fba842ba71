"""Token renewal across processes and the daily keep-alive sweep, on real Postgres and sfemu.

Two processes are two :class:`SalesforceAccess` instances, each with its own database pool
and HTTP client: all they share is Postgres (the advisory refresh lock and the stored tokens)
and sfemu, exactly as two ``serve``/``worker`` processes do.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx

from sfbridge import jobs
from sfbridge.salesforce.governor import Governor
from sfbridge.services import refresh
from sfbridge.services.sfaccess import SalesforceAccess
from sfbridge.store import connections
from sfbridge.store.db import Database
from tests.integration.test_connection_harness import (  # noqa: F401  (fixtures)
    BOX,
    Bridge,
    TokenCalls,
    bridge_fixture,
    sf_fixture,
)


async def connected(bridge: Bridge) -> None:
    await bridge.save_web_server(bridge.new_app())
    await bridge.sign_in()
    assert (await bridge.connection())["status"] == "connected"


async def issued_at(bridge: Bridge) -> dt.datetime:
    async with bridge.deps.db.transaction() as tx:
        conn = await connections.get(tx, BOX, bridge.workspace_id)
    assert conn is not None and conn.issued_at is not None
    return conn.issued_at


async def test_two_processes_with_an_expired_token_refresh_exactly_once(
    bridge: Bridge, database_url: str
) -> None:
    await connected(bridge)
    other_calls = TokenCalls()
    other_db = await Database.connect(database_url, min_size=1, max_size=5)
    try:
        async with httpx.AsyncClient(
            timeout=30, event_hooks={"request": [other_calls.note]}
        ) as other_http:
            other = SalesforceAccess(other_db, BOX, other_http, Governor())
            first = await bridge.client()
            second = await other.client(bridge.workspace_id)
            # both processes hold the same token in memory
            assert await first.query_all("SELECT Id FROM User")
            assert await second.query_all("SELECT Id FROM User")
            # ours and the one sfemu.testing issued at start
            assert bridge.sf.control("POST", "/expire-tokens")["expired"] == 2
            bridge.calls.grants.clear()

            results = await asyncio.gather(
                *(first.query_all("SELECT Id FROM User") for _ in range(25)),
                *(second.query_all("SELECT Id FROM User") for _ in range(25)),
            )
            assert len(results) == 50 and all(results)
            # one token-endpoint call in all, made by one of the two processes ...
            assert bridge.calls.grants + other_calls.grants == ["refresh_token"]
            # ... and sfemu minted exactly one access token since the expiry
            assert bridge.sf.control("POST", "/expire-tokens")["expired"] == 1
    finally:
        await other_db.close()
    assert (await bridge.connection())["status"] == "connected"


async def test_the_sweep_renews_only_stale_tokens(bridge: Bridge) -> None:
    await connected(bridge)
    before = await issued_at(bridge)
    sweep = await refresh.refresh_connections(bridge.deps.db, bridge.deps.access)
    assert sweep.still_fresh == (bridge.workspace_id,) and sweep.renewed == ()
    assert bridge.calls.grants == ["authorization_code"]

    await asyncio.sleep(0.01)  # sfemu's issued_at has millisecond resolution
    sweep = await refresh.refresh_connections(
        bridge.deps.db, bridge.deps.access, max_age=dt.timedelta(0)
    )
    assert sweep.renewed == (bridge.workspace_id,)
    assert sweep.needs_reconnect == () and sweep.failed == ()
    assert bridge.calls.grants == ["authorization_code", "refresh_token"]
    assert await issued_at(bridge) > before
    assert await (await bridge.client()).query_all("SELECT Id FROM User")


async def test_a_day_later_the_sweep_renews_and_finds_dead_grants(
    bridge: Bridge, db: Database
) -> None:
    await connected(bridge)
    tomorrow = SalesforceAccess(
        db,
        BOX,
        bridge.deps.access.http,
        Governor(),
        clock=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=25),
    )
    sweep = await refresh.refresh_connections(db, tomorrow)
    assert sweep.renewed == (bridge.workspace_id,)
    assert bridge.calls.grants[-1] == "refresh_token"

    # the grant died meanwhile (revoked in Salesforce): the sweep finds it, not a customer
    bridge.sf.control("POST", "/revoke-refresh-tokens")
    sweep = await refresh.refresh_connections(db, tomorrow)
    assert sweep.needs_reconnect == (bridge.workspace_id,) and sweep.renewed == ()
    conn = await bridge.connection()
    assert conn["status"] == "needs_reconnect" and "invalid_grant" in conn["last_error"]
    # a workspace waiting for a reconnect is not visited again
    calls = len(bridge.calls.grants)
    sweep = await refresh.refresh_connections(db, tomorrow)
    assert sweep == refresh.RefreshSweep(renewed=(), still_fresh=(), needs_reconnect=(), failed=())
    assert len(bridge.calls.grants) == calls


async def test_the_periodic_task_runs_the_sweep_in_a_worker(bridge: Bridge, db: Database) -> None:
    await connected(bridge)
    tomorrow = SalesforceAccess(
        db,
        BOX,
        bridge.deps.access.http,
        Governor(),
        clock=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=25),
    )
    job_id = await jobs.defer(bridge.deps.jobs, refresh.TASK_NAME, timestamp=0)
    await bridge.deps.jobs.run_worker_async(
        **jobs.worker_options(
            db,
            context={"sf_access": tomorrow},
            wait=False,
            concurrency=1,
            install_signal_handlers=False,
            listen_notify=False,
        )
    )
    [job] = await bridge.deps.jobs.job_manager.list_jobs_async(id=job_id)
    assert job.status == "succeeded"
    assert bridge.calls.grants == ["authorization_code", "refresh_token"]


async def test_the_task_is_registered_as_a_daily_periodic_task(bridge: Bridge) -> None:
    name = jobs.qualified(refresh.TASK_NAME)
    assert name in bridge.deps.jobs.tasks
    crons = [
        p.cron
        for p in bridge.deps.jobs.periodic_registry.periodic_tasks.values()
        if p.task.name == name
    ]
    assert crons == [refresh.REFRESH_CRON]
