"""After-commit write events (what Apex triggers with @future callouts would see)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sfemu.model import Record

WriteKind = Literal["insert", "update", "delete"]


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteEvent:
    """One committed write.

    ``old``/``new`` are snapshots of the stored record (None for insert/delete respectively);
    treat them as read-only. ``changed_fields`` holds the canonical names of the fields whose
    value changed (for inserts: every non-null field; for deletes: ``IsDeleted``).
    """

    kind: WriteKind
    object_name: str
    record_id: str
    changed_fields: frozenset[str]
    old: Record | None
    new: Record | None


Listener = Callable[[WriteEvent], None]
