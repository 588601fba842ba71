"""Transcript lines and their packing into CaseComment bodies.

A CaseComment body holds at most 4,000 bytes (UTF-8). :func:`chunk_transcript` packs
formatted lines into as few bodies as fit, in order, never splitting a message that fits.
A message larger than one body is cut at the last paragraph break that leaves the piece
at least a third full, else a line break, else a space, else at a character boundary;
every piece but the last ends with :data:`CONTINUED_TAIL` and every piece but the first
starts with :data:`CONTINUED_HEAD`. Nothing is dropped or reordered: removing the markers
and joining gives back the formatted messages exactly (``join_chunks``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sfbridge.core.errors import CoreError

__all__ = [
    "CASE_COMMENT_MAX_BYTES",
    "CONTINUED_HEAD",
    "CONTINUED_TAIL",
    "MESSAGE_SEPARATOR",
    "AuthorKind",
    "TranscriptLine",
    "chunk_transcript",
    "format_line",
    "join_chunks",
]

#: Salesforce's limit for ``CaseComment.CommentBody``, in bytes.
CASE_COMMENT_MAX_BYTES = 4000
#: Between two messages in one body.
MESSAGE_SEPARATOR = "\n\n"
#: Ends a piece of a message that goes on in the next body.
CONTINUED_TAIL = "\n(continued)"
#: Starts a piece that goes on from the previous body.
CONTINUED_HEAD = "(continued)\n"
_MIN_MAX_BYTES = 64


class AuthorKind(StrEnum):
    """Who wrote a transcript line."""

    CONTACT = "contact"  #: the customer
    AGENT = "agent"  #: the AI agent or platform
    REP = "rep"  #: a human in Salesforce
    SYSTEM = "system"  #: sfbridge itself (handoff notes, acknowledgments)


_LABELS = {
    AuthorKind.CONTACT: "Customer",
    AuthorKind.AGENT: "AI agent",
    AuthorKind.REP: "Support rep",
    AuthorKind.SYSTEM: "System",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class TranscriptLine:
    """One message of a conversation."""

    author_kind: AuthorKind
    author_name: str = ""
    author_address: str = ""
    at: datetime  #: aware
    text: str


def format_line(line: TranscriptLine) -> str:
    """Return one message as transcript text.

    Example: ``[2026-11-21 10:02 UTC] Customer (Ann Lee <ann@x.com>):`` then a newline and
    the text. Times are shown in UTC; a naive time is taken as UTC.
    """
    at = line.at if line.at.tzinfo is not None else line.at.replace(tzinfo=UTC)
    label = _LABELS[AuthorKind(line.author_kind)]
    name, address = line.author_name.strip(), line.author_address.strip()
    if name and address:
        who = f"{label} ({name} <{address}>)"
    elif name or address:
        who = f"{label} ({name or address})"
    else:
        who = label
    return f"[{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC] {who}:\n{line.text.strip()}"


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _fit(text: str, budget: int) -> int:
    """Return the largest character count whose UTF-8 encoding fits ``budget`` bytes."""
    low, high = 0, min(len(text), budget)
    while low < high:
        middle = (low + high + 1) // 2
        if _size(text[:middle]) <= budget:
            low = middle
        else:
            high = middle - 1
    return low


def _cut(text: str, budget: int) -> int:
    """Return where to cut ``text`` so the head fits ``budget`` bytes, preferring breaks."""
    limit = _fit(text, budget)
    if limit >= len(text):
        return len(text)
    head = text[:limit]
    floor = max(1, limit // 3)
    for separator in ("\n\n", "\n"):
        position = head.rfind(separator)
        if position >= 0 and position + len(separator) >= floor:
            return position + len(separator)
    for position in range(limit - 1, floor - 2, -1):
        if position >= 0 and head[position].isspace():
            return position + 1
    return max(1, limit)


def _split(message: str, max_bytes: int) -> list[str]:
    budget = max_bytes - _size(CONTINUED_HEAD) - _size(CONTINUED_TAIL)
    parts: list[str] = []
    rest = message
    while _size(rest) > budget:
        position = _cut(rest, budget)
        parts.append(rest[:position])
        rest = rest[position:]
    parts.append(rest)
    pieces = []
    for index, part in enumerate(parts):
        head = CONTINUED_HEAD if index else ""
        tail = CONTINUED_TAIL if index < len(parts) - 1 else ""
        pieces.append(f"{head}{part}{tail}")
    return pieces


def chunk_transcript(
    lines: Sequence[TranscriptLine], max_bytes: int = CASE_COMMENT_MAX_BYTES
) -> list[str]:
    """Pack a conversation into CaseComment bodies of at most ``max_bytes`` UTF-8 bytes.

    Args:
        lines: the messages, in conversation order.
        max_bytes: the size limit of one body (Salesforce: 4,000).

    Returns:
        The bodies, in order; empty for an empty conversation.

    Raises:
        CoreError: ``max_bytes`` is below 64.
    """
    if max_bytes < _MIN_MAX_BYTES:
        raise CoreError(f"max_bytes must be at least {_MIN_MAX_BYTES}", field="max_bytes")
    chunks: list[str] = []
    current = ""
    for line in lines:
        message = format_line(line)
        if _size(message) > max_bytes:
            if current:
                chunks.append(current)
                current = ""
            chunks.extend(_split(message, max_bytes))
            continue
        joined = f"{current}{MESSAGE_SEPARATOR}{message}" if current else message
        if _size(joined) <= max_bytes:
            current = joined
        else:
            chunks.append(current)
            current = message
    if current:
        chunks.append(current)
    return chunks


def join_chunks(chunks: Sequence[str]) -> str:
    """Undo :func:`chunk_transcript`: the formatted messages joined by the separator."""
    out = ""
    continuing = False
    for chunk in chunks:
        body = chunk
        if continuing:
            body = body.removeprefix(CONTINUED_HEAD)
        next_continues = body.endswith(CONTINUED_TAIL)
        if next_continues:
            body = body.removesuffix(CONTINUED_TAIL)
        if out and not continuing:
            out += MESSAGE_SEPARATOR
        out += body
        continuing = next_continues
    return out
