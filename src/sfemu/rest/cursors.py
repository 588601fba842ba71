"""Server-side query cursors behind ``nextRecordsUrl`` (``query/01g...-2000``)."""

from __future__ import annotations

import secrets
import string
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

_ALPHABET = string.ascii_letters + string.digits
MAX_CURSORS = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class Cursor:
    """The full result of one query, paged out ``batch_size`` rows at a time."""

    records: list[dict[str, Any]]
    total_size: int
    batch_size: int


class QueryCursors:
    """Open cursors of one org, least recently used dropped first."""

    def __init__(self, capacity: int = MAX_CURSORS) -> None:
        self._capacity = capacity
        self._open: OrderedDict[str, Cursor] = OrderedDict()

    def open(self, cursor: Cursor) -> str:
        """Store a cursor and return its locator (``01g`` + 15 characters)."""
        locator = "01g" + "".join(secrets.choice(_ALPHABET) for _ in range(15))
        self._open[locator] = cursor
        while len(self._open) > self._capacity:
            self._open.popitem(last=False)
        return locator

    def get(self, locator: str) -> Cursor | None:
        cursor = self._open.get(locator)
        if cursor is not None:
            self._open.move_to_end(locator)
        return cursor

    def clear(self) -> None:
        self._open.clear()

    def __len__(self) -> int:
        return len(self._open)
