"""The whole email-cases story on real parts, over real sockets on loopback.

smtplib -> our SMTP listener -> session -> API escalate -> Case in sfemu (HTTP) with its
transcript comments -> a rep comment written into sfemu as another user, whose Apex-like
callout calls our webhook (uvicorn) -> the SMTP sink (our relay) receives ONE threaded reply
-> the session shows it -> the contact answers (appended to the Case) -> the Case is closed
(callout) -> the session is resolved -> the contact writes again -> a new Case.
"""

from __future__ import annotations

import asyncio
import smtplib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from sfbridge import jobs
from sfbridge.compose import build_deps
from sfbridge.mail.inbound import InboundEnvelope, InboundSmtpServer
from sfbridge.mail.outbound import SmtpMailer
from sfbridge.mail.sink import SmtpSink
from sfbridge.services.email import intake
from sfbridge.services.email.runtime import Backoff, EmailRuntime, SmtpTransport
from sfbridge.settings import Settings
from sfbridge.store import apikeys
from sfbridge.store.db import Database
from sfbridge.testing.email import (
    SUPPORT_ADDRESS,
    TEST_BOX,
    WEBHOOK_TOKEN,
    connect_workspace,
    make_mail,
)
from sfbridge.web.api import email as email_router
from sfbridge.web.app import create_app
from sfemu.testing import EmulatedSalesforce, emulated_salesforce
from tests.integration.conftest import database_url, db, test_postgres  # noqa: F401

pytestmark = pytest.mark.timeout(120)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Story:
    """Everything running for one story."""

    api: httpx.AsyncClient
    sf: EmulatedSalesforce
    sink: SmtpSink
    smtp_port: int
    workspace_id: str
    webhook_url: str

    async def wait_for(self, probe: Callable[[], Awaitable[Any]], *, timeout: float = 20.0) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = await probe()
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("timed out waiting")
            await asyncio.sleep(0.05)

    async def sessions(self, **params: str) -> list[dict[str, Any]]:
        resp = await self.api.get(f"/api/v1/workspaces/{self.workspace_id}/sessions", params=params)
        assert resp.status_code == 200, resp.text
        items: list[dict[str, Any]] = resp.json()["items"]
        return items

    async def session(self, session_id: str) -> dict[str, Any]:
        resp = await self.api.get(f"/api/v1/workspaces/{self.workspace_id}/sessions/{session_id}")
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    def send(self, raw: bytes, sender: str = "ann@customer.test") -> None:
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as client:
            client.sendmail(sender, [SUPPORT_ADDRESS], raw)

    def records(self, sobject: str, **filters: str) -> list[dict[str, Any]]:
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        found = self.sf.control("GET", f"/records/{sobject}" + (f"?{query}" if query else ""))
        assert isinstance(found, list)
        return found


@pytest.fixture(name="story")
async def story_fixture(db: Database) -> AsyncIterator[Story]:  # noqa: F811
    port = free_port()
    with emulated_salesforce() as sf:
        async with SmtpSink() as sink, httpx.AsyncClient(timeout=30) as http:
            workspace_id = await connect_workspace(db, sf)
            settings = Settings(public_url=f"http://127.0.0.1:{port}")
            deps = build_deps(settings, db=db, http=http, box=TEST_BOX)
            rt = EmailRuntime(
                db=db,
                jobs=deps.jobs,
                access=deps.access,
                transport=SmtpTransport(SmtpMailer("127.0.0.1", sink.port, starttls=False)),
                public_url=settings.public_url,
                reply_backoff=Backoff(base_seconds=0.1, cap_seconds=0.5, attempts=5),
                salesforce_backoff=Backoff(base_seconds=0.1, cap_seconds=0.5, attempts=6),
            )
            deps.extras["email_runtime"] = rt
            app = create_app(deps)
            if not any(
                getattr(r, "path", "").endswith("/sessions/{session_id}/escalate")
                for r in app.routes
            ):
                app.include_router(email_router.router)
            server = uvicorn.Server(
                uvicorn.Config(
                    app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
                )
            )
            serving = asyncio.create_task(server.serve())

            async def accept(envelope: InboundEnvelope) -> str:
                return await intake.accept_envelope(rt, envelope)

            async def resolve(address: str) -> str | None:
                return await intake.resolve_recipient(db, address)

            listener = InboundSmtpServer("127.0.0.1", 0, accept=accept, resolve_recipient=resolve)
            await listener.start()
            async with deps.jobs.open_async(pool=db.pool):
                worker = asyncio.create_task(
                    deps.jobs.run_worker_async(
                        **jobs.worker_options(
                            db,
                            context={"email_runtime": rt},
                            install_signal_handlers=False,
                            concurrency=4,
                            fetch_job_polling_interval=0.05,
                        )
                    )
                )
                while not server.started:
                    await asyncio.sleep(0.02)
                async with db.transaction() as tx:
                    key = await apikeys.create_workspace_key(tx, workspace_id)
                webhook_url = f"http://127.0.0.1:{port}/hooks/salesforce/{WEBHOOK_TOKEN}"
                for rule in (
                    {"object": "CaseComment", "event": "insert", "event_param": "comment"},
                    {
                        "object": "EmailMessage",
                        "event": "insert",
                        "event_param": "email",
                        "filter": "Incoming = false",
                    },
                    {
                        "object": "Case",
                        "event": "change",
                        "field": "Status",
                        "event_param": "status",
                    },
                ):
                    sf.control("POST", "/callouts", {**rule, "url": webhook_url})
                async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{port}",
                    headers={"Authorization": f"Bearer {key.token.reveal()}"},
                    timeout=30,
                ) as api:
                    yield Story(
                        api=api,
                        sf=sf,
                        sink=sink,
                        smtp_port=listener.port,
                        workspace_id=workspace_id,
                        webhook_url=webhook_url,
                    )
                worker.cancel()
                await asyncio.gather(worker, return_exceptions=True)
            await listener.stop()
            server.should_exit = True
            await serving


