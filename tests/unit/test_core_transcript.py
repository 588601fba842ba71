"""Transcript formatting and CaseComment chunking (byte limits, order, no loss)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from sfbridge.core.errors import CoreError
from sfbridge.core.transcript import (
    CONTINUED_HEAD,
    CONTINUED_TAIL,
    MESSAGE_SEPARATOR,
    AuthorKind,
    TranscriptLine,
    chunk_transcript,
    format_line,
    join_chunks,
)

AT = datetime(2026, 11, 21, 10, 2, tzinfo=UTC)


def line(text: str, kind: AuthorKind = AuthorKind.CONTACT, minute: int = 0) -> TranscriptLine:
    return TranscriptLine(
        author_kind=kind,
        author_name="Ann Lee",
        author_address="ann@x.com",
        at=AT + timedelta(minutes=minute),
        text=text,
    )


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (line("Hello"), "[2026-11-21 10:02 UTC] Customer (Ann Lee <ann@x.com>):\nHello"),
        (
            TranscriptLine(author_kind=AuthorKind.AGENT, author_name="Bot", at=AT, text=" Hi \n"),
            "[2026-11-21 10:02 UTC] AI agent (Bot):\nHi",
        ),
        (
            TranscriptLine(
                author_kind=AuthorKind.REP, author_address="rep@acme.test", at=AT, text="Ok"
            ),
            "[2026-11-21 10:02 UTC] Support rep (rep@acme.test):\nOk",
        ),
        (
            TranscriptLine(
                author_kind=AuthorKind.SYSTEM,
                at=datetime(2026, 11, 21, 11, 2, tzinfo=timezone(timedelta(hours=1))),
                text="Handed off",
            ),
            "[2026-11-21 10:02 UTC] System:\nHanded off",
        ),
        (
            TranscriptLine(
                author_kind=AuthorKind.CONTACT, at=datetime(2026, 11, 21, 10, 2), text="naive"
            ),
            "[2026-11-21 10:02 UTC] Customer:\nnaive",
        ),
    ],
)
def test_format_line(entry: TranscriptLine, expected: str) -> None:
    assert format_line(entry) == expected


def _check(lines: list[TranscriptLine], max_bytes: int) -> list[str]:
    chunks = chunk_transcript(lines, max_bytes=max_bytes)
    for chunk in chunks:
        assert len(chunk.encode("utf-8")) <= max_bytes
        assert chunk.strip()
    assert join_chunks(chunks) == MESSAGE_SEPARATOR.join(format_line(entry) for entry in lines)
    return chunks


def test_small_messages_share_one_comment() -> None:
    lines = [line("Hello", minute=0), line("Thanks", AuthorKind.REP, minute=1)]
    chunks = _check(lines, 4000)
    assert chunks == [format_line(lines[0]) + "\n\n" + format_line(lines[1])]


def test_messages_are_never_split_when_they_fit() -> None:
    lines = [line("a" * 1500, minute=i) for i in range(5)]
    chunks = _check(lines, 4000)
    assert len(chunks) == 3
    assert all(CONTINUED_TAIL not in chunk for chunk in chunks)
    assert chunks[0].count("Customer") == 2


def test_exact_fit_uses_one_comment() -> None:
    header = format_line(line(""))
    text = "x" * (4000 - len(header.encode()))
    chunks = _check([line(text)], 4000)
    assert len(chunks) == 1
    assert len(chunks[0].encode()) == 4000


def test_large_message_splits_on_paragraphs_with_markers() -> None:
    paragraphs = [f"Paragraph {i}: " + "word " * 150 for i in range(10)]
    chunks = _check([line("\n\n".join(paragraphs))], 4000)
    assert len(chunks) > 1
    assert chunks[0].endswith(CONTINUED_TAIL)
    assert chunks[-1].startswith(CONTINUED_HEAD)
    for chunk in chunks[1:]:
        assert chunk.removeprefix(CONTINUED_HEAD).startswith("Paragraph ")


def test_large_message_without_breaks_splits_on_utf8_boundaries() -> None:
    text = "€" * 5000 + "😀" * 3000  # 3- and 4-byte characters, no whitespace
    chunks = _check([line(text)], 4000)
    assert len(chunks) >= 7
    for chunk in chunks:
        chunk.encode("utf-8").decode("utf-8")  # every chunk is valid UTF-8 on its own


def test_large_message_splits_on_lines_then_words() -> None:
    lines_text = "\n".join(f"line {i} " + "z" * 50 for i in range(200))
    chunks = _check([line(lines_text)], 1000)
    assert all(chunk.removesuffix(CONTINUED_TAIL).endswith("\n") for chunk in chunks[:-1])
    words = " ".join(f"w{i}" for i in range(2000))
    chunks = _check([line(words)], 500)
    assert all(chunk.removesuffix(CONTINUED_TAIL).endswith(" ") for chunk in chunks[:-1])


def test_big_message_between_small_ones_keeps_order() -> None:
    lines = [line("first"), line("B" * 9000 + " end", minute=1), line("last", minute=2)]
    chunks = _check(lines, 4000)
    assert chunks[0].endswith("first")
    assert chunks[-1].endswith("last")


@pytest.mark.parametrize("seed", range(25))
def test_property_rejoining_gives_back_every_message(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = ["a", "b", " ", "\n", "\n\n", "é", "€", "😀", "word ", "\t"]
    lines = [
        line(
            "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 5, 50, 500, 3000, 9000]))),
            rng.choice(list(AuthorKind)),
            minute=index,
        )
        for index in range(rng.randint(1, 12))
    ]
    _check(lines, rng.choice([64, 100, 500, 1000, 4000]))


def test_empty_and_invalid() -> None:
    assert chunk_transcript([]) == []
    with pytest.raises(CoreError):
        chunk_transcript([line("x")], max_bytes=63)
