"""Literal text -> Python values: quoted strings with SOQL escapes, LIKE patterns, dates."""

from __future__ import annotations

import datetime as dt
import re

from sfemu.soql.errors import PositionedError, malformed
from sfemu.soql.nodes import Pos

_SIMPLE_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}
_HEX = frozenset("0123456789abcdefABCDEF")


def _illegal(raw: str, sequence: str, pos: Pos) -> PositionedError:
    return malformed(
        f"Invalid string literal '{raw}'. Illegal character sequence '{sequence}' in string literal.",
        pos,
    )


def _unescape_pieces(raw: str, pos: Pos, *, like: bool) -> list[tuple[str, bool]]:
    """Split a quoted literal's inside into (text, is_escaped_wildcard) pieces."""
    pieces: list[tuple[str, bool]] = []
    i = 0
    while i < len(raw):
        char = raw[i]
        if char != "\\":
            pieces.append((char, False))
            i += 1
            continue
        if i + 1 >= len(raw):
            raise _illegal(raw, "\\", pos)
        nxt = raw[i + 1]
        lowered = nxt.lower() if nxt in "NRTBF" else nxt
        if lowered in _SIMPLE_ESCAPES:
            pieces.append((_SIMPLE_ESCAPES[lowered], False))
            i += 2
        elif nxt == "u" and len(raw) >= i + 6 and all(c in _HEX for c in raw[i + 2 : i + 6]):
            pieces.append((chr(int(raw[i + 2 : i + 6], 16)), False))
            i += 6
        elif like and nxt in "%_":
            pieces.append((nxt, True))
            i += 2
        else:
            raise _illegal(raw, "\\" + nxt, pos)
    return pieces


def unescape(raw: str, pos: Pos) -> str:
    """The value of a quoted SOQL string (``raw`` is the text between the quotes).

    Raises:
        PositionedError: MALFORMED_QUERY for a backslash not followed by a legal escape.
    """
    return "".join(text for text, _ in _unescape_pieces(raw, pos, like=False))


def like_regex(raw: str, pos: Pos) -> str:
    """An anchored regular expression for a LIKE pattern (``%`` any run, ``_`` one char).

    ``\\%`` and ``\\_`` match a literal percent sign or underscore.
    """
    out: list[str] = []
    for text, escaped in _unescape_pieces(raw, pos, like=True):
        if escaped:
            out.append(re.escape(text))
        elif text == "%":
            out.append(".*")
        elif text == "_":
            out.append(".")
        else:
            out.append(re.escape(text))
    return "".join(out)


def parse_date(text: str, pos: Pos) -> dt.date:
    """``2024-01-31`` -> a date (MALFORMED_QUERY when the calendar date does not exist)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise malformed(f"invalid date literal: {text}", pos) from None


def parse_datetime(text: str, pos: Pos) -> dt.datetime:
    """``2024-01-31T10:00:00Z`` / ``...+02:00`` / ``...+0200`` -> an aware UTC datetime."""
    normalised = text.upper()
    if normalised.endswith("Z"):
        normalised = normalised[:-1] + "+00:00"
    elif re.search(r"[+-]\d{4}$", normalised):
        normalised = normalised[:-2] + ":" + normalised[-2:]
    try:
        value = dt.datetime.fromisoformat(normalised)
    except ValueError:
        raise malformed(f"invalid dateTime literal: {text}", pos) from None
    return value.astimezone(dt.UTC)
