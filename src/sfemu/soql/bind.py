"""Syntax tree + org schema -> a bound query: names resolved, visibility and types checked.

Field-level security is applied here: a field hidden from the user is reported exactly like a
field that does not exist (INVALID_FIELD), as Salesforce does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sfemu.model import DataSource, FieldDef, ObjectDef
from sfemu.soql import dates, predicates
from sfemu.soql.bound import (
    BoundAggregate,
    BoundChild,
    BoundField,
    BoundOrder,
    BoundQuery,
    BoundSelect,
    Hop,
    Kind,
)
from sfemu.soql.errors import (
    PositionedError,
    bad_child_relationship,
    bad_relationship,
    malformed,
    no_such_column,
    unknown_object,
)
from sfemu.soql.nodes import Aggregate, FieldPath, InQuery, Pos, Query, SubQuery

#: Salesforce's cap on OFFSET [unverified]; ``run(..., max_offset=None)`` lifts it.
MAX_OFFSET = 2000

_KINDS: dict[str, Kind] = {
    "id": "id",
    "reference": "id",
    "boolean": "bool",
    "int": "number",
    "double": "number",
    "currency": "number",
    "percent": "number",
    "date": "date",
    "datetime": "datetime",
    "multipicklist": "multi",
}


def kind_of(field: FieldDef) -> Kind:
    """How values of ``field`` compare."""
    return _KINDS.get(field.type, "text")


def _rank(field: FieldDef) -> int | None:
    if field.type == "id":
        return 0
    if field.unique or field.external_id or field.id_lookup:
        return 1
    if field.type in ("reference", "email"):
        return 2
    return None


def _polymorphic(field: FieldDef) -> bool:
    return field.polymorphic or len(field.reference_to) > 1


class Binder:
    """Binds syntax trees against one org, for one user, at one instant.

    Args:
        source: the org.
        user_id: whose field-level security and time zone apply.
        max_offset: largest OFFSET accepted (None: no cap).
    """

    def __init__(
        self, source: DataSource, user_id: str, *, max_offset: int | None = MAX_OFFSET
    ) -> None:
        self.source = source
        self.user_id = user_id
        self.max_offset = max_offset
        self.tz: dt.tzinfo = source.user_timezone(user_id)
        self.today = dates.local_today(source.now(), self.tz)

    # ---- names ----
    def object(self, name: str, pos: Pos | None) -> ObjectDef:
        """The object called ``name``.

        Raises:
            PositionedError: INVALID_TYPE when the org has no such (queryable) object.
        """
        obj = self.source.object(name)
        if obj is None:
            raise unknown_object(name, pos)
        if not obj.queryable:
            raise PositionedError(
                "INVALID_TYPE_FOR_OPERATION", f"entity type {obj.name} does not support query", pos
            )
        return obj

    def _visible(self, obj: ObjectDef, field: FieldDef) -> bool:
        return field.name == "Id" or self.source.field_visible(obj.name, field.name, self.user_id)

    def resolve(self, obj: ObjectDef, alias: str | None, path: FieldPath) -> BoundField:
        """Resolve ``Name`` / ``Account.Owner.Name`` (optionally alias-prefixed) on ``obj``.

        Raises:
            PositionedError: INVALID_FIELD for an unknown or hidden field or relationship.
        """
        parts = list(path.parts)
        if len(parts) > 1:
            first = parts[0].lower()
            if (alias and first == alias.lower()) or (
                first == obj.name.lower() and obj.relationship(parts[0]) is None
            ):
                parts = parts[1:]
        hops: list[Hop] = []
        current = [obj]
        last_polymorphic = False
        for part in parts[:-1]:
            ref = next(
                (
                    (o, f)
                    for o in current
                    if (f := o.relationship(part)) is not None and self._visible(o, f)
                ),
                None,
            )
            if ref is None:
                raise bad_relationship(part, path.pos)
            field = ref[1]
            hops.append(Hop(field=field.name, relationship=field.relationship_name or part))
            current = [t for name in field.reference_to if (t := self.source.object(name))]
            last_polymorphic = _polymorphic(field)
        last = parts[-1]
        if last_polymorphic and last.lower() == "type":
            return BoundField(
                hops=tuple(hops), name="Type", kind="text", object_type=True, pos=path.pos
            )
        for target in current:
            field_def = target.field(last)
            if field_def is not None and self._visible(target, field_def):
                return BoundField(
                    hops=tuple(hops),
                    name=field_def.name,
                    kind=kind_of(field_def),
                    rank=None if hops else _rank(field_def),
                    pos=path.pos,
                )
        entity = current[0].name if current else obj.name
        raise no_such_column(last, entity, path.pos)

    # ---- queries ----
    def bind_query(
        self, query: Query, *, obj: ObjectDef | None = None, nested: bool = False
    ) -> BoundQuery:
        """Bind a top-level query, or (with ``obj`` and ``nested``) a child subquery."""
        target = obj or self.object(query.object_name, query.object_pos)

        def resolve(path: FieldPath) -> BoundField:
            return self.resolve(target, query.alias, path)

        select, aggregates, count_only = self._select(query, target, resolve, nested=nested)
        scope = predicates.Scope(
            resolve=resolve, bind_semi=self._bind_semi, today=self.today, tz=self.tz
        )
        where = predicates.build(query.where, scope) if query.where is not None else None
        order = tuple(
            BoundOrder(
                field=resolve(item.field),
                descending=item.descending,
                nulls_first=(not item.descending) if item.nulls_first is None else item.nulls_first,
            )
            for item in query.order_by
        )
        if (
            query.offset is not None
            and self.max_offset is not None
            and query.offset > self.max_offset
        ):
            raise PositionedError(
                "NUMBER_OUTSIDE_VALID_RANGE",
                f"Maximum SOQL offset allowed is {self.max_offset}",
                None,
            )
        return BoundQuery(
            obj=target,
            select=select,
            aggregates=aggregates,
            count_only=count_only,
            where=where,
            probes=predicates.probes(query.where, scope),
            order=order,
            limit=query.limit,
            offset=query.offset,
        )

    def _select(
        self,
        query: Query,
        obj: ObjectDef,
        resolve: Callable[[FieldPath], BoundField],
        *,
        nested: bool,
    ) -> tuple[tuple[BoundSelect, ...], tuple[BoundAggregate, ...], bool]:
        select: list[BoundSelect] = []
        aggregates: list[BoundAggregate] = []
        seen: set[tuple[str, ...]] = set()
        count_only = False
        plain_pos: tuple[str, Pos] | None = None
        for item in query.select:
            if isinstance(item, Aggregate):
                if item.fn == "COUNT" and item.arg is None:
                    if len(query.select) > 1:
                        raise malformed(
                            "COUNT() must be the only element in the SELECT list", item.pos
                        )
                    count_only = True
                    continue
                if item.arg is None:
                    raise malformed(f"unexpected token: {item.fn}()", item.pos)
                label = (
                    item.alias or f"expr{sum(1 for a in aggregates if a.label.startswith('expr'))}"
                )
                aggregates.append(BoundAggregate(fn=item.fn, arg=resolve(item.arg), label=label))
            elif isinstance(item, SubQuery):
                if nested:
                    raise malformed("unexpected token: (", query.object_pos)
                select.append(self._child(obj, item))
                plain_pos = plain_pos or (item.query.object_name, item.query.object_pos)
            else:
                bound = resolve(item)
                if bound.key in seen:
                    raise malformed(f"duplicate field selected: {item.text}", item.pos)
                seen.add(bound.key)
                select.append(bound)
                plain_pos = plain_pos or (item.text, item.pos)
        if aggregates and plain_pos is not None:
            raise malformed(f"Field must be grouped or aggregated: {plain_pos[0]}", plain_pos[1])
        return tuple(select), tuple(aggregates), count_only

    def _child(self, parent: ObjectDef, item: SubQuery) -> BoundChild:
        query = item.query
        relationship = parent.child(query.object_name)
        if relationship is None:
            raise bad_child_relationship(query.object_name, query.object_pos)
        child_obj = self.object(relationship.child_object, query.object_pos)
        bound = self.bind_query(query, obj=child_obj, nested=True)
        return BoundChild(
            relationship=relationship.name, parent_field=relationship.field, query=bound
        )

    def _bind_semi(self, condition: InQuery) -> tuple[BoundQuery, BoundField]:
        query = condition.query
        if len(query.select) != 1 or not isinstance(query.select[0], FieldPath):
            raise malformed("semi join sub-selects can only select one field", query.object_pos)
        bound = self.bind_query(query, nested=True)
        selected = bound.select[0]
        assert isinstance(selected, BoundField)
        if selected.kind != "id":
            raise PositionedError(
                "INVALID_FIELD",
                f"semi join sub-select can only select an id field: {selected.name}",
                query.select[0].pos,
            )
        return bound, selected
