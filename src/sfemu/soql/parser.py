"""Text -> syntax tree for SOQL queries and SOSL searches (lark, LALR, one shared grammar).

Parse results are cached per statement text (the same queries repeat), which is safe because
the tree is made of frozen values and knows nothing about the org.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any, cast

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from sfemu.soql import dates, literals
from sfemu.soql.errors import PositionedError, malformed
from sfemu.soql.nodes import (
    Aggregate,
    AggregateFn,
    And,
    Compare,
    CompareOp,
    Condition,
    Constant,
    DateLiteral,
    FieldPath,
    Includes,
    InList,
    InQuery,
    Like,
    LikePattern,
    Not,
    Or,
    OrderItem,
    Pos,
    Query,
    Returning,
    Search,
    SearchGroup,
    SelectItem,
    SubQuery,
    Value,
)

_CACHE_SIZE = 1024
_SEARCH_GROUPS: frozenset[str] = frozenset({"ALL", "NAME", "EMAIL", "PHONE", "SIDEBAR"})


@functools.cache
def _lark() -> Lark:
    grammar = resources.files("sfemu.soql").joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="contextual", start=["query", "search"])


@functools.lru_cache(maxsize=_CACHE_SIZE)
def parse_query(text: str) -> Query:
    """Parse a SOQL statement.

    Raises:
        PositionedError: MALFORMED_QUERY (render it with the text for the wire message).
    """
    if not text.strip():
        raise malformed("SOQL statements cannot be empty or null")
    return cast(Query, _parse(text, "query", "MALFORMED_QUERY"))


@functools.lru_cache(maxsize=_CACHE_SIZE)
def parse_search(text: str) -> Search:
    """Parse a SOSL statement.

    Raises:
        PositionedError: MALFORMED_SEARCH (render it with the text for the wire message).
    """
    if not text.strip():
        raise malformed("SOSL statements cannot be empty or null", code="MALFORMED_SEARCH")
    return cast(Search, _parse(text, "search", "MALFORMED_SEARCH"))


def _parse(text: str, start: str, code: str) -> Any:
    try:
        tree = _lark().parse(text, start=start)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text, start, code) from None
    try:
        return _ToAst().transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, PositionedError):
            raise PositionedError(
                code if exc.orig_exc.error_code == "MALFORMED_QUERY" else exc.orig_exc.error_code,
                exc.orig_exc.message,
                exc.orig_exc.pos,
            ) from None
        raise


def _end_pos(text: str) -> Pos:
    lines = text.rstrip().split("\n")
    return Pos(row=len(lines), column=len(lines[-1]) + 1)


def _syntax_error(exc: UnexpectedInput, text: str, start: str, code: str) -> PositionedError:
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        if token.type == "$END":
            return malformed("unexpected token: <EOF>", _end_pos(text), code=code)
        pos = Pos(row=token.line or 1, column=token.column or 1)
        if start == "search" and _follows_find(text, token):
            return malformed(
                "No search term found. The search term must be enclosed in braces.", pos, code=code
            )
        first = token.start_pos is not None and not text[: token.start_pos].strip()
        return malformed(f"unexpected token: {token.value}", None if first else pos, code=code)
    if isinstance(exc, UnexpectedCharacters):
        pos = Pos(row=exc.line, column=exc.column)
        index: int | None = exc.pos_in_stream
        char = text[index] if index is not None and index < len(text) else ""
        return malformed(
            f"line {exc.line}:{exc.column - 1} no viable alternative at character '{char}'",
            pos,
            code=code,
        )
    return malformed("unexpected token: <EOF>", _end_pos(text), code=code)


def _follows_find(text: str, token: Token) -> bool:
    before = text[: token.start_pos].strip() if token.start_pos is not None else ""
    return before.upper() == "FIND"


def _pos(token: Token) -> Pos:
    return Pos(row=token.line or 1, column=token.column or 1)


@dataclass(frozen=True, kw_only=True, slots=True)
class _RawString:
    """A quoted string before unescaping (LIKE needs the raw text to see ``\\%``)."""

    raw: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class _Clause:
    kind: str
    value: Any


def _value(item: Value | _RawString) -> Value:
    if isinstance(item, _RawString):
        return Constant(value=literals.unescape(item.raw, item.pos), pos=item.pos)
    return item


def _clauses(children: list[Any]) -> dict[str, Any]:
    return {child.kind: child.value for child in children if isinstance(child, _Clause)}


class _ToAst(Transformer[Token, Any]):
    """Lark tree -> :mod:`sfemu.soql.nodes` values. Methods are named after grammar rules."""

    # ---- SOQL ----
    def query(self, children: list[Any]) -> Query:
        select = cast(tuple[SelectItem, ...], children[1])
        name, pos, alias = children[3]
        clauses = _clauses(children[4:])
        return Query(
            select=select,
            object_name=name,
            object_pos=pos,
            alias=alias,
            where=clauses.get("where"),
            order_by=clauses.get("order_by", ()),
            limit=clauses.get("limit"),
            offset=clauses.get("offset"),
        )

    def select_list(self, children: list[Any]) -> tuple[SelectItem, ...]:
        return tuple(children)

    def subquery(self, children: list[Any]) -> SubQuery:
        return SubQuery(query=children[0])

    def aggregate(self, children: list[Any]) -> Aggregate:
        fn_token = cast(Token, children[0])
        arg = next((c for c in children[1:] if isinstance(c, FieldPath)), None)
        alias = next((str(c) for c in children[1:] if isinstance(c, Token)), None)
        return Aggregate(
            fn=cast(AggregateFn, fn_token.type), arg=arg, alias=alias, pos=_pos(fn_token)
        )

    def object_ref(self, children: list[Token]) -> tuple[str, Pos, str | None]:
        alias = str(children[1]) if len(children) > 1 else None
        return str(children[0]), _pos(children[0]), alias

    def field_path(self, children: list[Token]) -> FieldPath:
        return FieldPath(parts=tuple(str(c) for c in children), pos=_pos(children[0]))

    def where(self, children: list[Any]) -> _Clause:
        return _Clause("where", children[1])

    def or_cond(self, children: list[Any]) -> Or:
        return Or(items=tuple(c for c in children if not isinstance(c, Token)))

    def and_cond(self, children: list[Any]) -> And:
        return And(items=tuple(c for c in children if not isinstance(c, Token)))

    def not_cond(self, children: list[Any]) -> Not:
        return Not(item=cast(Condition, children[1]))

    def compare(self, children: list[Any]) -> Compare:
        op = str(children[1])
        op = "!=" if op == "<>" else op
        return Compare(field=children[0], op=cast(CompareOp, op), value=_value(children[2]))

    def like(self, children: list[Any]) -> Like:
        rhs = children[2]
        if not isinstance(rhs, _RawString):
            pos = rhs.pos
            raise malformed("LIKE requires a quoted string pattern", pos)
        pattern = LikePattern(regex=literals.like_regex(rhs.raw, rhs.pos), pos=rhs.pos)
        return Like(field=children[0], pattern=pattern)

    def in_list(self, children: list[Any]) -> InList:
        return InList(field=children[0], values=children[-1], negate=False)

    def not_in_list(self, children: list[Any]) -> InList:
        return InList(field=children[0], values=children[-1], negate=True)

    def in_query(self, children: list[Any]) -> InQuery:
        return InQuery(field=children[0], query=children[-1], negate=False)

    def not_in_query(self, children: list[Any]) -> InQuery:
        return InQuery(field=children[0], query=children[-1], negate=True)

    def includes(self, children: list[Any]) -> Includes:
        return Includes(field=children[0], values=children[-1], negate=False)

    def excludes(self, children: list[Any]) -> Includes:
        return Includes(field=children[0], values=children[-1], negate=True)

    def value_list(self, children: list[Any]) -> tuple[Value, ...]:
        return tuple(_value(c) for c in children)

    def string(self, children: list[Token]) -> _RawString:
        return _RawString(raw=str(children[0])[1:-1], pos=_pos(children[0]))

    def number(self, children: list[Token]) -> Constant:
        text = str(children[0])
        value: int | Decimal = Decimal(text) if "." in text else int(text)
        return Constant(value=value, pos=_pos(children[0]))

    def datetime(self, children: list[Token]) -> Constant:
        pos = _pos(children[0])
        return Constant(value=literals.parse_datetime(str(children[0]), pos), pos=pos)

    def date(self, children: list[Token]) -> Constant:
        pos = _pos(children[0])
        value: dt.date = literals.parse_date(str(children[0]), pos)
        return Constant(value=value, pos=pos)

    def true(self, children: list[Token]) -> Constant:
        return Constant(value=True, pos=_pos(children[0]))

    def false(self, children: list[Token]) -> Constant:
        return Constant(value=False, pos=_pos(children[0]))

    def null(self, children: list[Token]) -> Constant:
        return Constant(value=None, pos=_pos(children[0]))

    def date_literal(self, children: list[Token]) -> DateLiteral:
        name = str(children[0]).upper()
        n = int(children[1]) if len(children) > 1 else None
        pos = _pos(children[0])
        dates.check(name, n, pos)
        return DateLiteral(name=name, n=n, pos=pos)

    def order_by(self, children: list[Any]) -> _Clause:
        return _Clause("order_by", tuple(c for c in children if isinstance(c, OrderItem)))

    def order_item(self, children: list[Any]) -> OrderItem:
        kinds = {c.type for c in children[1:] if isinstance(c, Token)}
        nulls_first: bool | None = None
        if "FIRST" in kinds:
            nulls_first = True
        elif "LAST" in kinds:
            nulls_first = False
        return OrderItem(field=children[0], descending="DESC" in kinds, nulls_first=nulls_first)

    def limit(self, children: list[Token]) -> _Clause:
        return _Clause("limit", int(children[1]))

    def offset(self, children: list[Token]) -> _Clause:
        return _Clause("offset", int(children[1]))

    # ---- SOSL ----
    def search(self, children: list[Any]) -> Search:
        term, term_pos = children[1]
        clauses = _clauses(children[2:])
        return Search(
            term=term,
            term_pos=term_pos,
            group=clauses.get("in", "ALL"),
            returning=clauses.get("returning", ()),
            limit=clauses.get("limit"),
        )

    def braced(self, children: list[Token]) -> tuple[str, Pos]:
        return str(children[0])[1:-1], _pos(children[0])

    def quoted(self, children: list[Token]) -> tuple[str, Pos]:
        return str(children[0])[1:-1], _pos(children[0])

    def search_in(self, children: list[Token]) -> _Clause:
        group = str(children[1]).upper()
        if group not in _SEARCH_GROUPS:
            raise malformed(f"unexpected token: {children[1]}", _pos(children[1]))
        return _Clause("in", cast(SearchGroup, group))

    def returning(self, children: list[Any]) -> _Clause:
        return _Clause("returning", tuple(c for c in children if isinstance(c, Returning)))

    def returning_item(self, children: list[Any]) -> Returning:
        name = cast(Token, children[0])
        pos = _pos(name)
        explicit = len(children) > 1
        select: tuple[SelectItem, ...] = (
            children[1] if explicit else (FieldPath(parts=("Id",), pos=pos),)
        )
        clauses = _clauses(children[2:])
        query = Query(
            select=select,
            object_name=str(name),
            object_pos=pos,
            where=clauses.get("where"),
            order_by=clauses.get("order_by", ()),
            limit=clauses.get("limit"),
            offset=clauses.get("offset"),
        )
        return Returning(query=query, explicit_fields=explicit)
