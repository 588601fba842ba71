"""Fault tests: each ends with exactly one Case, one comment per message, one email per reply."""

from __future__ import annotations

import dataclasses

import pytest

from sfbridge.services.email import case_handoff
from sfbridge.services.email import sessions as email_api
from sfbridge.store import email_messages, traces
from sfbridge.store.email_sessions import SessionStatus
from tests.integration.test_email_harness import (  # noqa: F401  (fixtures)
    Harness,
    RecordingTransport,
    email_app_fixture,
    harness_fixture,
    make_mail,
    salesforce_fixture,
)


async def open_session(h: Harness, body: str = "My printer is on fire.") -> str:
    await h.receive(make_mail(body=body))
    found = await email_api.list_sessions(h.db, h.workspace_id)
    assert len(found) == 1
    return found[0].id


async def case_of(h: Harness, session_id: str) -> str | None:
    detail = await email_api.get_session(h.db, h.workspace_id, session_id)
    return detail.session.case_id


@pytest.mark.parametrize("failures", [1, 3])
async def test_503_during_escalation_gives_one_case_and_one_comment(
    harness: Harness, failures: int
) -> None:
    h = harness
    session_id = await open_session(h)
    h.sf.control("POST", "/faults", {"kind": "unavailable", "path": "composite", "count": failures})
    await email_api.escalate(h.rt, h.workspace_id, session_id)
    await h.drain_until(lambda: case_of(h, session_id))
    cases = h.records("Case")
    assert len(cases) == 1
    assert len(h.records("CaseComment", ParentId=cases[0]["Id"])) == 1
    detail = await email_api.get_session(h.db, h.workspace_id, session_id)
    assert detail.session.status == SessionStatus.HANDED_OFF
    assert detail.session.handoff_error is None


async def test_crash_right_after_the_composite_call_then_a_fresh_worker(harness: Harness) -> None:
    h = harness
    await h.receive(make_mail(body="First message."))
    session_id = (await email_api.list_sessions(h.db, h.workspace_id))[0].id

    def crash() -> None:
        raise case_handoff.HandoffCrash("worker killed after the composite call")

    crashing = dataclasses.replace(h.rt, crash_after_composite=crash)
    with pytest.raises(case_handoff.HandoffCrash):
        await case_handoff.run_handoff(crashing, h.workspace_id, session_id)
    assert await case_of(h, session_id) is None  # we never learnt the answer
    assert len(h.records("Case")) == 1  # but Salesforce has it

    await case_handoff.run_handoff(h.rt, h.workspace_id, session_id)  # a fresh worker
    case_id = await case_of(h, session_id)
    assert case_id is not None
    assert [c["Id"] for c in h.records("Case")] == [case_id]
    assert len(h.records("CaseComment", ParentId=case_id)) == 1
    await case_handoff.run_handoff(h.rt, h.workspace_id, session_id)  # and once more: a no-op
    assert len(h.records("CaseComment", ParentId=case_id)) == 1


async def test_crash_without_external_id_field_finds_the_case_by_email_and_subject(
    harness: Harness,
) -> None:
    h = harness
    h.sf.control("DELETE", "/fields/Case/conversationId__c")
    h.sf.control("DELETE", "/fields/Case/Case_From__c")
    session_id = await open_session(h)

    def crash() -> None:
        raise case_handoff.HandoffCrash("killed")

    with pytest.raises(case_handoff.HandoffCrash):
        await case_handoff.run_handoff(
            dataclasses.replace(h.rt, crash_after_composite=crash), h.workspace_id, session_id
        )
    await case_handoff.run_handoff(h.rt, h.workspace_id, session_id)
    case_id = await case_of(h, session_id)
    assert [c["Id"] for c in h.records("Case")] == [case_id]
    assert len(h.records("CaseComment", ParentId=str(case_id))) == 1
    async with h.db.transaction() as tx:
        page = await traces.list_page(tx, h.workspace_id, activity_type="email_handoff")
    assert [t.status for t in page.items] == [
        traces.TraceStatus.COMPLETE_WITH_ERRORS,  # the retry: no external id field
        traces.TraceStatus.ERROR,  # the crashed attempt
    ]
    crashed = " ".join(s.detail for s in page.items[1].steps)
    assert "no Case field Case_From__c" in crashed
    assert "no Case field conversationId__c" in crashed


async def test_webhook_delivered_five_times_sends_one_email(harness: Harness) -> None:
    h = harness
    session_id = await open_session(h)
    await email_api.escalate(h.rt, h.workspace_id, session_id)
    await h.drain()
    case_id = await case_of(h, session_id)
    assert case_id is not None
    rep = h.sf.control("POST", "/users", {"username": "rep@acme.test", "last_name": "Rep"})
    h.sf.control(
        "POST",
        "/records/CaseComment",
        {"ParentId": case_id, "CommentBody": "On it.", "IsPublished": True, "_user_id": rep["id"]},
    )
    for _ in range(5):
        await h.webhook(case_id)
    await h.drain(rounds=3)
    for _ in range(2):  # late duplicates, after everything was processed
        await h.webhook(case_id)
    await h.drain(rounds=2)
    transport = h.rt.transport
    assert isinstance(transport, RecordingTransport)
    assert len(transport.sent) == 1
    detail = await email_api.get_session(h.db, h.workspace_id, session_id)
    assert [m.text for m in detail.messages if m.author_kind == "rep"] == ["On it."]


