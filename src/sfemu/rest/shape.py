"""Turning stored records into wire records (``attributes`` first, values in wire format)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sfemu.model import Record, wire_value


def record_url(prefix: str, object_name: str, record_id: str) -> str:
    """``/services/data/v59.0/sobjects/Case/500...``."""
    return f"{prefix}/sobjects/{object_name}/{record_id}"


def wire_record(
    prefix: str,
    object_name: str,
    record: Mapping[str, Any],
    fields: Iterable[str] | None = None,
) -> Record:
    """A stored record as the REST API returns it.

    Args:
        prefix: ``/services/data/vNN.0``.
        object_name: the object's canonical API name.
        record: the stored record (canonical field names -> Python values).
        fields: when given, only these keys (already canonical), in this order.
    """
    record_id = record.get("Id")
    out: Record = {
        "attributes": {
            "type": object_name,
            "url": record_url(prefix, object_name, str(record_id)),
        }
    }
    keys = record.keys() if fields is None else fields
    for key in keys:
        if key == "attributes":
            continue
        out[key] = wire_value(record.get(key))
    return out
