"""A worker process killed with SIGKILL mid-handoff, then a fresh worker: exactly one Case.

``sfbridge worker`` runs as a real process against the test's database. sfemu answers every
call 500 ms late, and sfemu counts a call when it arrives, before that delay: so the moment
its counter shows the composite request, the request is in Salesforce's hands while the
worker is still waiting for the answer. The worker is killed right then (``kill -9``: no
cleanup, its job stays ``doing``); sfemu still creates the Case. The stalled-job sweep puts
the job back, a fresh worker process runs it, finds the Case by its external id and writes
nothing twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sfbridge.core.transcript import chunk_transcript
from sfbridge.services.email import sessions as email_api
from sfbridge.services.email.case_comments import transcript_lines
from sfbridge.store import email_messages, traces
from sfbridge.store.email_sessions import SessionStatus
from sfbridge.testing.email import TEST_KEY_TEXT, make_mail
from tests.integration.conftest import database_url, db, test_postgres  # noqa: F401
from tests.integration.test_email_harness import (  # noqa: F401  (fixtures)
    Harness,
    email_app_fixture,
    harness_fixture,
    salesforce_fixture,
)

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]

SFBRIDGE = str(Path(sys.executable).parent / "sfbridge")
LATENCY_MS = 500
#: About 3,000 bytes: two such messages do not fit in one 4,000-byte comment.
PARAGRAPH = "The printer smokes when it starts a page and the tray rattles loudly. " * 42


class Workers:
    """``sfbridge worker`` processes started by one test (all ended when it ends)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = (self.logs / f"worker-{len(self.started)}.log").open("wb")
        proc = subprocess.Popen(
            [SFBRIDGE, "worker", "--concurrency", "2"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.started.append(proc)
        return proc

    def log(self, index: int) -> str:
        return (self.logs / f"worker-{index}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.started:
            try:
                proc.wait(timeout=25)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(name="workers")
def workers_fixture(database_url: str, tmp_path: Path) -> Iterator[Workers]:  # noqa: F811
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SFBRIDGE_ENCRYPTION_KEY": TEST_KEY_TEXT,  # opens the tokens connect_workspace sealed
        "SFBRIDGE_DATA_DIR": str(tmp_path / "data"),
        "SFBRIDGE_DEMO": "off",
        "SFBRIDGE_LOG_LEVEL": "info",
    }
    workers = Workers(env, tmp_path)
    try:
        yield workers
    finally:
        workers.stop_all()


async def poll(probe: Callable[[], Any], *, timeout: float, every: float = 0.01) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = probe()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(every)


def composite_calls(h: Harness) -> int:
    counters = h.sf.control("GET", "/counters")
    return int(counters.get("counters", {}).get("POST composite", 0))


async def test_worker_killed_mid_handoff_then_a_fresh_worker_gives_one_case(
    harness: Harness, workers: Workers
) -> None:
    h = harness
    for _ in range(3):  # one conversation, three long mails (same sender and subject)
        await h.receive(make_mail(body=PARAGRAPH))
    sessions = await email_api.list_sessions(h.db, h.workspace_id)
    assert len(sessions) == 1
    session_id = sessions[0].id
    async with h.db.transaction() as tx:
        messages = await email_messages.list_for(tx, h.workspace_id, session_id)
    chunks = chunk_transcript(transcript_lines(messages))
    assert len(messages) == 3 and len(chunks) == 3

    h.sf.control("PUT", "/latency", {"fixed_ms": LATENCY_MS})
    h.sf.control("DELETE", "/counters")
    assert await email_api.escalate(h.rt, h.workspace_id, session_id) is not None
    first = workers.start()

    # The composite request has reached Salesforce; its answer is 500 ms away: kill now.
    await poll(lambda: composite_calls(h) >= 1 or first.poll() is not None, timeout=60)
    assert first.poll() is None, workers.log(0)
    first.send_signal(signal.SIGKILL)
    assert first.wait(timeout=10) == -signal.SIGKILL

    # Salesforce finishes the request nobody waits for any more; we never learnt the answer.
    await poll(lambda: h.records("Case"), timeout=10)
    detail = await email_api.get_session(h.db, h.workspace_id, session_id)
    assert detail.session.case_id is None
    assert detail.session.handoff_started_at is not None
    manager = h.app.job_manager
    doing = list(await manager.list_jobs_async(status="doing"))
    assert [j.task_name for j in doing] == ["sfbridge:handoff"]

    # The stalled-job sweep (run here rather than waiting for its minute) requeues the job.
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=0))
    assert [j.id for j in stalled] == [j.id for j in doing]
    for job in stalled:
        await manager.retry_job(job)
    workers.start()

    async def handed_off() -> bool:
        found = await email_api.get_session(h.db, h.workspace_id, session_id)
        return found.session.status == SessionStatus.HANDED_OFF

    await poll(handed_off, timeout=60, every=0.1)
    detail = await email_api.get_session(h.db, h.workspace_id, session_id)
    cases = h.records("Case")
    assert [c["Id"] for c in cases] == [detail.session.case_id]
    comments = h.records("CaseComment", ParentId=str(detail.session.case_id))
    assert sorted(c["CommentBody"] for c in comments) == sorted(chunks)
    assert detail.session.handoff_error is None
    assert composite_calls(h) == 1  # the fresh worker wrote nothing: it found it all
    async with h.db.transaction() as tx:
        page = await traces.list_page(tx, h.workspace_id, activity_type="email_handoff")
    steps = {s.name: s.detail for t in page.items for s in t.steps}
    assert steps["check an earlier attempt"] == f"found Case {cases[0]['Id']} with 3 comments"
    assert steps["add missing comments"] == "0 of 3 comments were missing"
