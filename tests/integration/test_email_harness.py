"""Shared parts of the email-cases tests: a workspace connected to a real sfemu over HTTP,
the email runtime, a worker that drains the queue, and helpers to read sfemu's records.

Imported by the other ``test_email_*`` files; it holds a smoke test of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from procrastinate import App

from sfbridge import jobs
from sfbridge.services.email import sessions as email_api
from sfbridge.services.email.runtime import EmailRuntime
from sfbridge.services.email.tasks import register
from sfbridge.store.db import Database
from sfbridge.testing.email import (
    SUPPORT_ADDRESS,
    TEST_BOX,
    WEBHOOK_TOKEN,
    RecordingTransport,
    connect_workspace,
    fast_runtime,
    make_mail,
    salesforce_access,
)
from sfemu.testing import EmulatedSalesforce, emulated_salesforce

# The shared helpers live in sfbridge.testing.email; these names stay for the tests using them.
BOX = TEST_BOX
SUPPORT = SUPPORT_ADDRESS
__all__ = [
    "BOX",
    "SUPPORT",
    "WEBHOOK_TOKEN",
    "Harness",
    "RecordingTransport",
    "connect_workspace",
    "email_app_fixture",
    "fast_runtime",
    "harness_fixture",
    "make_mail",
    "salesforce_fixture",
]


@dataclass
class Harness:
    """One connected workspace, its runtime and the emulator."""

    db: Database
    app: App
    rt: EmailRuntime
    sf: EmulatedSalesforce
    workspace_id: str
    http: httpx.AsyncClient

    async def drain(self, *, rounds: int = 1) -> None:
        """Run a worker until no job is ready (``rounds`` times, for jobs queued by jobs)."""
        for _ in range(rounds):
            await self.app.run_worker_async(
                **jobs.worker_options(
                    self.db,
                    context={"email_runtime": self.rt},
                    wait=False,
                    concurrency=1,
                    install_signal_handlers=False,
                    listen_notify=False,
                )
            )

    async def drain_until(self, condition: Callable[[], Any], *, timeout: float = 10.0) -> None:
        """Drain repeatedly (scheduled retries come due) until ``condition()`` is truthy."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            await self.drain()
            result = condition()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not met in time")
            await asyncio.sleep(0.05)

    def records(self, sobject: str, **filters: str) -> list[dict[str, Any]]:
        """The org's records of one object (control plane), optionally filtered."""
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        path = f"/records/{sobject}" + (f"?{query}" if query else "")
        result = self.sf.control("GET", path)
        assert isinstance(result, list)
        return result

    async def receive(self, raw: bytes) -> int:
        """Accept a raw mail as the HTTP endpoint would, then process it."""
        inbound_id, _ = await email_api.accept_http_mail(self.rt, self.workspace_id, raw)
        await self.drain()
        return inbound_id

    async def webhook(self, case_id: str, event: str = "comment") -> int | None:
        """Deliver a webhook as Salesforce's callout would (the endpoint's one statement)."""
        from sfbridge.store import webhooks

        return await webhooks.accept(
            self.db,
            token=WEBHOOK_TOKEN,
            query={"caseId": case_id, "event": event},
            body="",
            headers={"content-type": "application/json"},
        )


@pytest.fixture(name="salesforce")
def salesforce_fixture() -> Iterator[EmulatedSalesforce]:
    """A fresh sfemu server and org per test."""
    with emulated_salesforce() as sf:
        yield sf


@pytest.fixture(name="email_app")
async def email_app_fixture(db: Database) -> AsyncIterator[App]:
    """A job app with only the email tasks (and the maintenance tasks)."""
    app = jobs.create_job_app(db, registrars=[register])
    async with app.open_async(pool=db.pool):
        yield app


@pytest.fixture(name="harness")
async def harness_fixture(
    db: Database, email_app: App, salesforce: EmulatedSalesforce
) -> AsyncIterator[Harness]:
    """A connected workspace, a memory transport, a fresh org state."""
    async with httpx.AsyncClient(timeout=30) as http:
        access = salesforce_access(db, BOX, http)
        ws = await connect_workspace(db, salesforce)
        rt = fast_runtime(db, email_app, access, RecordingTransport())
        yield Harness(db=db, app=email_app, rt=rt, sf=salesforce, workspace_id=ws, http=http)


async def test_harness_connects_a_workspace_to_the_emulator(harness: Harness) -> None:
    client = await harness.rt.access.client(harness.workspace_id)
    rows = await client.query_all("SELECT Id FROM User LIMIT 1")
    assert len(rows) == 1
