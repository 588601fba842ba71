"""Rows -> wire records: ``attributes``, selected fields in order, nested parents and children.

Several paths through the same relationship (``Account.Name, Account.Phone``) share one
nested object; an empty or dangling lookup is ``null``; a child subquery with no rows is
``null``, otherwise ``{"totalSize", "done": true, "records"}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sfemu.model import Record, wire_value
from sfemu.soql.bound import BoundChild, BoundSelect
from sfemu.soql.runtime import Runtime


@dataclass(frozen=True, kw_only=True, slots=True)
class Leaf:
    name: str
    #: ``What.Type``: the record's own object name.
    object_type: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Parent:
    relationship: str
    field: str
    nodes: tuple[Node, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Child:
    bound: BoundChild
    nodes: tuple[Node, ...]


Node = Leaf | Parent | Child

#: Evaluates a child subquery for one parent row.
ChildRows = Callable[[BoundChild, Record], list[Record]]


def attributes(object_name: str, record_id: str, version: str) -> dict[str, str]:
    """The ``attributes`` block of one record."""
    return {
        "type": object_name,
        "url": f"/services/data/v{version}/sobjects/{object_name}/{record_id}",
    }


def tree(select: tuple[BoundSelect, ...]) -> tuple[Node, ...]:
    """Group selected paths by relationship, keeping first-appearance order."""
    return _tree([(s, 0) for s in select])


def _tree(items: list[tuple[BoundSelect, int]]) -> tuple[Node, ...]:
    order: list[str] = []
    singles: dict[str, Node] = {}
    groups: dict[str, tuple[str, str, list[tuple[BoundSelect, int]]]] = {}
    for item, depth in items:
        if isinstance(item, BoundChild):
            key = "child:" + item.relationship
            singles[key] = Child(bound=item, nodes=tree(item.query.select))
        elif len(item.hops) > depth:
            hop = item.hops[depth]
            key = "rel:" + hop.relationship
            groups.setdefault(key, (hop.relationship, hop.field, []))[2].append((item, depth + 1))
        else:
            key = "leaf:" + item.name
            singles[key] = Leaf(name=item.name, object_type=item.object_type)
        if key not in order:
            order.append(key)
    nodes: list[Node] = []
    for key in order:
        group = groups.get(key)
        if group is None:
            nodes.append(singles[key])
        else:
            nodes.append(Parent(relationship=group[0], field=group[1], nodes=_tree(group[2])))
    return tuple(nodes)


def shape(
    row: Record,
    object_name: str,
    nodes: tuple[Node, ...],
    *,
    rt: Runtime,
    version: str,
    child_rows: ChildRows,
) -> dict[str, Any]:
    """One row as a wire record."""
    out: dict[str, Any] = {"attributes": attributes(object_name, row["Id"], version)}
    for node in nodes:
        if isinstance(node, Leaf):
            out[node.name] = object_name if node.object_type else wire_value(row.get(node.name))
        elif isinstance(node, Parent):
            out[node.relationship] = _parent(
                row, node, rt=rt, version=version, child_rows=child_rows
            )
        else:
            name = node.bound.query.obj.name
            records = [
                shape(r, name, node.nodes, rt=rt, version=version, child_rows=child_rows)
                for r in child_rows(node.bound, row)
            ]
            out[node.bound.relationship] = (
                {"totalSize": len(records), "done": True, "records": records} if records else None
            )
    return out


def _parent(
    row: Record, node: Parent, *, rt: Runtime, version: str, child_rows: ChildRows
) -> dict[str, Any] | None:
    target_id = row.get(node.field)
    if not isinstance(target_id, str) or not target_id:
        return None
    parent = rt.fetch(target_id)
    type_name = rt.type_of(target_id)
    if parent is None or type_name is None:
        return None
    return shape(parent, type_name, node.nodes, rt=rt, version=version, child_rows=child_rows)
