"""Topic and extractive summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sfbridge.core.summary import extractive_summary, sentences, topic
from sfbridge.core.transcript import AuthorKind, TranscriptLine

AT = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def msg(text: str, kind: AuthorKind = AuthorKind.CONTACT, minute: int = 0) -> TranscriptLine:
    return TranscriptLine(author_kind=kind, at=AT + timedelta(minutes=minute), text=text)


CONVERSATION = [
    msg("My printer shows error 50.4 since Monday. It is a LaserJet 4000 in the office."),
    msg("Have you tried turning it off and on?", AuthorKind.AGENT, 1),
    msg(
        "Yes, I restarted the printer twice. The printer error stays. "
        "The weather is nice today. Please send a technician for the printer.",
        minute=2,
    ),
    msg("I will escalate this.", AuthorKind.REP, 3),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three?", ["One.", "Two!", "Three?"]),
        ("Version 2.5 is broken. Help", ["Version 2.5 is broken.", "Help"]),
        ("Para one\n\nPara two", ["Para one", "Para two"]),
        ("Items:\n- first\n- second", ["Items:", "- first", "- second"]),
        ("Line\nwrapped sentence.", ["Line wrapped sentence."]),
        ("   ", []),
    ],
)
def test_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_summary_keeps_first_sentence_and_customer_only() -> None:
    summary = extractive_summary(CONVERSATION, max_chars=1000)
    assert summary.startswith("My printer shows error 50.4 since Monday.")
    assert "turning it off" not in summary
    assert "escalate" not in summary


def test_summary_prefers_frequent_terms_and_keeps_order() -> None:
    # Scores: "The printer error stays." 4.0, "Yes, I restarted the printer twice." 3.5,
    # "Please send a technician ..." 3.5 (later, and no longer fits), weather 1.7.
    summary = extractive_summary(CONVERSATION, max_chars=110)
    assert summary == (
        "My printer shows error 50.4 since Monday. Yes, I restarted the printer twice. "
        "The printer error stays."
    )
    assert "weather" not in summary


@pytest.mark.parametrize("max_chars", [20, 60, 100, 200, 1000])
def test_summary_respects_the_limit_and_is_deterministic(max_chars: int) -> None:
    first = extractive_summary(CONVERSATION, max_chars=max_chars)
    assert len(first) <= max_chars
    assert first == extractive_summary(CONVERSATION, max_chars=max_chars)
    assert first


def test_summary_truncates_a_long_first_sentence_at_a_word() -> None:
    summary = extractive_summary([msg("word " * 100)], max_chars=50)
    assert len(summary) <= 50
    assert summary.endswith("word…")


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([], ""),
        ([msg("   ")], ""),
        ([msg("Agent only.", AuthorKind.AGENT)], "Agent only."),
        ([msg("Same thing."), msg("same thing.", minute=1)], "Same thing."),
    ],
)
def test_summary_edge_cases(messages: list[TranscriptLine], expected: str) -> None:
    assert extractive_summary(messages) == expected


@pytest.mark.parametrize(
    ("subject", "messages", "expected"),
    [
        ("Re: [External] Printer broken [ref:SFB-0123456789]", CONVERSATION, "Printer broken"),
        ("", CONVERSATION, "My printer shows error 50.4 since Monday."),
        (None, [msg("Hi", AuthorKind.AGENT), msg("Need help. Now.")], "Need help."),
        ("Re:", [], "(no subject)"),
        ("x" * 300, [], "x" * 254 + "…"),
        ("word " * 80, [], ("word " * 50).strip() + "…"),
    ],
)
def test_topic(subject: str | None, messages: list[TranscriptLine], expected: str) -> None:
    result = topic(messages, subject)
    assert result == expected
    assert len(result) <= 255
