"""An org as JSON-serialisable data, and back (``Org.to_dict`` / ``Org.from_dict``).

Holds everything but the clock and the listeners: schema changes (custom fields), users'
permissions, field-level security, password hashes, connected apps, records (deleted ones
too), deletion times and counters (ids, auto-numbers).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from sfemu import ids, indexes, values
from sfemu.apps import ConnectedApp
from sfemu.model import FieldDef, PicklistValue

if TYPE_CHECKING:
    from sfemu.org import Clock, Org

FORMAT = 1


def field_to_dict(field: FieldDef) -> dict[str, Any]:
    """A field definition as plain data."""
    return dataclasses.asdict(field)


def field_from_dict(data: dict[str, Any]) -> FieldDef:
    """Inverse of :func:`field_to_dict`."""
    fields = dict(data)
    fields["picklist"] = tuple(PicklistValue(**p) for p in fields.get("picklist", ()))
    fields["reference_to"] = tuple(fields.get("reference_to", ()))
    return FieldDef(**fields)


def org_to_dict(org: Org) -> dict[str, Any]:
    """Everything needed to rebuild ``org`` (JSON-serialisable)."""
    records: dict[str, list[dict[str, Any]]] = {}
    for name, obj in org.objects.items():
        rows = list(org.rows(name, include_deleted=True))
        if rows:
            records[name] = [
                {k: values.from_stored(obj.fields[k], v) for k, v in row.items() if v is not None}
                for row in rows
            ]
    return {
        "format": FORMAT,
        "name": org.name,
        "org_id": org.org_id,
        "is_sandbox": org.is_sandbox,
        "pod": org.ids.pod,
        "admin_user_id": org.admin_user_id,
        "session_timeout_seconds": org.session_timeout_seconds,
        "search_lag_seconds": org.search_lag_seconds,
        "id_counters": dict(org.ids.counters),
        "auto_numbers": dict(org.auto_numbers),
        "custom_fields": {
            name: [field_to_dict(f) for f in obj.fields.values() if f.custom]
            for name, obj in org.objects.items()
            if any(f.custom for f in obj.fields.values())
        },
        "permissions": {u: sorted(p) for u, p in org._permissions.items()},
        "hidden_fields": {u: sorted([o, f] for o, f in h) for u, h in org._hidden.items() if h},
        "password_hashes": dict(org._password_hashes),
        "apps": [app.to_dict() for app in org.apps.values()],
        "records": records,
        "deleted_at": {i: when.isoformat() for i, when in org._deleted_at.items()},
    }


def org_from_dict(cls: type[Org], data: dict[str, Any], clock: Clock | None = None) -> Org:
    """Rebuild an org saved by :func:`org_to_dict`.

    Raises:
        ValueError: for an unknown format version.
    """
    if data.get("format") != FORMAT:
        raise ValueError(f"unsupported org data format: {data.get('format')!r}")
    org = cls.__new__(cls)
    org._init_state(data["name"], org_id=data["org_id"], is_sandbox=data["is_sandbox"], clock=clock)
    org.ids = ids.IdFactory(pod=data["pod"], counters=data["id_counters"])
    org.admin_user_id = data["admin_user_id"]
    org.session_timeout_seconds = data["session_timeout_seconds"]
    org.search_lag_seconds = data["search_lag_seconds"]
    org.auto_numbers = dict(data["auto_numbers"])
    for object_name, fields in data["custom_fields"].items():
        for field in fields:
            org.add_custom_field(object_name, field_from_dict(field))
    for object_name, rows in data["records"].items():
        obj = org.objects[object_name]
        table = org._records[object_name]
        for row in rows:
            record = {
                name: values.to_python(f, row.get(name)) if name in row else None
                for name, f in obj.fields.items()
            }
            for name, f in obj.fields.items():
                if f.type == "boolean" and record[name] is None:
                    record[name] = False
            table[str(record["Id"])] = record
        org._indexes[object_name] = indexes.ObjectIndex(obj)
        for record in table.values():
            org._indexes[object_name].add(record)
    org._permissions = {u: set(p) for u, p in data["permissions"].items()}
    org._hidden = {u: {(o, f) for o, f in h} for u, h in data["hidden_fields"].items()}
    org._password_hashes = dict(data["password_hashes"])
    org.apps = {a["client_id"]: ConnectedApp.from_dict(a) for a in data["apps"]}
    for record_id, when in data["deleted_at"].items():
        parsed = values.parse_datetime(when)
        if parsed is not None:
            org._deleted_at[record_id] = parsed
    return org
