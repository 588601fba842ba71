"""The write API of an org: DML with Salesforce's validation and rules.

Writes validate in Salesforce's order (see :mod:`sfemu.dml`), compute derived fields
(:mod:`sfemu.rules`), keep the indexes and, once the outermost transaction commits, tell
listeners. Reads are in :mod:`sfemu.reads`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sfemu import dml, ids, rules, values
from sfemu.model import ApiError, FieldDef, ObjectDef, Record
from sfemu.objects.service import EMAIL_DRAFT
from sfemu.reads import OrgReads

_EMAIL_UPDATABLE_AFTER_SEND = frozenset({"IsExternallyVisible", "Status"})


class MultipleMatches(ApiError):
    """Upsert found several records for the external id value (HTTP 300)."""

    def __init__(self, object_name: str, record_ids: list[str]) -> None:
        super().__init__(
            300,
            "MULTIPLE_CHOICES",
            f"More than one record found for external id field on {object_name}",
            None,
        )
        self.object_name = object_name
        self.ids = record_ids

    def urls(self, version: str = "59.0") -> list[str]:
        """The 300 response body: one sObject URL per matching record."""
        return [f"/services/data/v{version}/sobjects/{self.object_name}/{i}" for i in self.ids]


class OrgWrites(OrgReads):
    """create / update / delete / upsert (reads and change windows: :class:`OrgReads`)."""

    def _record_id(self, obj: ObjectDef, record_id: str) -> str:
        normalized = ids.try_normalize(record_id)
        if normalized is None or not normalized.startswith(obj.key_prefix):
            raise ApiError(
                400, "MALFORMED_ID", f"Record ID: id value of incorrect type: {record_id}", ["Id"]
            )
        return normalized

    def _unsupported(self, obj: ObjectDef, operation: str) -> ApiError:
        return ApiError(
            400,
            "INVALID_TYPE_FOR_OPERATION",
            f"entity type {obj.name} does not support {operation}",
            [],
        )

    def create(self, object_name: str, data: Mapping[str, Any], *, user_id: str) -> str:
        """Insert a record from wire values; returns its 18-character id.

        Raises:
            ApiError: 404 NOT_FOUND for an unknown object, else the 400 DML errors.
        """
        with self.transaction():
            obj = self._require_object(object_name)
            user = self._require_user(user_id)
            if not obj.createable:
                raise self._unsupported(obj, "insert")
            resolved = dml.resolve_names(obj, data)
            dml.check_writable(
                resolved,
                "insert",
                can_set_audit=self.has_permission(user, "SetAuditFields"),
                hidden=self._hidden_fields(user, obj),
            )
            converted = dml.convert(resolved)
            dml.check_required(obj, converted, "insert")
            dml.check_values(obj, converted)
            self._check_unique(obj, converted, None)
            self._check_references(obj, converted)
            return self._insert(obj, converted, user)

    def load_records(
        self, object_name: str, rows: Iterable[Mapping[str, Any]], *, user_id: str
    ) -> list[str]:
        """Bulk-load records fast: values are converted and derived fields computed, but
        required/unique/reference checks, undo and listeners are skipped.

        For fixtures and benchmarks that need many records (100k in a couple of seconds).
        """
        obj = self._require_object(object_name)
        user = self._require_user(user_id)
        template = dml.blank_record(obj)
        table = self._records[obj.name]
        index = self._indexes[obj.name]
        created = []
        with self._lock:
            now = self.now()
            for row in rows:
                data = dml.convert(dml.resolve_names(obj, row))
                record = dict(template)
                record.update(data)
                record_id = self.ids.mint(obj.key_prefix)
                self._stamp_new(obj, record, record_id, user, now)
                rules.apply(obj, None, record, data.keys(), get=self.get, now=now)
                table[record_id] = record
                index.add(record)
                created.append(record_id)
        return created

    def _insert(self, obj: ObjectDef, data: dict[str, Any], user: str) -> str:
        now = self.now()
        record = dml.blank_record(obj)
        record.update(data)
        record_id = self.ids.mint(obj.key_prefix)
        self._stamp_new(obj, record, record_id, user, now)
        rules.apply(obj, None, record, set(data), get=self.get, now=now)
        comment = record.get("Comments") if obj.name == "Case" else None
        if comment:
            record["Comments"] = None
        self._put(obj, record)
        self._emit("insert", obj, None, record)
        if comment:
            self._write_through_comment(record_id, comment, user)
        return record_id

    def _stamp_new(
        self, obj: ObjectDef, record: Record, record_id: str, user: str, now: dt.datetime
    ) -> None:
        record["Id"] = record_id
        record["IsDeleted"] = False
        record["CreatedDate"] = record.get("CreatedDate") or now
        record["CreatedById"] = record.get("CreatedById") or user
        record["LastModifiedDate"] = record.get("LastModifiedDate") or record["CreatedDate"]
        record["LastModifiedById"] = record.get("LastModifiedById") or record["CreatedById"]
        record["SystemModstamp"] = now
        if "OwnerId" in obj.fields and not record.get("OwnerId"):
            record["OwnerId"] = user
        for field in obj.fields.values():
            if field.auto_number and not record.get(field.name):
                record[field.name] = self._next_number(obj, field)

    def _next_number(self, obj: ObjectDef, field: FieldDef) -> str:
        counter = f"{obj.name}.{field.name}"
        number = self.auto_numbers.get(counter, 0) + 1
        self.auto_numbers[counter] = number
        return f"{number:08d}"

    def _write_through_comment(self, case_id: str, body: str, user: str) -> None:
        obj = self.objects["CaseComment"]
        self._insert(obj, {"ParentId": case_id, "CommentBody": body}, user)

    def update(
        self, object_name: str, record_id: str, data: Mapping[str, Any], *, user_id: str
    ) -> None:
        """Update a record from wire values.

        Raises:
            ApiError: NOT_FOUND / ENTITY_IS_DELETED (404), MALFORMED_ID and the DML errors (400).
        """
        with self.transaction():
            obj = self._require_object(object_name)
            user = self._require_user(user_id)
            resolved = dml.resolve_names(obj, data)
            rid = self._record_id(obj, record_id)
            old = self._existing(obj, rid)
            if not obj.updateable:
                raise self._unsupported(obj, "update")
            resolved = {
                f: v
                for f, v in resolved.items()
                if not (f.name == "Id" and ids.try_normalize(v) == rid)
            }
            dml.check_writable(resolved, "update", hidden=self._hidden_fields(user, obj))
            converted = dml.convert(resolved)
            dml.check_required(obj, converted, "update")
            dml.check_values(obj, converted)
            self._check_sent_email(obj, old, converted)
            self._check_unique(obj, converted, rid)
            self._check_references(obj, converted)
            now = self.now()
            new = dict(old)
            new.update(converted)
            rules.apply(obj, old, new, set(converted), get=self.get, now=now)
            comment = new.get("Comments") if obj.name == "Case" else None
            if comment:
                new["Comments"] = None
            new["LastModifiedDate"] = now
            new["LastModifiedById"] = user
            new["SystemModstamp"] = now
            self._put(obj, new)
            self._emit("update", obj, old, new)
            if comment:
                self._write_through_comment(rid, comment, user)

    def _check_sent_email(self, obj: ObjectDef, old: Record, data: Mapping[str, Any]) -> None:
        if obj.name != "EmailMessage" or old.get("Status") == EMAIL_DRAFT:
            return
        refused = [
            n for n in data if n not in _EMAIL_UPDATABLE_AFTER_SEND and not obj.fields[n].custom
        ]
        if refused:
            raise dml.not_writable(refused)

    def _check_unique(self, obj: ObjectDef, data: Mapping[str, Any], self_id: str | None) -> None:
        index = self._indexes[obj.name]
        table = self._records[obj.name]
        for name, value in data.items():
            field = obj.fields[name]
            if value is None or not field.unique:
                continue
            for other in index.find(name, value) or []:
                if other != self_id and not table[other]["IsDeleted"]:
                    raise ApiError(
                        400,
                        "DUPLICATE_VALUE",
                        f"duplicate value found: {name} duplicates value on record with id: {other}",
                        [],
                    )

    def _check_references(self, obj: ObjectDef, data: Mapping[str, Any]) -> None:
        for name, value in data.items():
            field = obj.fields[name]
            if field.type != "reference" or value is None:
                continue
            target = self.object_for_id(value)
            if target is None or target.name not in field.reference_to:
                raise ApiError(
                    400,
                    "INVALID_CROSS_REFERENCE_KEY",
                    f"{field.label}: id value of incorrect type: {value}",
                    [field.name],
                )
            if self.get(value) is None:
                raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])

    def delete(self, object_name: str, record_id: str, *, user_id: str) -> None:
        """Soft-delete a record (IsDeleted, kept for queryAll and ``deleted_records``).

        Deleting a Case also deletes its CaseComments and EmailMessages.
        """
        with self.transaction():
            obj = self._require_object(object_name)
            user = self._require_user(user_id)
            rid = self._record_id(obj, record_id)
            old = self._existing(obj, rid)
            if not obj.deletable:
                raise self._unsupported(obj, "delete")
            self._soft_delete(obj, old, user)
            if obj.name == "Case":
                for child_name in ("CaseComment", "EmailMessage"):
                    child = self.objects[child_name]
                    for record in self.lookup(child_name, "ParentId", rid) or []:
                        self._soft_delete(child, record, user)

    def _soft_delete(self, obj: ObjectDef, old: Record, user: str) -> None:
        now = self.now()
        new = dict(old)
        new["IsDeleted"] = True
        new["LastModifiedDate"] = now
        new["LastModifiedById"] = user
        new["SystemModstamp"] = now
        self._put(obj, new)
        self._deleted_at[new["Id"]] = now
        self._emit("delete", obj, old, new)

    def upsert(
        self,
        object_name: str,
        ext_field: str,
        value: Any,
        data: Mapping[str, Any],
        *,
        user_id: str,
    ) -> tuple[str, bool]:
        """Insert or update by external id; returns ``(id, created)``.

        Raises:
            MultipleMatches: several records carry the value (HTTP 300).
            ApiError: 404 NOT_FOUND when the field is not an external id, and DML errors.
        """
        with self.transaction():
            obj = self._require_object(object_name)
            fdef = obj.field(ext_field)
            if fdef is None or not (fdef.external_id or fdef.id_lookup):
                raise ApiError(
                    404,
                    "NOT_FOUND",
                    f"Provided external ID field does not exist or is not accessible: {ext_field}",
                )
            body = dict(data)
            for key in list(body):
                if key.lower() == fdef.name.lower():
                    body.pop(key)
            if fdef.name == "Id":
                if value in (None, ""):
                    return self.create(obj.name, body, user_id=user_id), True
                self.update(obj.name, str(value), body, user_id=user_id)
                return self._record_id(obj, str(value)), False
            typed = values.to_python(fdef, value)
            matches = self.lookup(obj.name, fdef.name, typed)
            if matches is None:
                matches = [r for r in self.find_by_field(obj.name, fdef.name, typed)]
            if len(matches) > 1:
                raise MultipleMatches(obj.name, [r["Id"] for r in matches])
            if matches:
                self.update(obj.name, matches[0]["Id"], body, user_id=user_id)
                return matches[0]["Id"], False
            body[fdef.name] = typed if not isinstance(typed, dt.date) else value
            return self.create(obj.name, body, user_id=user_id), True
