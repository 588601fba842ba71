"""Equality indexes over one object's records: field value -> record ids.

Which fields are indexed: references, unique and external-id fields, id-lookup fields and
email fields. Keys are normalised so lookups match SOQL equality: ids in 18-character form,
text lower-cased (unless the field is case-sensitive).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sfemu import ids
from sfemu.model import FieldDef, ObjectDef, Record

_TEXT_TYPES = frozenset({"string", "textarea", "picklist", "combobox", "email", "phone", "url"})


def is_indexed(field: FieldDef) -> bool:
    """True for the fields that get an index."""
    if field.type in ("id", "reference", "email"):
        return True
    return field.unique or field.external_id or field.id_lookup


def key(field: FieldDef, value: Any) -> Any:
    """The index key of ``value`` for ``field`` (None when it can never match)."""
    if value is None:
        return None
    if field.type in ("id", "reference"):
        return ids.try_normalize(value)
    if field.type in _TEXT_TYPES:
        text = value if isinstance(value, str) else str(value)
        return text if field.case_sensitive else text.lower()
    return value


def _stored_key(field: FieldDef, value: Any) -> Any:
    """:func:`key` for stored values: ids are already in 18-character form."""
    if field.type in ("id", "reference"):
        return value
    return key(field, value)


class ObjectIndex:
    """The indexes of one object: ``{field name: {key: {record id: None}}}``.

    Inner dicts are insertion-ordered sets, so lookups return records in insertion order.
    """

    def __init__(self, obj: ObjectDef) -> None:
        self.fields: dict[str, FieldDef] = {}
        self.maps: dict[str, dict[Any, dict[str, None]]] = {}
        self._define(obj)

    def _define(self, obj: ObjectDef) -> None:
        self.fields = {f.name: f for f in obj.fields.values() if is_indexed(f) and f.name != "Id"}
        self.maps = {name: {} for name in self.fields}

    def add(self, record: Record) -> None:
        """Index a record (all its indexed fields)."""
        record_id = record["Id"]
        for name, field in self.fields.items():
            k = _stored_key(field, record.get(name))
            if k is not None:
                self.maps[name].setdefault(k, {})[record_id] = None

    def remove(self, record: Record) -> None:
        """Un-index a record, as it was stored."""
        record_id = record["Id"]
        for name, field in self.fields.items():
            k = _stored_key(field, record.get(name))
            if k is None:
                continue
            bucket = self.maps[name].get(k)
            if bucket is not None:
                bucket.pop(record_id, None)
                if not bucket:
                    del self.maps[name][k]

    def find(self, field_name: str, value: Any) -> list[str] | None:
        """Ids of records whose field equals ``value``; None when the field has no index."""
        field = self.fields.get(field_name)
        if field is None:
            return None
        k = key(field, value)
        if k is None:
            return []
        return list(self.maps[field_name].get(k, ()))

    def rebuild(self, obj: ObjectDef, records: Iterable[Record]) -> None:
        """Recompute everything (after a schema change)."""
        self._define(obj)
        for record in records:
            self.add(record)
