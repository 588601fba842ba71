"""The typed syntax tree of SOQL and SOSL statements (frozen values, no schema knowledge).

The parser builds these from text; :mod:`sfemu.soql.bind` checks them against an org's schema.
Positions are 1-based (row, column), as Salesforce prints them in error messages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

CompareOp = Literal["=", "!=", "<", "<=", ">", ">="]
AggregateFn = Literal["COUNT", "COUNT_DISTINCT", "MIN", "MAX", "SUM", "AVG"]
SearchGroup = Literal["ALL", "NAME", "EMAIL", "PHONE", "SIDEBAR"]

#: Python types a plain literal can carry after parsing.
LiteralValue = str | bool | int | Decimal | dt.date | dt.datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Pos:
    """Where a node starts in the statement text (1-based)."""

    row: int
    column: int


@dataclass(frozen=True, kw_only=True, slots=True)
class FieldPath:
    """``Name`` or ``Account.Owner.Name`` as written (not yet resolved)."""

    parts: tuple[str, ...]
    pos: Pos

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, kw_only=True, slots=True)
class Aggregate:
    """``COUNT()``, ``COUNT(Id)``, ``MAX(Amount) biggest`` ..."""

    fn: AggregateFn
    arg: FieldPath | None
    alias: str | None
    pos: Pos


@dataclass(frozen=True, kw_only=True, slots=True)
class SubQuery:
    """A child relationship subquery in the select list."""

    query: Query


SelectItem = FieldPath | Aggregate | SubQuery


@dataclass(frozen=True, kw_only=True, slots=True)
class Constant:
    """A plain literal: a quoted string, number, boolean, null, date or dateTime."""

    value: LiteralValue
    pos: Pos


@dataclass(frozen=True, kw_only=True, slots=True)
class DateLiteral:
    """A relative date literal such as ``TODAY`` or ``LAST_N_DAYS:30`` (``n`` or None)."""

    name: str
    n: int | None
    pos: Pos


@dataclass(frozen=True, kw_only=True, slots=True)
class LikePattern:
    """The right-hand side of LIKE, compiled to an anchored regular expression."""

    regex: str
    pos: Pos


Value = Constant | DateLiteral


@dataclass(frozen=True, kw_only=True, slots=True)
class Compare:
    field: FieldPath
    op: CompareOp
    value: Value


@dataclass(frozen=True, kw_only=True, slots=True)
class Like:
    field: FieldPath
    pattern: LikePattern


@dataclass(frozen=True, kw_only=True, slots=True)
class InList:
    field: FieldPath
    values: tuple[Value, ...]
    negate: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class InQuery:
    """Semi-join (``Id IN (SELECT WhoId FROM Task)``) or anti-join (``NOT IN``)."""

    field: FieldPath
    query: Query
    negate: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class Includes:
    """Multi-select picklist ``INCLUDES ('a;b', 'c')`` (or ``EXCLUDES`` when negate)."""

    field: FieldPath
    values: tuple[Value, ...]
    negate: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class And:
    items: tuple[Condition, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Or:
    items: tuple[Condition, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Not:
    item: Condition


Condition = Compare | Like | InList | InQuery | Includes | And | Or | Not


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderItem:
    field: FieldPath
    descending: bool
    #: None when the query does not say (then: first for ASC, last for DESC).
    nulls_first: bool | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Query:
    """``SELECT ... FROM object [alias] [WHERE] [ORDER BY] [LIMIT] [OFFSET]``."""

    select: tuple[SelectItem, ...]
    object_name: str
    object_pos: Pos
    alias: str | None = None
    where: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Returning:
    """One ``RETURNING Obj(fields WHERE ... ORDER BY ... LIMIT n)`` entry of a SOSL search."""

    query: Query
    #: False for a bare ``RETURNING Account`` (then only Id is returned).
    explicit_fields: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class Search:
    """``FIND {term} [IN x FIELDS] [RETURNING ...] [LIMIT n]``; ``term`` is the raw text."""

    term: str
    term_pos: Pos
    group: SearchGroup = "ALL"
    returning: tuple[Returning, ...] = ()
    limit: int | None = None
