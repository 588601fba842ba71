"""Resolved query plans: names checked against the schema, literals typed, predicates built.

These are what :mod:`sfemu.soql.evaluate` runs. They are built per call (date literals depend
on the clock, field visibility on the user), from a cached syntax tree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sfemu.model import ObjectDef, Record
from sfemu.soql.nodes import AggregateFn, Pos

if TYPE_CHECKING:
    from sfemu.soql.runtime import Runtime

#: How values of a field compare: ids exactly, text case-insensitively, and so on.
Kind = Literal["id", "text", "multi", "bool", "number", "date", "datetime"]

#: A compiled WHERE condition.
Predicate = Callable[[Record, "Runtime"], bool]


@dataclass(frozen=True, kw_only=True, slots=True)
class Hop:
    """One step along a parent relationship: ``AccountId`` reached as ``Account``."""

    field: str
    relationship: str


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundField:
    """A field path resolved to canonical names (``Account.Owner.Name``)."""

    hops: tuple[Hop, ...]
    name: str
    kind: Kind
    #: The polymorphic ``What.Type`` pseudo-field: the parent's object name.
    object_type: bool = False
    #: Direct fields with an index in the data source: lookup priority (see :class:`Probe`).
    rank: int | None = None
    pos: Pos

    @property
    def key(self) -> tuple[str, ...]:
        return (*(h.relationship for h in self.hops), self.name)


@dataclass(frozen=True, kw_only=True, slots=True)
class Probe:
    """An index lookup that yields every candidate row: ``field`` equals one of ``values``."""

    field: str
    values: tuple[Any, ...]
    #: Lower is more selective (0 = Id, 1 = unique / external id, 2 = other indexed fields).
    rank: int


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundAggregate:
    fn: AggregateFn
    arg: BoundField | None
    label: str


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundOrder:
    field: BoundField
    descending: bool
    nulls_first: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundChild:
    """A child subquery: rows of ``query.obj`` whose ``parent_field`` is the parent's Id."""

    relationship: str
    parent_field: str
    query: BoundQuery


BoundSelect = BoundField | BoundChild


@dataclass(frozen=True, kw_only=True)
class BoundQuery:
    obj: ObjectDef
    select: tuple[BoundSelect, ...] = ()
    aggregates: tuple[BoundAggregate, ...] = ()
    #: ``SELECT COUNT() ...``: only the count is returned.
    count_only: bool = False
    where: Predicate | None = None
    probes: tuple[Probe, ...] = ()
    order: tuple[BoundOrder, ...] = ()
    limit: int | None = None
    offset: int | None = None
