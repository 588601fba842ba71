"""Email cases on real parts: Postgres, sfemu over HTTP, the job queue, exactly-once effects."""

from __future__ import annotations

import email
from email import policy

import pytest

from sfbridge.services.email import sessions as email_api
from sfbridge.store.email_sessions import SessionStatus
from tests.integration.test_email_harness import (  # noqa: F401  (fixtures)
    SUPPORT,
    Harness,
    RecordingTransport,
    email_app_fixture,
    harness_fixture,
    make_mail,
    salesforce_fixture,
)


async def only_session(h: Harness) -> str:
    found = await email_api.list_sessions(h.db, h.workspace_id)
    assert len(found) == 1
    return found[0].id


async def test_mail_escalate_reply_close_and_return(harness: Harness) -> None:
    h = harness
    await h.receive(make_mail(body="My printer is on fire.\n\n> old quoted text"))
    session_id = await only_session(h)
    detail = await email_api.get_session(h.db, h.workspace_id, session_id)
    assert detail.session.status == SessionStatus.OPEN
    assert detail.messages[0].text == "My printer is on fire."

    await email_api.escalate(h.rt, h.workspace_id, session_id, summary="Printer fire")
    await h.drain()
    detail = await email_api.get_session(h.db, h.workspace_id, session_id)
    assert detail.session.status == SessionStatus.HANDED_OFF
    case_id = detail.session.case_id
    assert case_id and detail.session.case_number
    cases = h.records("Case")
    assert len(cases) == 1
    case = cases[0]
    assert case["Subject"] == "Printer on fire"
    assert case["Description"] == "Printer fire"
    assert case["Origin"] == "Email"
    assert case["Case_From__c"] == "sfbridge"
    assert case["SuppliedEmail"] == "ann@customer.test"
    assert case["conversationId__c"] == session_id
    comments = h.records("CaseComment", ParentId=case_id)
    assert len(comments) == 1
    assert "My printer is on fire." in comments[0]["CommentBody"]
    assert comments[0]["IsPublished"] is False

    # a rep (another user) answers publicly on the Case; the callout reaches our webhook
    rep = h.sf.control(
        "POST", "/users", {"username": "rep@acme.test", "last_name": "Rep", "first_name": "Rita"}
    )
    h.sf.control(
        "POST",
        "/records/CaseComment",
        {
            "ParentId": case_id,
            "CommentBody": "We are sending a technician.",
            "IsPublished": True,
            "_user_id": rep["id"],
        },
    )
    for _ in range(3):  # duplicate webhooks are harmless
        assert await h.webhook(case_id) is not None
    await h.drain(rounds=2)
    transport = h.rt.transport
    assert isinstance(transport, RecordingTransport)
    assert len(transport.sent) == 1
    raw, envelope = transport.sent[0]
    assert envelope.rcpt_tos == ("ann@customer.test",)
    sent = email.message_from_bytes(raw, policy=policy.default)
    inbound = detail.messages[0]
    assert sent["In-Reply-To"] == inbound.message_id_header
    assert inbound.message_id_header in sent["References"]
    assert sent["Subject"].startswith("Re: Printer on fire [ref:SFB-")
    assert sent["From"].addresses[0].addr_spec == SUPPORT
    detail = await email_api.get_session(h.db, h.workspace_id, session_id)
    reps = [m for m in detail.messages if m.author_kind == "rep"]
    assert len(reps) == 1 and reps[0].delivery_status == "sent"
    assert reps[0].author_name == "Rita Rep"

    # the contact answers the reply: appended to the open Case as a comment, no new Case
    await h.receive(
        make_mail(
            subject=str(sent["Subject"]),
            body="Thanks, when will they come?",
            in_reply_to=str(sent["Message-ID"]),
        )
    )
    await h.drain()
    assert len(h.records("Case")) == 1
    comments = h.records("CaseComment", ParentId=case_id)
    assert len(comments) == 3  # transcript, rep reply, appended customer message
    assert any("when will they come" in c["CommentBody"] for c in comments)

    # the rep closes the Case: the session is resolved
    h.sf.control("PATCH", f"/records/Case/{case_id}", {"Status": "Closed"})
    await h.webhook(case_id, "case_status")
    await h.drain()
    detail = await email_api.get_session(h.db, h.workspace_id, session_id)
    assert detail.session.status == SessionStatus.RESOLVED

    # the contact writes again: a new session, and a new Case when it is escalated
    await h.receive(make_mail(subject=str(sent["Subject"]), body="It is on fire again."))
    listed = await email_api.list_sessions(h.db, h.workspace_id)
    assert len(listed) == 2
    new = next(s for s in listed if s.id != session_id)
    await email_api.escalate(h.rt, h.workspace_id, new.id)
    await h.drain()
    assert len(h.records("Case")) == 2


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"X-Autoreply": "yes"},
    ],
)
async def test_automated_mail_never_opens_a_session(
    harness: Harness, headers: dict[str, str]
) -> None:
    await harness.receive(make_mail(headers=headers, body="I want a real person"))
    assert await email_api.list_sessions(harness.db, harness.workspace_id) == []
    assert harness.records("Case") == []