async def test_email_case_story_end_to_end(story: Story) -> None:
    ws = story.workspace_id
    await asyncio.to_thread(story.send, make_mail(body="My printer is on fire. Please help."))
    sessions = await story.wait_for(story.sessions)
    session_id = sessions[0]["id"]
    assert sessions[0]["status"] == "open"

    resp = await story.api.post(
        f"/api/v1/workspaces/{ws}/sessions/{session_id}/escalate",
        json={"summary": "Printer on fire; customer needs a technician."},
    )
    assert resp.status_code == 202, resp.text
    detail = await story.wait_for(lambda: _with_case(story, session_id))
    case_id = detail["case_id"]
    cases = story.records("Case")
    assert [c["Id"] for c in cases] == [case_id]
    transcript = story.records("CaseComment", ParentId=case_id)
    assert len(transcript) == 1 and "printer is on fire" in transcript[0]["CommentBody"]

    rep = story.sf.control("POST", "/users", {"username": "rita@acme.test", "last_name": "Rep"})
    story.sf.control(
        "POST",
        "/records/CaseComment",
        {
            "ParentId": case_id,
            "CommentBody": "A technician is on the way.",
            "IsPublished": True,
            "_user_id": rep["id"],
        },
    )
    delivered = await story.sink.wait_for(1, within=20)
    reply = delivered[0].message
    inbound = detail["messages"][0]
    assert reply["In-Reply-To"] == inbound["message_id_header"]
    assert inbound["message_id_header"] in reply["References"]
    assert str(reply["Subject"]).startswith("Re: Printer on fire [ref:SFB-")
    assert reply["Auto-Submitted"] is None
    assert delivered[0].rcpt_tos == ("ann@customer.test",)
    body = reply.get_body(("plain",))
    assert body is not None and "A technician is on the way." in body.get_content()
    shown = await story.wait_for(lambda: _with_sent_rep(story, session_id))
    assert [m["text"] for m in shown["messages"] if m["author_kind"] == "rep"] == [
        "A technician is on the way."
    ]

    # the contact answers: appended to the open Case, no new Case
    await asyncio.to_thread(
        story.send,
        make_mail(
            subject=str(reply["Subject"]),
            body="Thanks! When will they come?",
            in_reply_to=str(reply["Message-ID"]),
        ),
    )
    await story.wait_for(lambda: _count(story, "CaseComment", 3, ParentId=case_id))
    assert len(story.records("Case")) == 1

    # the rep closes the Case: the callout resolves the session
    story.sf.control("PATCH", f"/records/Case/{case_id}", {"Status": "Closed"})
    await story.wait_for(lambda: _status(story, session_id, "resolved"))

    # the contact writes again: a new session, a new Case on escalation
    await asyncio.to_thread(story.send, make_mail(subject="Printer again", body="Fire again."))
    fresh = await story.wait_for(lambda: _other_session(story, session_id))
    resp = await story.api.post(f"/api/v1/workspaces/{ws}/sessions/{fresh}/escalate")
    assert resp.status_code == 202
    await story.wait_for(lambda: _count(story, "Case", 2))
    assert len(story.sink.messages) == 1  # still exactly one email for one reply


async def _with_case(story: Story, session_id: str) -> dict[str, Any] | None:
    detail = await story.session(session_id)
    return detail if detail["case_id"] else None


async def _with_sent_rep(story: Story, session_id: str) -> dict[str, Any] | None:
    detail = await story.session(session_id)
    reps = [m for m in detail["messages"] if m["author_kind"] == "rep"]
    return detail if reps and reps[0]["delivery_status"] == "sent" else None


async def _count(story: Story, sobject: str, expected: int, **filters: str) -> bool:
    found = story.records(sobject, **filters)
    assert len(found) <= expected, found
    return len(found) == expected


async def _status(story: Story, session_id: str, status: str) -> bool:
    return bool((await story.session(session_id))["status"] == status)


async def _other_session(story: Story, session_id: str) -> str | None:
    others = [s["id"] for s in await story.sessions() if s["id"] != session_id]
    return others[0] if others else None
