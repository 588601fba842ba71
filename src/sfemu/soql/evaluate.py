"""Run a bound query: pick rows (index probe or scan), filter, sort, page, aggregate, shape.

The plan is simple and deterministic: if the top-level AND has an equality or IN on an
indexed direct field (Id first, then unique / external-id fields, then references), the
candidate rows come from ``DataSource.lookup``; otherwise every row is scanned. The full
WHERE is applied to the candidates either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sfemu.model import DataSource, Record, wire_value
from sfemu.soql import shape
from sfemu.soql.bound import BoundAggregate, BoundChild, BoundOrder, BoundQuery
from sfemu.soql.predicates import normalise
from sfemu.soql.runtime import Runtime


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What a query produced: ``total_size`` rows (after LIMIT/OFFSET) and their records."""

    total_size: int
    records: list[dict[str, Any]]


def runtime(source: DataSource, *, include_deleted: bool) -> Runtime:
    """A fresh per-call runtime wired to this module's row evaluation."""
    return Runtime(
        source, include_deleted=include_deleted, run_rows=lambda q, rt: select_rows(q, rt)
    )


def candidates(query: BoundQuery, rt: Runtime) -> Iterable[Record]:
    """Rows that may match: from the most selective usable index probe, else a full scan."""
    if not rt.include_deleted:
        for probe in query.probes:
            found: dict[str, Record] = {}
            usable = True
            for value in probe.values:
                hits = rt.source.lookup(query.obj.name, probe.field, value)
                if hits is None:
                    usable = False
                    break
                for hit in hits:
                    found.setdefault(hit["Id"], hit)
            if usable:
                return [r for r in found.values() if not r.get("IsDeleted")]
    return rt.source.rows(query.obj.name, include_deleted=rt.include_deleted)


def select_rows(
    query: BoundQuery, rt: Runtime, rows: Iterable[Record] | None = None
) -> list[Record]:
    """Matching rows, sorted and paged (``rows`` overrides the candidate rows)."""
    pool = candidates(query, rt) if rows is None else rows
    where = query.where
    matched = [r for r in pool if where is None or where(r, rt)]
    return page(query, sort(matched, query.order, rt))


def page(query: BoundQuery, rows: list[Record]) -> list[Record]:
    """Apply OFFSET, then LIMIT."""
    start = query.offset or 0
    end = None if query.limit is None else start + query.limit
    return rows[start:end]


def sort(rows: list[Record], order: tuple[BoundOrder, ...], rt: Runtime) -> list[Record]:
    """Stable multi-key sort; text case-insensitive; nulls placed per item."""
    result = list(rows)
    for item in reversed(order):
        null_group = int(item.descending) if item.nulls_first else int(not item.descending)

        def key(
            row: Record, item: BoundOrder = item, null_group: int = null_group
        ) -> tuple[int, Any]:
            value = normalise(item.field.kind, rt.value(row, item.field))
            if value is None:
                return (null_group, 0)
            return (1 - null_group, value)

        result.sort(key=key, reverse=item.descending)
    return result


def _aggregate(agg: BoundAggregate, rows: list[Record], rt: Runtime) -> Any:
    arg = agg.arg
    assert arg is not None
    kind = arg.kind
    values = [v for r in rows if (v := rt.value(r, arg)) is not None]
    if agg.fn == "COUNT":
        return len(values)
    if agg.fn == "COUNT_DISTINCT":
        return len({normalise(kind, v) for v in values})
    if not values:
        return None
    if agg.fn == "MIN":
        return wire_value(min(values, key=lambda v: normalise(kind, v)))
    if agg.fn == "MAX":
        return wire_value(max(values, key=lambda v: normalise(kind, v)))
    total = sum(float(v) for v in values)
    return total if agg.fn == "SUM" else total / len(values)


def execute(
    query: BoundQuery, rt: Runtime, *, version: str, rows: Iterable[Record] | None = None
) -> Outcome:
    """Run a bound query to wire records (``rows`` overrides the candidate rows, for SOSL)."""
    if query.count_only or query.aggregates:
        pool = candidates(query, rt) if rows is None else rows
        where = query.where
        matched = [r for r in pool if where is None or where(r, rt)]
        if query.count_only:
            return Outcome(total_size=len(page(query, matched)), records=[])
        record: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        for agg in query.aggregates:
            record[agg.label] = _aggregate(agg, matched, rt)
        records = page(query, [record])
        return Outcome(total_size=len(records), records=records)
    selected = select_rows(query, rt, rows)
    nodes = shape.tree(query.select)

    def child_rows(child: BoundChild, parent: Record) -> list[Record]:
        pool = rt.children(child.query.obj.name, child.parent_field, parent["Id"])
        return select_rows(child.query, rt, pool)

    records = [
        shape.shape(r, query.obj.name, nodes, rt=rt, version=version, child_rows=child_rows)
        for r in selected
    ]
    return Outcome(total_size=len(records), records=records)
