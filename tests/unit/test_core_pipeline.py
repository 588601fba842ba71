"""The inbound pipeline end to end on raw bytes: parse -> classify -> thread -> strip ->
handoff -> topic, summary and CaseComment chunks. Pure functions only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sfbridge.core import loops, quotes, subjects, summary, threading, transcript
from sfbridge.core.handoff import HandoffRules, HandoffTrigger, wants_handoff
from sfbridge.core.mailparse import parse_message
from sfbridge.core.tokens import make_thread_token

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
SECRET = b"0123456789abcdef-workspace-key"


def test_customer_reply_through_a_relay_that_dropped_headers() -> None:
    token = make_thread_token("session-42", SECRET)
    outbound_subject = subjects.reply_subject("Printer broken", token=token)
    raw = (
        "From: Ann Lee <Ann@Customer.test>\r\n"
        "To: support@acme.test\r\n"
        f"Subject: AW: [External] {outbound_subject}\r\n"
        "Message-ID: <r2@customer.test>\r\n"
        "Date: Sat, 21 Nov 2026 10:00:00 +0000\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "It still prints blank pages. I want to talk to a person.\r\n"
        "\r\n"
        "Am Fr., 20. Nov. 2026 um 17:00 Uhr schrieb Acme Support <support@acme.test>:\r\n"
        "> Please restart the printer.\r\n"
        f"> {token}\r\n"
    ).encode()

    email = parse_message(raw)
    assert email.parse_error is None
    assert loops.classify_automated(email, own_addresses=("support@acme.test",)) is None

    keys = threading.thread_keys(email)
    assert keys.tokens == (token,)
    candidates = threading.ThreadCandidates(
        by_token={
            token: threading.CandidateSession(
                session_id="session-42",
                contact_address="ann@customer.test",
                subject_key="printer broken",
                last_activity=NOW - timedelta(hours=17),
            )
        }
    )
    decision = threading.choose_thread(email, candidates, now=NOW)
    assert (decision.session_id, decision.reason) == ("session-42", threading.ThreadReason.TOKEN)

    text = quotes.strip_quoted(email.text)
    assert text == "It still prints blank pages. I want to talk to a person."
    reason = wants_handoff(text, HandoffRules(), sender=email.from_address)
    assert reason is not None and reason.trigger is HandoffTrigger.PHRASE

    lines = [
        transcript.TranscriptLine(
            author_kind=transcript.AuthorKind.CONTACT,
            author_name=email.from_name,
            author_address=email.from_address,
            at=email.date or NOW,
            text=text,
        )
    ]
    assert summary.topic(lines, email.subject) == "Printer broken"
    assert summary.extractive_summary(lines).startswith("It still prints blank pages.")
    chunks = transcript.chunk_transcript(lines)
    assert chunks == [
        "[2026-11-21 10:00 UTC] Customer (Ann Lee <ann@customer.test>):\n"
        "It still prints blank pages. I want to talk to a person."
    ]


def test_out_of_office_reply_is_stopped_before_threading() -> None:
    raw = (
        b"From: Ann Lee <ann@customer.test>\r\nTo: support@acme.test\r\n"
        b"Subject: Automatic reply: Printer broken\r\nAuto-Submitted: auto-replied\r\n\r\n"
        b"I am out of the office until Monday. For urgent matters talk to someone else.\r\n"
    )
    automation = loops.classify_automated(parse_message(raw))
    assert automation is not None
    assert automation.kind is loops.AutomationKind.AUTO_REPLY
