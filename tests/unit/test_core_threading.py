"""choose_thread: the order of evidence and the sender rules."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from sfbridge.core.mailparse import ParsedEmail
from sfbridge.core.threading import (
    CandidateSession,
    ThreadCandidates,
    ThreadReason,
    choose_thread,
    thread_index_key,
    thread_keys,
)
from sfbridge.core.tokens import make_thread_token

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
SECRET = b"0123456789abcdef-workspace-key"
TOKEN = make_thread_token("S-token", SECRET)
CONVERSATION = bytes(range(22))
THREAD_INDEX = base64.b64encode(CONVERSATION + b"\x01\x02\x03\x04\x05").decode()
THREAD_KEY = base64.b64encode(CONVERSATION).decode()

ANN = "ann@acme-customer.com"


def session(
    session_id: str,
    contact: str = ANN,
    subject_key: str = "printer broken",
    age: timedelta = timedelta(hours=1),
) -> CandidateSession:
    return CandidateSession(
        session_id=session_id,
        contact_address=contact,
        subject_key=subject_key,
        last_activity=NOW - age,
    )


def mail(**changes: object) -> ParsedEmail:
    base = ParsedEmail(
        message_id="<new@acme-customer.com>",
        subject="Re: Printer broken",
        from_address=ANN,
        text="Still broken.",
    )
    return replace(base, **changes)  # type: ignore[arg-type]  # test helper: fields vary per case


CASES: list[tuple[str, ParsedEmail, ThreadCandidates, str | None, ThreadReason]] = [
    (
        "in-reply-to",
        mail(in_reply_to="<out1@acme.test>"),
        ThreadCandidates(by_message_id={"<out1@acme.test>": session("S1")}),
        "S1",
        ThreadReason.IN_REPLY_TO,
    ),
    (
        "references-newest-first",
        mail(references=("<old@x>", "<newer@x>")),
        ThreadCandidates(
            by_message_id={"<old@x>": session("S-old"), "<newer@x>": session("S-new")}
        ),
        "S-new",
        ThreadReason.REFERENCES,
    ),
    (
        "in-reply-to-beats-token",
        mail(in_reply_to="<out1@acme.test>", subject=f"Re: Printer broken {TOKEN}"),
        ThreadCandidates(
            by_message_id={"<out1@acme.test>": session("S1")},
            by_token={TOKEN: session("S-token")},
        ),
        "S1",
        ThreadReason.IN_REPLY_TO,
    ),
    (
        "token-in-subject",
        mail(subject=f"Re: Printer broken {TOKEN}"),
        ThreadCandidates(by_token={TOKEN: session("S-token")}),
        "S-token",
        ThreadReason.TOKEN,
    ),
    (
        "token-in-quoted-body-after-relay-stripped-headers",
        mail(text=f"Still broken.\n\n> Our reply\n> {TOKEN}"),
        ThreadCandidates(by_token={TOKEN: session("S-token")}),
        "S-token",
        ThreadReason.TOKEN,
    ),
    (
        "token-of-another-customer-is-refused",
        mail(from_address="mallory@evil.test", subject=f"Re: Printer broken {TOKEN}"),
        ThreadCandidates(by_token={TOKEN: session("S-token")}),
        None,
        ThreadReason.NEW,
    ),
    (
        "token-from-colleague-is-refused",
        mail(from_address="bob@acme-customer.com", subject=f"Re: Printer broken {TOKEN}"),
        ThreadCandidates(by_token={TOKEN: session("S-token")}),
        None,
        ThreadReason.NEW,
    ),
    (
        "header-from-colleague-same-company",
        mail(from_address="bob@acme-customer.com", in_reply_to="<out1@acme.test>"),
        ThreadCandidates(by_message_id={"<out1@acme.test>": session("S1")}),
        "S1",
        ThreadReason.IN_REPLY_TO,
    ),
    (
        "header-from-other-gmail-user-is-refused",
        mail(from_address="eve@gmail.com", in_reply_to="<out1@acme.test>"),
        ThreadCandidates(
            by_message_id={"<out1@acme.test>": session("S1", contact="ann@gmail.com")}
        ),
        None,
        ThreadReason.NEW,
    ),
    (
        "header-from-other-domain-is-refused",
        mail(from_address="eve@other.test", in_reply_to="<out1@acme.test>"),
        ThreadCandidates(by_message_id={"<out1@acme.test>": session("S1")}),
        None,
        ThreadReason.NEW,
    ),
    (
        "refused-header-falls-through-to-own-token",
        mail(
            from_address="eve@other.test",
            in_reply_to="<out1@acme.test>",
            subject=f"Re: Printer {TOKEN}",
        ),
        ThreadCandidates(
            by_message_id={"<out1@acme.test>": session("S1")},
            by_token={TOKEN: session("S-eve", contact="Eve@Other.test")},
        ),
        "S-eve",
        ThreadReason.TOKEN,
    ),
    (
        "thread-index",
        mail(thread_index=THREAD_INDEX),
        ThreadCandidates(by_thread_index={THREAD_KEY: session("S-ti")}),
        "S-ti",
        ThreadReason.THREAD_INDEX,
    ),
    (
        "token-beats-thread-index",
        mail(thread_index=THREAD_INDEX, subject=f"Re: Printer broken {TOKEN}"),
        ThreadCandidates(
            by_token={TOKEN: session("S-token")},
            by_thread_index={THREAD_KEY: session("S-ti")},
        ),
        "S-token",
        ThreadReason.TOKEN,
    ),
    (
        "subject-same-sender-recent",
        mail(subject="AW: [External] Printer broken"),
        ThreadCandidates(
            recent_from_sender=[session("S-old", age=timedelta(days=2)), session("S-recent")]
        ),
        "S-recent",
        ThreadReason.SUBJECT,
    ),
    (
        "subject-too-old",
        mail(),
        ThreadCandidates(recent_from_sender=[session("S-old", age=timedelta(days=4))]),
        None,
        ThreadReason.NEW,
    ),
    (
        "subject-of-another-sender-is-refused",
        mail(),
        ThreadCandidates(recent_from_sender=[session("S-other", contact="zoe@acme-customer.com")]),
        None,
        ThreadReason.NEW,
    ),
    (
        "subject-differs",
        mail(subject="Invoice question"),
        ThreadCandidates(recent_from_sender=[session("S1")]),
        None,
        ThreadReason.NEW,
    ),
    (
        "forward-never-matches-by-subject",
        mail(subject="Fwd: Printer broken"),
        ThreadCandidates(recent_from_sender=[session("S1")]),
        None,
        ThreadReason.NEW,
    ),
    (
        "empty-subject-never-matches-by-subject",
        mail(subject=""),
        ThreadCandidates(recent_from_sender=[session("S1", subject_key="")]),
        None,
        ThreadReason.NEW,
    ),
    (
        "rewritten-subject-on-reply-is-a-new-topic",
        mail(in_reply_to="<out1@acme.test>", subject="Invoice question"),
        ThreadCandidates(by_message_id={"<out1@acme.test>": session("S1")}),
        None,
        ThreadReason.NEW_TOPIC,
    ),
    (
        "edited-subject-keeping-re-stays",
        mail(in_reply_to="<out1@acme.test>", subject="Re: Printer still broken"),
        ThreadCandidates(by_message_id={"<out1@acme.test>": session("S1")}),
        "S1",
        ThreadReason.IN_REPLY_TO,
    ),
    (
        "rewritten-subject-but-token-in-subject-stays",
        mail(subject=f"Invoice question {TOKEN}"),
        ThreadCandidates(by_token={TOKEN: session("S-token")}),
        "S-token",
        ThreadReason.TOKEN,
    ),
    (
        "rewritten-subject-with-token-only-in-body-is-new-topic",
        mail(subject="Invoice question", text=f"New thing.\n> {TOKEN}"),
        ThreadCandidates(by_token={TOKEN: session("S-token")}),
        None,
        ThreadReason.NEW_TOPIC,
    ),
    (
        "nothing",
        mail(),
        ThreadCandidates(),
        None,
        ThreadReason.NEW,
    ),
    (
        "unknown-sender-never-matches",
        mail(from_address="", in_reply_to="<out1@acme.test>", subject=f"Re: x {TOKEN}"),
        ThreadCandidates(
            by_message_id={"<out1@acme.test>": session("S1")}, by_token={TOKEN: session("S-token")}
        ),
        None,
        ThreadReason.NEW,
    ),
]


@pytest.mark.parametrize(
    ("email", "candidates", "session_id", "reason"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_choose_thread(
    email: ParsedEmail,
    candidates: ThreadCandidates,
    session_id: str | None,
    reason: ThreadReason,
) -> None:
    decision = choose_thread(email, candidates, now=NOW, subject_window=timedelta(days=3))
    assert (decision.session_id, decision.reason) == (session_id, reason)


def test_colleague_flag_and_notes() -> None:
    decision = choose_thread(
        mail(from_address="bob@acme-customer.com", in_reply_to="<out1@acme.test>"),
        ThreadCandidates(by_message_id={"<out1@acme.test>": session("S1")}),
        now=NOW,
    )
    assert decision.colleague is True
    refused = choose_thread(
        mail(from_address="eve@other.test", subject=f"Re: Printer broken {TOKEN}"),
        ThreadCandidates(by_token={TOKEN: session("S-token")}),
        now=NOW,
    )
    assert refused.notes == ("token: session S-token belongs to another contact",)


def test_new_topic_split_can_be_turned_off() -> None:
    decision = choose_thread(
        mail(in_reply_to="<out1@acme.test>", subject="Invoice question"),
        ThreadCandidates(by_message_id={"<out1@acme.test>": session("S1")}),
        now=NOW,
        split_on_new_subject=False,
    )
    assert decision.session_id == "S1"


def test_public_domains_are_configurable() -> None:
    email = mail(from_address="eve@gmail.com", in_reply_to="<out1@acme.test>")
    candidates = ThreadCandidates(
        by_message_id={"<out1@acme.test>": session("S1", contact="ann@gmail.com")}
    )
    assert choose_thread(email, candidates, now=NOW, public_domains=frozenset()).session_id == "S1"


def test_thread_keys() -> None:
    email = mail(
        message_id="<self@x>",
        in_reply_to="<b@x>",
        references=("<a@x>", "<b@x>", "<self@x>"),
        subject=f"Re: [External] Printer Broken {TOKEN}",
        text=f"> {TOKEN}\n> [ref:SFB-0000000000]",
        thread_index=THREAD_INDEX,
        from_address="Ann@Acme-Customer.com",
    )
    keys = thread_keys(email)
    assert keys.message_ids == ("<b@x>", "<a@x>")
    assert keys.tokens == (TOKEN, "[ref:SFB-0000000000]")
    assert keys.thread_index == THREAD_KEY
    assert keys.subject_key == "printer broken"
    assert keys.sender == "ann@acme-customer.com"


@pytest.mark.parametrize(
    ("header", "key"),
    [
        (THREAD_INDEX, THREAD_KEY),
        (base64.b64encode(CONVERSATION).decode(), THREAD_KEY),
        (base64.b64encode(CONVERSATION + b"\x09" * 10).decode().rstrip("="), THREAD_KEY),
        (THREAD_INDEX[:10] + "\r\n " + THREAD_INDEX[10:], THREAD_KEY),
        (base64.b64encode(b"short").decode(), None),
        ("not base64 !!!", None),
        ("", None),
        (None, None),
    ],
)
def test_thread_index_key(header: str | None, key: str | None) -> None:
    assert thread_index_key(header) == key
