"""WHERE conditions -> compiled predicates, with SOQL's typing and null rules.

Text compares case-insensitively; ``= null`` / ``!= null`` test for null; a null field never
satisfies ``<``, ``>`` or LIKE but does satisfy ``!=`` and ``NOT IN`` (two-valued logic, as
in SOQL). Literal kinds must fit the field (a quoted value for a number field is an error).
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sfemu import ids
from sfemu.model import Record
from sfemu.soql import dates
from sfemu.soql.bound import BoundField, BoundQuery, Kind, Predicate, Probe
from sfemu.soql.errors import PositionedError, filter_type, invalid_id
from sfemu.soql.nodes import (
    And,
    Compare,
    Condition,
    Constant,
    DateLiteral,
    FieldPath,
    Includes,
    InList,
    InQuery,
    Like,
    Not,
    Or,
    Value,
)
from sfemu.soql.runtime import Runtime

_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_EXPECTED: dict[Kind, tuple[str, bool]] = {
    "id": ("id", True),
    "text": ("string", True),
    "multi": ("string", True),
    "bool": ("boolean", False),
    "number": ("double", False),
    "date": ("date", False),
    "datetime": ("dateTime", False),
}


@dataclass(frozen=True, kw_only=True)
class Scope:
    """What building predicates needs from the binder (name resolution, clock, time zone)."""

    resolve: Callable[[FieldPath], BoundField]
    bind_semi: Callable[[InQuery], tuple[BoundQuery, BoundField]]
    today: dt.date
    tz: dt.tzinfo


def normalise(kind: Kind, value: Any) -> Any:
    """A stored value in comparable form (text case-folded, numbers as float)."""
    if value is None:
        return None
    if kind in ("text", "multi") and isinstance(value, str):
        return value.casefold()
    if (
        kind == "number"
        and not isinstance(value, bool)
        and isinstance(value, int | float | Decimal)
    ):
        return float(value)
    return value


def coerce(bound: BoundField, literal: Constant) -> Any:
    """A literal as a comparable key for ``bound`` (None stays None).

    Raises:
        PositionedError: INVALID_QUERY_FILTER_OPERATOR when the literal does not fit.
    """
    value = literal.value
    if value is None:
        return None
    kind = bound.kind
    ok = False
    if kind == "id" and isinstance(value, str):
        if not value:
            return None
        normalised = ids.try_normalize(value)
        if normalised is None:
            raise invalid_id(value, literal.pos)
        return normalised
    if kind in ("text", "multi"):
        ok = isinstance(value, str)
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "number":
        ok = isinstance(value, int | Decimal) and not isinstance(value, bool)
    elif kind == "date":
        ok = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    elif kind == "datetime":
        ok = isinstance(value, dt.datetime)
    if not ok:
        raise _mismatch(bound, literal.pos)
    return normalise(kind, value)


def lookup_value(bound: BoundField, literal: Constant) -> Any:
    """A literal as the value to pass to ``DataSource.lookup`` (original casing kept)."""
    key = coerce(bound, literal)
    if isinstance(literal.value, str) and bound.kind != "id":
        return literal.value
    return key


def _mismatch(bound: BoundField, pos: Any) -> PositionedError:
    expected, quoted = _EXPECTED[bound.kind]
    return filter_type(bound.name, expected, quoted=quoted, pos=pos)


def build(condition: Condition, scope: Scope) -> Predicate:
    """Compile a condition tree into one predicate."""
    if isinstance(condition, And):
        parts = [build(item, scope) for item in condition.items]
        return lambda row, rt: all(p(row, rt) for p in parts)
    if isinstance(condition, Or):
        parts = [build(item, scope) for item in condition.items]
        return lambda row, rt: any(p(row, rt) for p in parts)
    if isinstance(condition, Not):
        inner = build(condition.item, scope)
        return lambda row, rt: not inner(row, rt)
    if isinstance(condition, Compare):
        return _compare(condition, scope)
    if isinstance(condition, Like):
        bound = scope.resolve(condition.field)
        regex = re.compile(condition.pattern.regex, re.IGNORECASE | re.DOTALL)

        def like(row: Record, rt: Runtime) -> bool:
            value = rt.value(row, bound)
            return value is not None and regex.fullmatch(str(value)) is not None

        return like
    if isinstance(condition, InList):
        return _in_list(condition, scope)
    if isinstance(condition, Includes):
        return _includes(condition, scope)
    return _semi_join(condition, scope)


def _compare(condition: Compare, scope: Scope) -> Predicate:
    bound = scope.resolve(condition.field)
    op = condition.op
    if isinstance(condition.value, DateLiteral):
        return _date_range(bound, op, condition.value, scope)
    key = coerce(bound, condition.value)
    kind = bound.kind
    if key is None:
        if op in ("=", "!="):
            want_null = op == "="
            return lambda row, rt: (rt.value(row, bound) is None) == want_null
        return lambda row, rt: False
    if op in ("=", "!="):
        equal = op == "="
        return lambda row, rt: (normalise(kind, rt.value(row, bound)) == key) == equal
    compare = _ORDERING[op]

    def ordered(row: Record, rt: Runtime) -> bool:
        value = normalise(kind, rt.value(row, bound))
        return value is not None and compare(value, key)

    return ordered


def _date_range(bound: BoundField, op: str, literal: DateLiteral, scope: Scope) -> Predicate:
    if bound.kind not in ("date", "datetime"):
        raise _mismatch(bound, literal.pos)
    days = dates.date_range(literal.name, literal.n, scope.today)
    # Both kinds become a half-open interval [start, end).
    start: Any
    end: Any
    if bound.kind == "date":
        start, end = days.first, days.last + dt.timedelta(days=1)
    else:
        start, end = dates.to_datetime_range(days, scope.tz)
    tests: dict[str, Callable[[Any], bool]] = {
        "=": lambda v: start <= v < end,
        "!=": lambda v: not start <= v < end,
        "<": lambda v: v < start,
        "<=": lambda v: v < end,
        ">": lambda v: v >= end,
        ">=": lambda v: v >= start,
    }
    test = tests[op]

    def in_range(row: Record, rt: Runtime) -> bool:
        value = rt.value(row, bound)
        if value is None:
            return op == "!="
        return test(value)

    return in_range


def _constants(values: tuple[Value, ...], bound: BoundField) -> list[Constant]:
    out: list[Constant] = []
    for value in values:
        if isinstance(value, DateLiteral):
            raise _mismatch(bound, value.pos)
        out.append(value)
    return out


def _in_list(condition: InList, scope: Scope) -> Predicate:
    bound = scope.resolve(condition.field)
    keys = frozenset(coerce(bound, c) for c in _constants(condition.values, bound))
    kind = bound.kind
    negate = condition.negate
    return lambda row, rt: (normalise(kind, rt.value(row, bound)) in keys) != negate


def _includes(condition: Includes, scope: Scope) -> Predicate:
    bound = scope.resolve(condition.field)
    if bound.kind != "multi":
        raise PositionedError(
            "INVALID_QUERY_FILTER_OPERATOR",
            "includes or excludes operator only valid on multipicklist field",
            condition.field.pos,
        )
    groups = [
        frozenset(part.strip() for part in str(coerce(bound, c)).split(";"))
        for c in _constants(condition.values, bound)
    ]
    negate = condition.negate

    def includes(row: Record, rt: Runtime) -> bool:
        value = rt.value(row, bound)
        chosen = frozenset(p.strip().casefold() for p in value.split(";")) if value else frozenset()
        return any(group <= chosen for group in groups) != negate

    return includes


def _semi_join(condition: InQuery, scope: Scope) -> Predicate:
    bound = scope.resolve(condition.field)
    query, selected = scope.bind_semi(condition)
    negate = condition.negate
    cache: list[frozenset[Any]] = []

    def semi(row: Record, rt: Runtime) -> bool:
        if not cache:
            cache.append(frozenset(rt.value(r, selected) for r in rt.rows_of(query)) - {None})
        return (rt.value(row, bound) in cache[0]) != negate

    return semi


def probes(condition: Condition | None, scope: Scope) -> tuple[Probe, ...]:
    """Index lookups implied by top-level AND-ed equality / IN conditions on direct fields."""
    if condition is None:
        return ()
    items = condition.items if isinstance(condition, And) else (condition,)
    found: list[Probe] = []
    for item in items:
        if isinstance(item, Compare) and item.op == "=" and isinstance(item.value, Constant):
            literals_ = [item.value]
        elif isinstance(item, InList) and not item.negate:
            literals_ = [v for v in item.values if isinstance(v, Constant)]
            if len(literals_) != len(item.values):
                continue
        else:
            continue
        bound = scope.resolve(item.field)
        if bound.hops or bound.rank is None or any(c.value is None for c in literals_):
            continue
        values = tuple(lookup_value(bound, c) for c in literals_)
        found.append(Probe(field=bound.name, values=values, rank=bound.rank))
    return tuple(sorted(found, key=lambda p: p.rank))
