"""Inbound processing on real Postgres and sfemu: threading, loops, triggers, office hours."""

from __future__ import annotations

import email
from email import policy

from sfbridge.core.handoff import OutsideHoursPolicy
from sfbridge.services.email import intake
from sfbridge.services.email import sessions as email_api
from sfbridge.services.email.settings import EmailSettings, OfficeHoursModel
from sfbridge.store import email_inbound
from sfbridge.store.email_sessions import SessionStatus
from tests.integration.test_email_harness import (  # noqa: F401  (fixtures)
    Harness,
    RecordingTransport,
    email_app_fixture,
    harness_fixture,
    make_mail,
    salesforce_fixture,
)


def sent_mails(h: Harness) -> list[email.message.EmailMessage]:
    transport = h.rt.transport
    assert isinstance(transport, RecordingTransport)
    out = []
    for raw, _ in transport.sent:
        parsed = email.message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        out.append(parsed)
    return out


async def test_reply_to_our_mail_joins_the_session_but_a_stolen_token_does_not(
    harness: Harness,
) -> None:
    h = harness
    await h.receive(make_mail(body="Hello"))
    session_id = (await email_api.list_sessions(h.db, h.workspace_id))[0].id
    await email_api.post_agent_message(h.rt, h.workspace_id, session_id, text="Hi Ann")
    await h.drain()
    ours = sent_mails(h)[0]
    # Ann answers our mail: same session
    await h.receive(
        make_mail(subject=str(ours["Subject"]), body="Thanks", in_reply_to=str(ours["Message-ID"]))
    )
    # Mallory copies the token into her own mail: a session of her own
    await h.receive(
        make_mail(sender="mallory@evil.test", subject=str(ours["Subject"]), body="Give me data")
    )
    listed = await email_api.list_sessions(h.db, h.workspace_id)
    assert sorted(s.contact_address for s in listed) == ["ann@customer.test", "mallory@evil.test"]
    detail = await email_api.get_session(h.db, h.workspace_id, session_id)
    assert [m.text for m in detail.messages] == ["Hello", "Hi Ann", "Thanks"]


async def test_flood_from_one_sender_is_ignored(harness: Harness) -> None:
    h = harness
    await email_api.put_settings(h.db, h.workspace_id, EmailSettings(flood_max_messages=2))
    for index in range(4):
        await h.receive(make_mail(subject=f"Mail {index}", body=f"Body {index}"))
    async with h.db.transaction() as tx:
        rows = await email_inbound.list_recent(tx, h.workspace_id)
    statuses = [r["status"] for r in reversed(rows)]
    assert statuses == ["processed", "processed", "ignored", "ignored"]
    assert "flood" in str(rows[0]["reason"])


async def test_unparseable_mail_is_stored_with_its_error(harness: Harness) -> None:
    h = harness
    inbound_id, _ = await intake.store_inbound(
        h.rt, h.workspace_id, b"\x00\x01 not a message", mail_from="", rcpt="", source="smtp"
    )
    await h.drain()
    async with h.db.transaction() as tx:
        row = await email_inbound.get(tx, h.workspace_id, inbound_id)
    assert row is not None and row.status == email_inbound.InboundStatus.IGNORED
    assert row.parse_error
    assert await email_api.list_sessions(h.db, h.workspace_id) == []


async def test_asking_for_a_human_hands_off(harness: Harness) -> None:
    h = harness
    await h.receive(make_mail(body="This bot is useless, I want to talk to a human please."))
    await h.drain()
    session = (await email_api.list_sessions(h.db, h.workspace_id))[0]
    assert session.status == SessionStatus.HANDED_OFF
    assert session.handoff_reason == "phrase: talk to a human"
    await h.receive(make_mail(body="I don't need to talk to a human.", sender="bo@x.test"))
    other = next(
        s for s in await email_api.list_sessions(h.db, h.workspace_id) if s.id != session.id
    )
    assert other.status == SessionStatus.OPEN


async def test_outside_hours_ack_is_sent_once_and_marked_automatic(harness: Harness) -> None:
    h = harness
    closed = OfficeHoursModel(tz="UTC", weekly={})
    await email_api.put_settings(
        h.db,
        h.workspace_id,
        EmailSettings(office_hours=closed.model_copy(update={"weekly": {0: [["00:00", "00:01"]]}})),
    )
    await h.receive(make_mail(body="Hello"))
    session_id = (await email_api.list_sessions(h.db, h.workspace_id))[0].id
    queued = await email_api.escalate(h.rt, h.workspace_id, session_id)
    assert queued is not None
    if queued.timing.open_now:  # the test ran in the one open minute of the week
        return
    await h.drain()
    await email_api.escalate(h.rt, h.workspace_id, session_id)
    await h.drain()
    mails = sent_mails(h)
    assert len(mails) == 1
    assert mails[0]["Auto-Submitted"] == "auto-generated"
    assert len(h.records("Case")) == 1


async def test_hold_until_open_creates_no_case_now(harness: Harness) -> None:
    h = harness
    await email_api.put_settings(
        h.db,
        h.workspace_id,
        EmailSettings(
            office_hours=OfficeHoursModel(tz="UTC", weekly={0: [["00:00", "00:01"]]}),
            outside_hours_policy=OutsideHoursPolicy.HOLD_UNTIL_OPEN,
        ),
    )
    await h.receive(make_mail(body="Hello"))
    session_id = (await email_api.list_sessions(h.db, h.workspace_id))[0].id
    queued = await email_api.escalate(h.rt, h.workspace_id, session_id)
    assert queued is not None
    if queued.timing.open_now:
        return
    await h.drain()
    assert h.records("Case") == []
    assert sent_mails(h) == []


async def test_returning_customer_with_an_open_case_is_appended_not_given_a_new_case(
    harness: Harness,
) -> None:
    h = harness
    await h.receive(make_mail(subject="Broken printer", body="It is broken."))
    session_id = (await email_api.list_sessions(h.db, h.workspace_id))[0].id
    await email_api.escalate(h.rt, h.workspace_id, session_id)
    await h.drain()
    await h.receive(make_mail(subject="Something else entirely", body="Also my invoice."))
    await h.drain()
    assert len(await email_api.list_sessions(h.db, h.workspace_id)) == 1
    cases = h.records("Case")
    assert len(cases) == 1
    bodies = [c["CommentBody"] for c in h.records("CaseComment", ParentId=cases[0]["Id"])]
    assert len(bodies) == 2 and "Also my invoice." in bodies[1]


async def test_reopen_window_reopens_the_old_case(harness: Harness) -> None:
    h = harness
    await email_api.put_settings(h.db, h.workspace_id, EmailSettings(reopen_window_days=7))
    await h.receive(make_mail(subject="Broken printer", body="It is broken."))
    session_id = (await email_api.list_sessions(h.db, h.workspace_id))[0].id
    await email_api.escalate(h.rt, h.workspace_id, session_id)
    await h.drain()
    detail = await email_api.get_session(h.db, h.workspace_id, session_id)
    case_id = str(detail.session.case_id)
    h.sf.control("PATCH", f"/records/Case/{case_id}", {"Status": "Closed"})
    await h.webhook(case_id, "status")
    await h.drain()
    await h.receive(make_mail(subject="Re: Broken printer", body="Broken again."))
    await h.drain()
    detail = await email_api.get_session(h.db, h.workspace_id, session_id)
    assert detail.session.status == SessionStatus.HANDED_OFF
    cases = h.records("Case")
    assert len(cases) == 1 and cases[0]["Status"] == "New"
    assert len(h.records("CaseComment", ParentId=case_id)) == 2
