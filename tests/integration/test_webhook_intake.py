"""Webhook intake under load: group commit keeps every 202 durable and every failure clean.

sfbridge is served by uvicorn on loopback (real sockets, real concurrency) against a fresh
Postgres database; a failed commit is made real by a deferred constraint trigger that raises
when the transaction commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from psycopg.rows import dict_row

from sfbridge.compose import build_deps
from sfbridge.errors import StoreUnavailable
from sfbridge.secrets import SecretBox
from sfbridge.settings import Settings
from sfbridge.store import connections, webhooks, workspaces
from sfbridge.store.connections import AuthFlow
from sfbridge.store.db import Database
from sfbridge.web.app import create_app

BOX = SecretBox(bytes(range(32)))
TOKEN = "whk_intake_tests_0123456789abcdef"
OTHER_TOKEN = "whk_intake_tests_other_workspace"

#: Makes a transaction fail at COMMIT when it stored an event whose body names an error code.
FAIL_AT_COMMIT = """
CREATE FUNCTION test_fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.body LIKE 'fail:%' THEN
        RAISE EXCEPTION 'refused at commit' USING ERRCODE = substr(NEW.body, 6);
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER test_fail_at_commit AFTER INSERT ON webhook_events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_fail_at_commit();
"""


@dataclass(frozen=True, kw_only=True, slots=True)
class Bridge:
    http: httpx.AsyncClient  #: talks to sfbridge on loopback
    db: Database
    workspace_id: str

    def hook(self, token: str = TOKEN) -> str:
        return f"/hooks/salesforce/{token}"


async def make_workspace(db: Database, *, name: str, token: str) -> str:
    async with db.transaction() as tx:
        ws = await workspaces.create(tx, name=name)
        await connections.save_setup(
            tx,
            BOX,
            ws.id,
            flow=AuthFlow.WEB_SERVER,
            login_url="https://login.salesforce.com",
            client_id="client-id",
            client_secret="client-secret",
        )
        assert await connections.set_webhook_token(tx, BOX, ws.id, token)
    return ws.id


@contextlib.asynccontextmanager
async def served(app: object) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in this event loop; yield its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))  # type: ignore[arg-type]  # any ASGI app
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture(name="bridge")
async def bridge_fixture(db: Database) -> AsyncIterator[Bridge]:
    ws = await make_workspace(db, name="Acme", token=TOKEN)
    await make_workspace(db, name="Globex", token=OTHER_TOKEN)
    async with httpx.AsyncClient(timeout=30) as sf_http:
        deps = build_deps(Settings(), db=db, http=sf_http, box=BOX)
        async with (
            served(create_app(deps)) as url,
            httpx.AsyncClient(
                base_url=url,
                timeout=30,
                limits=httpx.Limits(max_connections=40, max_keepalive_connections=40),
            ) as http,
        ):
            yield Bridge(http=http, db=db, workspace_id=ws)


@dataclass(frozen=True, kw_only=True, slots=True)
class Stored:
    """An event row, its job, and the transaction (xmin) that wrote it."""

    id: int
    workspace_id: str
    case_id: str
    body: str
    tx: str
    job_id: int | None
    lock: str | None
    queue_name: str | None
    task_name: str | None


async def stored(db: Database) -> list[Stored]:
    """Every event with its job, in event id order."""
    async with db.transaction() as tx, tx.connection.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT e.id, e.workspace_id, coalesce(e.query ->> 'caseId', '') AS case_id, e.body,"
            " e.xmin::text AS tx, j.id AS job_id, j.lock, j.queue_name, j.task_name"
            " FROM webhook_events e"
            " LEFT JOIN procrastinate_jobs j ON (j.args ->> 'event_id')::bigint = e.id"
            " ORDER BY e.id"
        )
        return [Stored(**row) for row in await cur.fetchall()]


async def job_count(db: Database) -> int:
    async with db.transaction() as tx, tx.connection.cursor() as cur:
        await cur.execute("SELECT count(*) FROM procrastinate_jobs")
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def fail_at_commit(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.run_script(FAIL_AT_COMMIT)


async def test_n_concurrent_posts_store_exactly_n_events_and_n_jobs(bridge: Bridge) -> None:
    n = 150

    async def post(i: int) -> httpx.Response:
        return await bridge.http.post(
            bridge.hook(),
            params={"caseId": f"5005g00000Ab{i:06d}", "event": "comment"},
            headers={"Content-Type": "application/json"},
        )

    answers = await asyncio.gather(*(post(i) for i in range(n)))

    assert [a.status_code for a in answers] == [202] * n
    ids = [a.json()["event_id"] for a in answers]
    assert all(a.json()["received"] is True for a in answers)
    rows = await stored(bridge.db)
    assert sorted(ids) == [r.id for r in rows]
    assert await job_count(bridge.db) == n
    by_id = {r.id: r for r in rows}
    for i, event_id in enumerate(ids):
        row = by_id[event_id]
        assert row.case_id == f"5005g00000Ab{i:06d}"
        assert row.workspace_id == bridge.workspace_id
        assert row.lock == f"case:{bridge.workspace_id}:5005g00000Ab{i:06d}"
        assert (row.queue_name, row.task_name) == (webhooks.QUEUE, webhooks.TASK_NAME)
    # Group commit happened: fewer transactions than calls.
    assert len({r.tx for r in rows}) < n


async def test_unknown_token_is_a_bare_404_and_stores_nothing(bridge: Bridge) -> None:
    answer = await bridge.http.post(bridge.hook("whk_nobody_has_this"), params={"caseId": "1"})

    assert answer.status_code == 404
    assert answer.content == b""
    assert await stored(bridge.db) == []
    assert await job_count(bridge.db) == 0


async def test_unknown_tokens_in_a_busy_batch_get_404_and_the_others_are_stored(
    bridge: Bridge,
) -> None:
    tokens = [TOKEN if i % 3 else f"whk_unknown_{i}" for i in range(60)]

    answers = await asyncio.gather(
        *(bridge.http.post(bridge.hook(t), params={"caseId": str(i)}) for i, t in enumerate(tokens))
    )

    statuses = [a.status_code for a in answers]
    assert statuses == [202 if t == TOKEN else 404 for t in tokens]
    assert all(a.content == b"" for a in answers if a.status_code == 404)
    rows = await stored(bridge.db)
    assert sorted(int(r.case_id) for r in rows) == [i for i, t in enumerate(tokens) if t == TOKEN]
    assert await job_count(bridge.db) == len(rows)


@pytest.mark.parametrize(
    ("errcode", "status"),
    [
        ("P0001", 500),  # the statement or commit refused: internal error, with a reference
        ("57P01", 503),  # the server went away: database unavailable, the sender retries
    ],
)
async def test_a_call_whose_commit_fails_is_5xx_and_leaves_nothing(
    bridge: Bridge, errcode: str, status: int
) -> None:
    await fail_at_commit(bridge.db)

    answer = await bridge.http.post(
        bridge.hook(), params={"caseId": "5005g00000Ab000001"}, content=f"fail:{errcode}"
    )

    assert answer.status_code == status
    assert "event_id" not in answer.text
    assert await stored(bridge.db) == []
    assert await job_count(bridge.db) == 0


async def test_one_failing_call_does_not_fail_the_calls_sharing_its_transaction(
    bridge: Bridge,
) -> None:
    await fail_at_commit(bridge.db)
    bodies = ["fail:P0001" if i == 17 else "" for i in range(40)]

    answers = await asyncio.gather(
        *(
            bridge.http.post(bridge.hook(), params={"caseId": str(i)}, content=body)
            for i, body in enumerate(bodies)
        )
    )

    assert [a.status_code for a in answers] == [500 if b else 202 for b in bodies]
    rows = await stored(bridge.db)
    assert sorted(int(r.case_id) for r in rows) == [i for i in range(40) if i != 17]
    assert await job_count(bridge.db) == 39


async def test_nul_characters_are_stored_as_replacement_characters(bridge: Bridge) -> None:
    answer = await bridge.http.post(
        bridge.hook(), params={"caseId": "500\x00x"}, content=b"a\x00b\xffc"
    )

    assert answer.status_code == 202
    [row] = await stored(bridge.db)
    assert (row.case_id, row.body) == ("500\ufffdx", "a\ufffdb\ufffdc")


async def test_a_body_over_the_limit_is_413_and_stores_nothing(bridge: Bridge) -> None:
    answer = await bridge.http.post(bridge.hook(), content=b"x" * (64 * 1024 + 1))

    assert answer.status_code == 413
    assert answer.json()["error"] == "too_large"
    assert await stored(bridge.db) == []


async def test_a_batch_keeps_arrival_order_for_event_ids_and_jobs(db: Database) -> None:
    ws = await make_workspace(db, name="Acme", token=TOKEN)
    calls = [
        webhooks.WebhookCall(token=token, query={"caseId": case}, body=str(i), headers={})
        for i, (token, case) in enumerate(
            [(TOKEN, "A"), ("whk_unknown", "A"), (TOKEN, "B"), (TOKEN, "A"), (TOKEN, "A")]
        )
    ]

    ids = await webhooks.accept_many(db, calls)

    assert ids[1] is None
    known = [i for i in ids if i is not None]
    assert known == sorted(known) and len(set(known)) == 4
    rows = await stored(db)
    assert [r.body for r in rows] == ["0", "2", "3", "4"]
    jobs_of_a = [r.job_id or 0 for r in rows if r.case_id == "A"]
    assert 0 not in jobs_of_a
    assert jobs_of_a == sorted(jobs_of_a)  # procrastinate runs one lock's jobs in id order
    assert {r.lock for r in rows} == {f"case:{ws}:A", f"case:{ws}:B"}


async def test_a_caller_that_goes_away_does_not_cancel_the_shared_commit(db: Database) -> None:
    await make_workspace(db, name="Acme", token=TOKEN)
    intake = webhooks.WebhookIntake(db, max_in_flight=1)

    def call(case: str) -> webhooks.WebhookCall:
        return webhooks.WebhookCall(token=TOKEN, query={"caseId": case}, body="", headers={})

    first = asyncio.create_task(intake.accept(call("1")))
    second = asyncio.create_task(intake.accept(call("2")))
    await asyncio.sleep(0)  # both are queued; the first commit is under way
    first.cancel()
    event_id = await second
    await intake.close()

    assert first.cancelled()
    rows = await stored(db)
    assert event_id in [r.id for r in rows]
    # The call whose caller left is stored too (at least once; the sender sees no 202 and
    # retries, and the handler is idempotent).
    assert sorted(r.case_id for r in rows) == ["1", "2"]


async def test_accept_of_one_call_answers_none_for_an_unknown_token(db: Database) -> None:
    await make_workspace(db, name="Acme", token=TOKEN)

    known = await webhooks.accept(db, token=TOKEN, query={"caseId": "1"}, body="", headers={})
    unknown = await webhooks.accept(db, token="whk_x", query={"caseId": "1"}, body="", headers={})

    assert isinstance(known, int)
    assert unknown is None
    assert await job_count(db) == 1


async def test_every_caller_of_a_batch_gets_store_unavailable_when_the_database_is_gone(
    database_url: str,
) -> None:
    gone = await Database.connect(database_url, min_size=1, max_size=2)
    await gone.close()
    intake = webhooks.WebhookIntake(gone)
    calls = [
        webhooks.WebhookCall(token=TOKEN, query={"caseId": str(i)}, body="", headers={})
        for i in range(5)
    ]

    outcomes = await asyncio.gather(*(intake.accept(c) for c in calls), return_exceptions=True)

    assert [type(o) for o in outcomes] == [StoreUnavailable] * 5
    assert len({id(o) for o in outcomes}) == 5  # one exception each, not one shared
