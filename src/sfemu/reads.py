"""The read API of an org: one record, records by field value, and the change windows.

``retrieve`` and ``find_by_field`` return copies, so callers cannot change stored records.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sfemu import dml, ids, indexes
from sfemu.access import OrgAccess
from sfemu.model import ApiError, ObjectDef, Record
from sfemu.state import not_found


def entity_is_deleted() -> ApiError:
    """404 ENTITY_IS_DELETED, for a record in the recycle bin."""
    return ApiError(404, "ENTITY_IS_DELETED", "entity is deleted", [])


class OrgReads(OrgAccess):
    """retrieve / find_by_field, and the updated and deleted windows (``getUpdated``...)."""

    def _existing(self, obj: ObjectDef, rid: str) -> Record:
        record = self._records[obj.name].get(rid)
        if record is None:
            raise not_found()
        if record["IsDeleted"]:
            raise entity_is_deleted()
        return record

    def retrieve(
        self,
        object_name: str,
        record_id: str,
        *,
        user_id: str,
        fields: list[str] | None = None,
    ) -> Record:
        """A copy of one record with the fields the user may read (stored Python values).

        Args:
            object_name: the object (case-insensitive).
            record_id: 15 or 18 characters.
            user_id: the running user (field-level security applies).
            fields: only these fields (plus ``Id``), in this order.

        Raises:
            ApiError: 404 NOT_FOUND / ENTITY_IS_DELETED, 400 INVALID_FIELD.
        """
        obj = self._require_object(object_name)
        user = self._require_user(user_id)
        hidden = self._hidden_fields(user, obj)
        if fields is None:
            names = [n for n in obj.fields if n not in hidden]
        else:
            names = []
            for requested in fields:
                fdef = obj.field(requested.strip())
                if fdef is None or fdef.name in hidden:
                    raise dml.invalid_field(obj, requested.strip())
                if fdef.name not in names:
                    names.append(fdef.name)
            if "Id" not in names:
                names.append("Id")
        rid = ids.try_normalize(record_id)
        if rid is None or not rid.startswith(obj.key_prefix):
            raise not_found()
        record = self._existing(obj, rid)
        return {n: record[n] for n in names}

    def find_by_field(self, object_name: str, field: str, value: Any) -> list[Record]:
        """Copies of the live records whose ``field`` equals ``value`` (index or scan).

        Raises:
            ApiError: 404 NOT_FOUND (object), 400 INVALID_FIELD (field).
        """
        obj = self._require_object(object_name)
        fdef = obj.field(field)
        if fdef is None:
            raise dml.invalid_field(obj, field)
        found = self.lookup(obj.name, fdef.name, value)
        if found is None:
            wanted = indexes.key(fdef, value)
            found = [r for r in self.rows(obj.name) if indexes.key(fdef, r[fdef.name]) == wanted]
        return [dict(r) for r in found]

    def updated_ids(self, object_name: str, start: dt.datetime, end: dt.datetime) -> list[str]:
        """Ids of live records whose SystemModstamp is in ``[start, end)``."""
        obj = self._require_object(object_name)
        return [
            r["Id"]
            for r in self._records[obj.name].values()
            if not r["IsDeleted"] and start <= r["SystemModstamp"] < end
        ]

    def deleted_records(
        self, object_name: str, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[str, dt.datetime]]:
        """``(id, deletedDate)`` of records deleted in ``[start, end)``."""
        obj = self._require_object(object_name)
        out = []
        for record_id, when in self._deleted_at.items():
            if record_id.startswith(obj.key_prefix) and start <= when < end:
                record = self._records[obj.name].get(record_id)
                if record is not None and record["IsDeleted"]:
                    out.append((record_id, when))
        return out
