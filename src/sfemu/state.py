"""The org's storage core: schema, records, indexes, transactions and listeners.

:class:`OrgState` implements :class:`sfemu.model.DataSource` (what the query engines read).
Stored records are the org's own dicts; ``rows``, ``get`` and ``lookup`` return them
without copying (for speed): treat them as read-only.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sfemu import dml, ids, indexes, values
from sfemu.apps import ConnectedApp
from sfemu.events import Listener, WriteEvent, WriteKind
from sfemu.model import ApiError, FieldDef, ObjectDef, Record
from sfemu.objects import standard_objects

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


def not_found() -> ApiError:
    """404 NOT_FOUND, as for a well-formed id that matches nothing."""
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class OrgState:
    """Records by object, indexes, the clock, transactions and after-commit listeners."""

    def _init_state(
        self, name: str, *, org_id: str | None, is_sandbox: bool, clock: Clock | None
    ) -> None:
        self.name = name
        self.is_sandbox = is_sandbox
        self.clock: Clock = clock or _utcnow
        self.ids = ids.IdFactory()
        if org_id is None:
            org_id = ids.to18("00D" + self.ids.pod + "0" + ids.base62(secrets.randbelow(62**9), 9))
        self.org_id = ids.normalize(org_id)
        self.objects: dict[str, ObjectDef] = standard_objects()
        self._records: dict[str, dict[str, Record]] = {n: {} for n in self.objects}
        self._indexes: dict[str, indexes.ObjectIndex] = {
            n: indexes.ObjectIndex(o) for n, o in self.objects.items()
        }
        self._reindex_names()
        self._deleted_at: dict[str, dt.datetime] = {}
        self._permissions: dict[str, set[str]] = {}
        self._hidden: dict[str, set[tuple[str, str]]] = {}
        self._password_hashes: dict[str, str] = {}
        self.apps: dict[str, ConnectedApp] = {}
        self.session_timeout_seconds = 7200
        #: Seconds a written record stays invisible to SOSL (search-index lag).
        self.search_lag_seconds = 0.0
        self.auto_numbers: dict[str, int] = {"Case.CaseNumber": 1000}
        self.admin_user_id = ""
        self._listeners: list[Listener] = []
        self._lock = threading.RLock()
        self._depth = 0
        self._undo: list[tuple[str, str, Record | None, dt.datetime | None]] = []
        self._pending: list[WriteEvent] = []

    def _reindex_names(self) -> None:
        self._object_names = {n.lower(): n for n in self.objects}
        self._prefixes = {o.key_prefix: n for n, o in self.objects.items()}

    def object(self, name: str) -> ObjectDef | None:
        """The object's definition (case-insensitive), or None."""
        canonical = self._object_names.get(name.lower())
        return self.objects[canonical] if canonical else None

    def object_for_id(self, record_id: str) -> ObjectDef | None:
        """The object an id belongs to, from its key prefix."""
        name = self._prefixes.get(record_id[:3]) if isinstance(record_id, str) else None
        return self.objects[name] if name else None

    def rows(self, object_name: str, *, include_deleted: bool = False) -> Iterable[Record]:
        """Every record of an object in insertion order (deleted ones only when asked)."""
        obj = self.object(object_name)
        if obj is None:
            return []
        # list() copies in one step, so a write from another thread cannot break iteration.
        records = list(self._records[obj.name].values())
        if include_deleted:
            return records
        return [r for r in records if not r["IsDeleted"]]

    def get(self, record_id: str, *, include_deleted: bool = False) -> Record | None:
        """One record by id (15 or 18 chars), whatever its object."""
        normalized = ids.try_normalize(record_id)
        if normalized is None:
            return None
        record = self._get_any(normalized)
        if record is None or (record["IsDeleted"] and not include_deleted):
            return None
        return record

    def _get_any(self, record_id: str) -> Record | None:
        name = self._prefixes.get(record_id[:3])
        return self._records[name].get(record_id) if name else None

    def lookup(
        self, object_name: str, field: str, value: Any, *, include_deleted: bool = False
    ) -> list[Record] | None:
        """Records whose ``field`` equals ``value``, from an index (None: not indexed).

        Deleted records are left out unless ``include_deleted``.
        """
        obj = self.object(object_name)
        if obj is None:
            return None
        fdef = obj.field(field)
        if fdef is None:
            return None
        table = self._records[obj.name]
        if fdef.name == "Id":
            normalized = ids.try_normalize(value)
            found = table.get(normalized) if normalized else None
            matches = [found] if found is not None else []
        else:
            record_ids = self._indexes[obj.name].find(fdef.name, value)
            if record_ids is None:
                return None
            matches = [table[i] for i in record_ids]
        if include_deleted:
            return matches
        return [r for r in matches if not r["IsDeleted"]]

    def field_visible(self, object_name: str, field: str, user_id: str) -> bool:
        """False when the field does not exist or is hidden from the user (field-level security)."""
        obj = self.object(object_name)
        fdef = obj.field(field) if obj else None
        if obj is None or fdef is None:
            return False
        hidden = self._hidden.get(ids.try_normalize(user_id) or "", set())
        return (obj.name, fdef.name) not in hidden

    def searchable(self, record: Record) -> bool:
        """False while the record is inside the search-index lag window."""
        if self.search_lag_seconds <= 0:
            return True
        stamp = record.get("SystemModstamp")
        if not isinstance(stamp, dt.datetime):
            return True
        return stamp + dt.timedelta(seconds=self.search_lag_seconds) <= self.now()

    def now(self) -> dt.datetime:
        """The org's clock, aware UTC, millisecond precision."""
        return values.truncate_ms(self.clock().astimezone(dt.UTC))

    def user_timezone(self, user_id: str) -> dt.tzinfo:
        """The user's TimeZoneSidKey as a tzinfo (UTC when unknown)."""
        user = self.get(user_id, include_deleted=True)
        key = user.get("TimeZoneSidKey") if user else None
        if isinstance(key, str):
            try:
                return ZoneInfo(key)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        return dt.UTC

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: all undone if an exception leaves the block.

        Nested blocks act as savepoints: an exception undoes the inner block's writes and
        propagates. Listeners run only after the outermost block commits.
        """
        with self._lock:
            mark = len(self._undo)
            pending_mark = len(self._pending)
            self._depth += 1
            try:
                yield
            except BaseException:
                self._rollback_to(mark)
                del self._pending[pending_mark:]
                raise
            finally:
                self._depth -= 1
            if self._depth == 0:
                events = self._pending
                self._pending = []
                self._undo = []
                self._dispatch(events)

    def _rollback_to(self, mark: int) -> None:
        while len(self._undo) > mark:
            object_name, record_id, previous, deleted_at = self._undo.pop()
            table = self._records[object_name]
            index = self._indexes[object_name]
            current = table.get(record_id)
            if current is not None:
                index.remove(current)
            if previous is None:
                table.pop(record_id, None)
            else:
                table[record_id] = previous
                index.add(previous)
            if deleted_at is None:
                self._deleted_at.pop(record_id, None)
            else:
                self._deleted_at[record_id] = deleted_at

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(event)`` after each committed write."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling ``listener``."""
        self._listeners.remove(listener)

    def _dispatch(self, events: list[WriteEvent]) -> None:
        for event in events:
            for listener in list(self._listeners):
                try:
                    listener(event)
                except Exception:
                    log.exception("write listener failed for %s %s", event.kind, event.record_id)

    def _put(self, obj: ObjectDef, record: Record) -> None:
        """Store ``record`` (replacing any earlier version), with undo and indexes."""
        table = self._records[obj.name]
        record_id = record["Id"]
        previous = table.get(record_id)
        self._undo.append((obj.name, record_id, previous, self._deleted_at.get(record_id)))
        index = self._indexes[obj.name]
        if previous is not None:
            index.remove(previous)
        table[record_id] = record
        index.add(record)

    def _emit(self, kind: WriteKind, obj: ObjectDef, old: Record | None, new: Record) -> None:
        changed = frozenset({"IsDeleted"}) if kind == "delete" else dml.changed_fields(old, new)
        self._pending.append(
            WriteEvent(
                kind=kind,
                object_name=obj.name,
                record_id=new["Id"],
                changed_fields=changed,
                old=old,
                new=None if kind == "delete" else new,
            )
        )

    def _require_object(self, name: str) -> ObjectDef:
        obj = self.object(name)
        if obj is None:
            raise not_found()
        return obj

    def _require_user(self, user_id: str) -> str:
        normalized = ids.try_normalize(user_id)
        if normalized is None or normalized not in self._records["User"]:
            raise ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
        return normalized

    def _hidden_fields(self, user_id: str, obj: ObjectDef) -> set[str]:
        return {f for o, f in self._hidden.get(user_id, set()) if o == obj.name}

    def add_custom_field(self, object_name: str, field: FieldDef) -> FieldDef:
        """Add a custom field (name ending in ``__c``) to an object of this org.

        Raises:
            ApiError: 404 for an unknown object; 400 for a bad or duplicate name.
        """
        obj = self._require_object(object_name)
        if not field.name.endswith("__c") or len(field.name) <= 3:
            raise ApiError(
                400, "INVALID_FIELD", f"Custom field names must end in __c: {field.name}"
            )
        if obj.field(field.name) is not None:
            raise ApiError(
                400, "DUPLICATE_DEVELOPER_NAME", f"{obj.name} already has a field {field.name}"
            )
        field = replace(field, custom=True)
        with self._lock:
            obj.fields[field.name] = field
            obj.reindex()
            default = False if field.type == "boolean" else None
            for record in self._records[obj.name].values():
                record[field.name] = default
            self._indexes[obj.name].rebuild(obj, self._records[obj.name].values())
        return field

    def remove_field(self, object_name: str, field: str) -> None:
        """Remove a custom field and its values.

        Raises:
            ApiError: 404 for an unknown object; 400 for an unknown or standard field.
        """
        obj = self._require_object(object_name)
        fdef = obj.field(field)
        if fdef is None:
            raise dml.invalid_field(obj, field)
        if not fdef.custom:
            raise ApiError(400, "INVALID_FIELD", f"Standard field {fdef.name} cannot be removed")
        with self._lock:
            del obj.fields[fdef.name]
            obj.reindex()
            for record in self._records[obj.name].values():
                record.pop(fdef.name, None)
            self._indexes[obj.name].rebuild(obj, self._records[obj.name].values())
            for hidden in self._hidden.values():
                hidden.discard((obj.name, fdef.name))
