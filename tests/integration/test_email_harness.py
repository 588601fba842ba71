"""Shared parts of the email-cases tests: a workspace connected to a real sfemu over HTTP,
the email runtime, a worker that drains the queue, and helpers to read sfemu's records.

Imported by the other ``test_email_*`` files; it holds a smoke test of its own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from procrastinate import App

from sfbridge import jobs
from sfbridge.mail.compose import MailEnvelope
from sfbridge.salesforce.governor import Governor
from sfbridge.secrets import SecretBox
from sfbridge.services import tracing
from sfbridge.services.email import sessions as email_api
from sfbridge.services.email.runtime import Backoff, EmailRuntime, Transport
from sfbridge.services.email.tasks import register
from sfbridge.services.sfaccess import SalesforceAccess
from sfbridge.store import connections, workspaces
from sfbridge.store.db import Database
from sfemu.testing import EmulatedSalesforce, emulated_salesforce

BOX = SecretBox(bytes(range(32)))
SUPPORT = "support@acme.test"
WEBHOOK_TOKEN = "whk_email_tests_0123456789abcdef"


@dataclass
class RecordingTransport:
    """A transport that keeps what it was given (the e2e tests use the real SMTP sink)."""

    sent: list[tuple[bytes, MailEnvelope]] = field(default_factory=list)
    fail_next: int = 0
    name: str = "memory"

    async def deliver(
        self, workspace_id: str, raw: bytes, envelope: MailEnvelope, *, subject: str
    ) -> str:
        from sfbridge.mail.errors import MailTemporaryError

        if self.fail_next:
            self.fail_next -= 1
            raise MailTemporaryError("451 try again later")
        self.sent.append((raw, envelope))
        return f"memory:{len(self.sent)}"


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


def make_mail(
    *,
    sender: str = "ann@customer.test",
    name: str = "Ann Lee",
    to: str = SUPPORT,
    subject: str = "Printer on fire",
    body: str = "Hello, my printer is on fire. Please help.",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A plain-text mail as a customer's client would write it."""
    msg = EmailMessage()
    msg["From"] = email.utils.formataddr((name, sender))
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = message_id or email.utils.make_msgid(domain="customer.test")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    return msg.as_bytes()


async def connect_workspace(db: Database, sf: EmulatedSalesforce, *, name: str = "Acme") -> str:
    """Create a workspace connected to the emulator, with a support address and webhook token."""
    async with db.transaction() as tx:
        ws = await workspaces.create(tx, name=name)
        await connections.save_credentials(
            tx,
            BOX,
            ws.id,
            login_url=sf.url,
            client_id=sf.credentials.client_id,
            client_secret=sf.credentials.client_secret,
        )
        await connections.mark_connected(
            tx,
            BOX,
            ws.id,
            instance_url=sf.url,
            org_id=sf.org_id,
            user_id=sf.credentials.user_id,
            username=sf.credentials.username,
            is_sandbox=False,
            access_token=sf.access_token,
            refresh_token=sf.refresh_token,
            issued_at=dt.datetime.now(dt.UTC),
        )
        await connections.set_webhook_token(tx, BOX, ws.id, WEBHOOK_TOKEN)
    await email_api.add_address(db, ws.id, SUPPORT)
    return ws.id


def fast_runtime(
    db: Database, app: App, access: SalesforceAccess, transport: Transport, **kwargs: Any
) -> EmailRuntime:
    """A runtime with short backoffs, so retries happen within a test."""
    return EmailRuntime(
        db=db,
        jobs=app,
        access=access,
        transport=transport,
        reply_backoff=Backoff(base_seconds=0.05, cap_seconds=0.2, attempts=5),
        salesforce_backoff=Backoff(base_seconds=0.05, cap_seconds=0.2, attempts=6),
        reconnect_wait_seconds=0.1,
        **kwargs,
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
        access = SalesforceAccess(
            db, BOX, http, Governor(), recorder_for=lambda _ws: tracing.RECORDER
        )
        ws = await connect_workspace(db, salesforce)
        rt = fast_runtime(db, email_app, access, RecordingTransport())
        yield Harness(db=db, app=email_app, rt=rt, sf=salesforce, workspace_id=ws, http=http)


async def test_harness_connects_a_workspace_to_the_emulator(harness: Harness) -> None:
    client = await harness.rt.access.client(harness.workspace_id)
    rows = await client.query_all("SELECT Id FROM User LIMIT 1")
    assert len(rows) == 1
