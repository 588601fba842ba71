"""One emulated Salesforce org: schema, records, users, connected apps and the DML rules.

``Org`` implements :class:`sfemu.model.DataSource` for the query engines and the write API
the REST layer calls (``create``, ``update``, ``delete``, ``retrieve``, ``upsert`` ...).
Writes validate in Salesforce's order (see :mod:`sfemu.dml`), compute derived fields
(:mod:`sfemu.rules`), keep equality indexes (:mod:`sfemu.indexes`) and, once the outermost
transaction commits, tell listeners (:class:`sfemu.events.WriteEvent`).

Stored records are the org's own dicts; ``rows``, ``get`` and ``lookup`` return them without
copying (for speed): treat them as read-only. ``retrieve`` and ``find_by_field`` return copies.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sfemu import dml, ids, indexes, passwords, persistence, rules, values
from sfemu.apps import DEFAULT_SCOPES, ConnectedApp, new_client_id, new_client_secret
from sfemu.events import Listener, WriteEvent, WriteKind
from sfemu.model import ApiError, FieldDef, ObjectDef, Record
from sfemu.objects import standard_objects
from sfemu.objects.service import EMAIL_DRAFT

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]

#: Permissions the org's admin holds. Grant ``SetAuditFields`` explicitly when needed.
ADMIN_PERMISSIONS = frozenset(
    {
        "ApiEnabled",
        "ViewAllData",
        "ModifyAllData",
        "ViewSetup",
        "ManageUsers",
        "CustomizeApplication",
    }
)
#: Default permissions of users made with :meth:`Org.create_user`.
USER_PERMISSIONS = frozenset({"ApiEnabled"})

DEFAULT_ADMIN_USERNAME = "admin@sfemu.example.com"
DEFAULT_ADMIN_PASSWORD = "sfemu-admin-1"  # noqa: S105  # documented demo credential
DEFAULT_CALLBACK_URLS = (
    "http://localhost:8000/oauth/callback",
    "http://127.0.0.1:8000/oauth/callback",
)

_NOT_FOUND = "The requested resource does not exist"
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


def not_found() -> ApiError:
    """404 NOT_FOUND, as for a well-formed id that matches nothing."""
    return ApiError(404, "NOT_FOUND", _NOT_FOUND)


def entity_is_deleted() -> ApiError:
    """404 ENTITY_IS_DELETED, for a record in the recycle bin."""
    return ApiError(404, "ENTITY_IS_DELETED", "entity is deleted", [])


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Org:
    """An in-memory Salesforce org.

    Args:
        name: the organization name.
        org_id: the 00D id (15 or 18 chars); random when omitted.
        is_sandbox: shown by ``Organization.IsSandbox``.
        clock: returns "now" (aware); tests pass a movable clock.
        admin_username: the admin's username (unique per emulator); derived from the org id
            when omitted.
    """

    def __init__(
        self,
        name: str = "sfemu Org",
        *,
        org_id: str | None = None,
        is_sandbox: bool = False,
        clock: Clock | None = None,
        admin_username: str | None = None,
    ) -> None:
        self._init_state(name, org_id=org_id, is_sandbox=is_sandbox, clock=clock)
        self._bootstrap(admin_username)

    # ------------------------------------------------------------------ state

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

    def _bootstrap(self, admin_username: str | None) -> None:
        now = self.now()
        admin_id = self.ids.mint("005")
        self.admin_user_id = admin_id
        admin_profile = self._insert_system("Profile", {"Name": "System Administrator"}, now)
        self._insert_system("Profile", {"Name": "Standard User"}, now)
        self._insert_system(
            "Organization",
            {
                "Id": self.org_id,
                "Name": self.name,
                "IsSandbox": self.is_sandbox,
                "OrganizationType": "Developer Edition",
                "InstanceName": "EMU" + self.ids.pod.upper(),
                "TimeZoneSidKey": "America/Los_Angeles",
                "LanguageLocaleKey": "en_US",
                "DefaultLocaleSidKey": "en_US",
            },
            now,
        )
        username = admin_username or f"admin.{self.org_id[:15].lower()}@sfemu.example.com"
        self._insert_system(
            "User",
            {
                "Id": admin_id,
                **_user_values(
                    username,
                    email=username,
                    first_name="Admin",
                    last_name="User",
                    time_zone="America/Los_Angeles",
                    is_active=True,
                    profile_id=admin_profile,
                ),
            },
            now,
        )
        self._permissions[admin_id] = set(ADMIN_PERMISSIONS)
        self._insert_status_rows(now)

    def _insert_status_rows(self, now: dt.datetime) -> None:
        targets = (
            ("CaseStatus", "Case", "Status"),
            ("TaskStatus", "Task", "Status"),
            ("LeadStatus", "Lead", "Status"),
            ("OpportunityStage", "Opportunity", "StageName"),
        )
        for status_object, source, field_name in targets:
            field = self.objects[source].fields[field_name]
            for order, option in enumerate(field.picklist, start=1):
                row: dict[str, Any] = {
                    "ApiName": option.value,
                    "MasterLabel": option.label,
                    "SortOrder": order,
                }
                if status_object == "OpportunityStage":
                    row |= {
                        "IsActive": option.active,
                        "IsClosed": option.closed,
                        "IsWon": option.won,
                        "DefaultProbability": float(option.probability or 0),
                        "ForecastCategoryName": "Closed"
                        if option.won
                        else ("Omitted" if option.closed else "Pipeline"),
                    }
                elif status_object == "LeadStatus":
                    row |= {"IsConverted": option.closed, "IsDefault": option.default}
                else:
                    row |= {"IsClosed": option.closed, "IsDefault": option.default}
                self._insert_system(status_object, row, now)

    def _insert_system(self, object_name: str, data: Mapping[str, Any], now: dt.datetime) -> str:
        """Store a record without validation, events or undo (bootstrap and seeds)."""
        obj = self.objects[object_name]
        record = dml.blank_record(obj)
        record.update(data)
        record_id = record.get("Id") or self.ids.mint(obj.key_prefix)
        author = self.admin_user_id or record_id
        self._stamp_new(obj, record, record_id, author, now)
        rules.apply(obj, None, record, set(data), get=self._get_any, now=now)
        self._records[obj.name][record_id] = record
        self._indexes[obj.name].add(record)
        return str(record_id)

    @classmethod
    def default(
        cls,
        *,
        name: str = "sfemu Demo Org",
        admin_username: str = DEFAULT_ADMIN_USERNAME,
        admin_password: str = DEFAULT_ADMIN_PASSWORD,
        client_id: str | None = None,
        client_secret: str | None = None,
        callback_urls: tuple[str, ...] = DEFAULT_CALLBACK_URLS,
        clock: Clock | None = None,
        org_id: str | None = None,
    ) -> Org:
        """The org sfbridge expects: its custom fields, one connected app, a known admin.

        Custom fields: ``Case_From__c`` (Text 255) on Case, and ``conversationId__c`` (Text 255,
        unique, external id) on Case and Opportunity. The admin (``admin_username`` /
        ``admin_password``) is the app's client-credentials user.
        """
        org = cls(name, org_id=org_id, clock=clock, admin_username=admin_username)
        org.add_custom_field(
            "Case",
            FieldDef(
                name="Case_From__c",
                label="Case From",
                type="string",
                length=255,
                custom=True,
                search_group="text",
            ),
        )
        for object_name in ("Case", "Opportunity"):
            org.add_custom_field(
                object_name,
                FieldDef(
                    name="conversationId__c",
                    label="conversationId",
                    type="string",
                    length=255,
                    unique=True,
                    external_id=True,
                    id_lookup=True,
                    custom=True,
                ),
            )
        org.set_password(org.admin_user_id, admin_password)
        org.create_connected_app(
            "sfbridge",
            client_id=client_id,
            client_secret=client_secret,
            callback_urls=callback_urls,
            client_credentials_user_id=org.admin_user_id,
        )
        return org

    def to_dict(self) -> dict[str, Any]:
        """The whole org as JSON-serialisable data (see :mod:`sfemu.persistence`)."""
        with self._lock:
            return persistence.org_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, clock: Clock | None = None) -> Org:
        """Rebuild an org from :meth:`to_dict` output."""
        return persistence.org_from_dict(cls, data, clock)

    # ------------------------------------------------------------ DataSource

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
        records = self._records[obj.name].values()
        if include_deleted:
            return list(records)
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

    # ------------------------------------------------------------ transactions

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

    # ------------------------------------------------------------ DML

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

    def _existing(self, obj: ObjectDef, rid: str) -> Record:
        record = self._records[obj.name].get(rid)
        if record is None:
            raise not_found()
        if record["IsDeleted"]:
            raise entity_is_deleted()
        return record

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
            if value is None or not (field.unique or (field.external_id and field.unique)):
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

    # ------------------------------------------------------------ schema

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

    # ------------------------------------------------------------ users

    def create_user(
        self,
        username: str,
        *,
        email: str,
        first_name: str | None = None,
        last_name: str,
        permissions: Iterable[str] = USER_PERMISSIONS,
        time_zone: str = "America/Los_Angeles",
        is_active: bool = True,
        profile: str = "Standard User",
    ) -> str:
        """Create a User record (validated like an API insert); returns its id.

        Raises:
            ApiError: DUPLICATE_VALUE for a taken username, other DML errors, or 400
                INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST for an unknown time zone.
        """
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ApiError(
                400,
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"Time Zone: bad value for restricted picklist field: {time_zone}",
                ["TimeZoneSidKey"],
            ) from None
        profiles = self.find_by_field("Profile", "Name", profile)
        if not profiles:
            raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
        with self.transaction():
            obj = self.objects["User"]
            data = dml.convert(
                dml.resolve_names(
                    obj,
                    _user_values(
                        username,
                        email=email,
                        first_name=first_name,
                        last_name=last_name,
                        time_zone=time_zone,
                        is_active=is_active,
                        profile_id=profiles[0]["Id"],
                    ),
                )
            )
            dml.check_required(obj, data, "insert")
            dml.check_values(obj, data)
            self._check_unique(obj, data, None)
            user_id = self._insert(obj, data, self.admin_user_id)
            self._permissions[user_id] = set(permissions)
            return user_id

    def user_by_username(self, username: str) -> Record | None:
        """The User record with this username (case-insensitive), or None."""
        found = self.lookup("User", "Username", username)
        return found[0] if found else None

    def grant(self, user_id: str, permission: str) -> None:
        """Give a user a permission (``ApiEnabled``, ``ViewAllData``, ``SetAuditFields`` ...)."""
        self._permissions.setdefault(self._require_user(user_id), set()).add(permission)

    def revoke(self, user_id: str, permission: str) -> None:
        """Take a permission away."""
        self._permissions.get(self._require_user(user_id), set()).discard(permission)

    def has_permission(self, user_id: str, permission: str) -> bool:
        """True when the user holds ``permission``."""
        normalized = ids.try_normalize(user_id)
        return normalized is not None and permission in self._permissions.get(normalized, ())

    def permissions(self, user_id: str) -> frozenset[str]:
        """The user's permissions."""
        return frozenset(self._permissions.get(ids.try_normalize(user_id) or "", ()))

    def hide_field(self, object_name: str, field: str, user_id: str) -> None:
        """Field-level security: make the field invisible (and read-only) for the user."""
        obj = self._require_object(object_name)
        fdef = obj.field(field)
        if fdef is None:
            raise dml.invalid_field(obj, field)
        self._hidden.setdefault(self._require_user(user_id), set()).add((obj.name, fdef.name))

    def show_field(self, object_name: str, field: str, user_id: str) -> None:
        """Undo :meth:`hide_field`."""
        obj = self._require_object(object_name)
        fdef = obj.field(field)
        if fdef is None:
            raise dml.invalid_field(obj, field)
        self._hidden.get(self._require_user(user_id), set()).discard((obj.name, fdef.name))

    def set_password(self, user_id: str, password: str) -> None:
        """Set a user's password (only a salted hash is kept)."""
        self._password_hashes[self._require_user(user_id)] = passwords.hash_password(password)

    def check_password(self, username: str, password: str) -> str | None:
        """The user's id when the username/password pair is right and the user active."""
        user = self.user_by_username(username)
        if user is None or not user["IsActive"]:
            return None
        stored = self._password_hashes.get(user["Id"])
        if stored is None or not passwords.verify_password(password, stored):
            return None
        return str(user["Id"])

    # ------------------------------------------------------------ apps

    def create_connected_app(
        self,
        name: str,
        *,
        callback_urls: Iterable[str] = (),
        scopes: Iterable[str] = DEFAULT_SCOPES,
        client_id: str | None = None,
        client_secret: str | None = None,
        refresh_token_rotation: bool = False,
        jwt_public_key_pem: str | None = None,
        client_credentials_user_id: str | None = None,
    ) -> ConnectedApp:
        """Register an OAuth client; id and secret are generated when not given."""
        run_as = (
            self._require_user(client_credentials_user_id) if client_credentials_user_id else None
        )
        app = ConnectedApp(
            client_id=client_id or new_client_id(),
            client_secret=client_secret or new_client_secret(),
            name=name,
            callback_urls=tuple(callback_urls),
            scopes=tuple(scopes),
            refresh_token_rotation=refresh_token_rotation,
            jwt_public_key_pem=jwt_public_key_pem,
            client_credentials_user_id=run_as,
        )
        self.apps[app.client_id] = app
        return app


def _user_values(
    username: str,
    *,
    email: str,
    first_name: str | None,
    last_name: str,
    time_zone: str,
    is_active: bool,
    profile_id: str,
) -> dict[str, Any]:
    alias = ((first_name or "")[:1] + last_name)[:8].lower() or "user"
    return {
        "Username": username,
        "Email": email,
        "FirstName": first_name,
        "LastName": last_name,
        "Alias": alias,
        "CommunityNickname": username.split("@")[0][:40],
        "IsActive": is_active,
        "TimeZoneSidKey": time_zone,
        "LocaleSidKey": "en_US",
        "EmailEncodingKey": "UTF-8",
        "LanguageLocaleKey": "en_US",
        "ProfileId": profile_id,
    }