async def test_internal_notes_and_our_own_comments_are_not_replies(harness: Harness) -> None:
    h = harness
    session_id = await open_session(h)
    await email_api.escalate(h.rt, h.workspace_id, session_id)
    await h.drain()
    case_id = str(await case_of(h, session_id))
    rep = h.sf.control("POST", "/users", {"username": "rep@acme.test", "last_name": "Rep"})
    h.sf.control(
        "POST",
        "/records/CaseComment",
        {
            "ParentId": case_id,
            "CommentBody": "internal",
            "IsPublished": False,
            "_user_id": rep["id"],
        },
    )
    await h.webhook(case_id)
    await h.drain(rounds=2)
    transport = h.rt.transport
    assert isinstance(transport, RecordingTransport)
    assert transport.sent == []


async def test_relay_refusing_then_accepting_sends_once(harness: Harness) -> None:
    h = harness
    transport = h.rt.transport
    assert isinstance(transport, RecordingTransport)
    transport.fail_next = 3
    session_id = await open_session(h)
    message = await email_api.post_agent_message(
        h.rt, h.workspace_id, session_id, text="We are looking into it.", author_name="Bot"
    )
    await h.drain_until(lambda: len(transport.sent) == 1)
    await h.drain(rounds=2)
    assert len(transport.sent) == 1
    async with h.db.transaction() as tx:
        stored = await email_messages.get(tx, h.workspace_id, message.id)
        rows = await email_messages.outbox_list(tx, h.workspace_id)
    assert stored is not None and stored.delivery_status == "sent"
    assert rows[0]["attempts"] == 4 and rows[0]["status"] == "sent"


async def test_relay_failing_for_good_is_visible_on_the_message(harness: Harness) -> None:
    h = harness
    transport = h.rt.transport
    assert isinstance(transport, RecordingTransport)
    transport.fail_next = 100
    session_id = await open_session(h)
    message = await email_api.post_agent_message(h.rt, h.workspace_id, session_id, text="Hi")

    async def failed() -> bool:
        async with h.db.transaction() as tx:
            stored = await email_messages.get(tx, h.workspace_id, message.id)
        return stored is not None and stored.delivery_status == "failed"

    await h.drain_until(failed)
    assert transport.sent == []
    async with h.db.transaction() as tx:
        page = await traces.list_page(tx, h.workspace_id, activity_type="email_reply")
    assert page.items[0].status == traces.TraceStatus.COMPLETE_WITH_ERRORS


@pytest.mark.parametrize(
    ("case_id", "reason"),
    [
        ("500000000000001AAA", "no session has Case 500000000000001AAA"),
        ("500000000000001", "no session has Case 500000000000001"),
        ("500000000000001AAB", "is not a Salesforce record id"),  # wrong checksum
        ("../../etc", "is not a Salesforce record id"),
        ("", "no caseId parameter"),
    ],
)
async def test_webhook_for_an_unknown_case_is_ignored_with_a_reason(
    harness: Harness, case_id: str, reason: str
) -> None:
    h = harness
    event_id = await h.webhook(case_id)
    await h.drain()
    async with h.db.transaction() as tx:
        row = await tx.fetch_one(
            "event_get", {"workspace_id": h.workspace_id, "event_id": event_id}
        )
    assert row is not None and row["status"] == "ignored"
    assert reason in row["error"]


async def test_webhook_with_the_15_character_case_id_finds_the_session(harness: Harness) -> None:
    h = harness
    session_id = await open_session(h)
    await email_api.escalate(h.rt, h.workspace_id, session_id)
    await h.drain()
    case_id = str(await case_of(h, session_id))
    assert len(case_id) == 18
    rep = h.sf.control("POST", "/users", {"username": "rep@acme.test", "last_name": "Rep"})
    h.sf.control(
        "POST",
        "/records/CaseComment",
        {"ParentId": case_id, "CommentBody": "On it.", "IsPublished": True, "_user_id": rep["id"]},
    )
    short = await h.webhook(case_id[:15])  # what String.valueOf(Id) may give in old Apex
    long = await h.webhook(case_id)
    await h.drain(rounds=2)
    transport = h.rt.transport
    assert isinstance(transport, RecordingTransport)
    assert len(transport.sent) == 1
    detail = await email_api.get_session(h.db, h.workspace_id, session_id)
    assert [m.text for m in detail.messages if m.author_kind == "rep"] == ["On it."]
    async with h.db.transaction() as tx:
        for event_id in (short, long):
            row = await tx.fetch_one(
                "event_get", {"workspace_id": h.workspace_id, "event_id": event_id}
            )
            assert row is not None and row["status"] == "processed", row


async def test_reconciliation_catches_a_reply_whose_webhook_never_came(harness: Harness) -> None:
    from sfbridge.services.email import sync

    h = harness
    session_id = await open_session(h)
    await email_api.escalate(h.rt, h.workspace_id, session_id)
    await h.drain()
    case_id = str(await case_of(h, session_id))
    rep = h.sf.control("POST", "/users", {"username": "rep@acme.test", "last_name": "Rep"})
    h.sf.control(
        "POST",
        "/records/CaseComment",
        {"ParentId": case_id, "CommentBody": "Fixed.", "IsPublished": True, "_user_id": rep["id"]},
    )
    h.sf.control("PATCH", f"/records/Case/{case_id}", {"Status": "Closed"})
    assert await sync.reconcile(h.rt) == 1
    assert await sync.reconcile(h.rt) == 0  # nothing new the second time
    await h.drain()
    transport = h.rt.transport
    assert isinstance(transport, RecordingTransport)
    assert len(transport.sent) == 1
    detail = await email_api.get_session(h.db, h.workspace_id, session_id)
    assert detail.session.status == SessionStatus.RESOLVED
