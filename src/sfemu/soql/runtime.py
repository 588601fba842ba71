"""Per-call state while a query runs: the data source, parent-record cache, child indexes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sfemu.model import DataSource, Record
from sfemu.soql.bound import BoundField, BoundQuery


class Runtime:
    """What predicates and the evaluator share during one query.

    Args:
        source: the org being queried.
        include_deleted: ``queryAll`` semantics (deleted rows are returned too).
        run_rows: evaluates a bound query to its matching rows (semi-joins call it back).
    """

    def __init__(
        self,
        source: DataSource,
        *,
        include_deleted: bool,
        run_rows: Callable[[BoundQuery, Runtime], list[Record]],
    ) -> None:
        self.source = source
        self.include_deleted = include_deleted
        self._run_rows = run_rows
        self._parents: dict[str, Record | None] = {}
        self._types: dict[str, str | None] = {}
        self._children: dict[tuple[str, str], dict[str, list[Record]] | None] = {}

    def fetch(self, record_id: str) -> Record | None:
        """A parent record by id (cached for the call)."""
        if record_id not in self._parents:
            self._parents[record_id] = self.source.get(record_id)
        return self._parents[record_id]

    def type_of(self, record_id: str) -> str | None:
        """The canonical object name of an id (from its key prefix)."""
        if record_id not in self._types:
            obj = self.source.object_for_id(record_id)
            self._types[record_id] = obj.name if obj else None
        return self._types[record_id]

    def parent(self, record: Record, field_name: str) -> Record | None:
        """The record that a reference field points at (None when empty or gone)."""
        target = record.get(field_name)
        return self.fetch(target) if isinstance(target, str) and target else None

    def value(self, record: Record, bound: BoundField) -> Any:
        """The value of a (possibly dotted) field for one row."""
        current: Record | None = record
        for index, hop in enumerate(bound.hops):
            assert current is not None
            if bound.object_type and index == len(bound.hops) - 1:
                target = current.get(hop.field)
                return self.type_of(target) if isinstance(target, str) and target else None
            current = self.parent(current, hop.field)
            if current is None:
                return None
        assert current is not None
        return current.get(bound.name)

    def rows_of(self, query: BoundQuery) -> list[Record]:
        """Rows matching a bound (sub)query, without shaping."""
        return self._run_rows(query, self)

    def children(self, object_name: str, field_name: str, parent_id: str) -> list[Record]:
        """Rows of ``object_name`` whose ``field_name`` is ``parent_id``, in insertion order.

        Uses the data source's index; without one, groups the child rows once per call.
        """
        found = (
            None if self.include_deleted else self.source.lookup(object_name, field_name, parent_id)
        )
        if found is not None:
            return [r for r in found if not r.get("IsDeleted")]
        key = (object_name, field_name)
        if key not in self._children:
            groups: dict[str, list[Record]] = {}
            rows: Iterable[Record] = self.source.rows(
                object_name, include_deleted=self.include_deleted
            )
            for row in rows:
                target = row.get(field_name)
                if isinstance(target, str):
                    groups.setdefault(target, []).append(row)
            self._children[key] = groups
        groups_for = self._children[key]
        assert groups_for is not None
        return groups_for.get(parent_id, [])
