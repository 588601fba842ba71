"""A small in-memory DataSource for the query-engine tests (until ``sfemu.org.Org`` lands).

It implements the ``sfemu.model.DataSource`` protocol over a compact schema (Account,
Contact, Lead, Opportunity, Case, Task, User) plus ``create``/``delete`` helpers shaped like
the Org's, so the tests can switch to the real Org by changing one fixture.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from sfemu.model import ChildRelationship, FieldDef, FieldType, ObjectDef, Record
from sfemu.soql.literals import to18

NOW = dt.datetime(2024, 3, 15, 12, 0, tzinfo=dt.UTC)
USER_ID = to18("005000000000001") or ""


def _f(name: str, type_: FieldType = "string", **kw: Any) -> FieldDef:
    return FieldDef(name=name, label=name, type=type_, **kw)


def _ref(name: str, targets: tuple[str, ...], rel: str) -> FieldDef:
    return _f(
        name,
        "reference",
        reference_to=targets,
        relationship_name=rel,
        polymorphic=len(targets) > 1,
    )


def _common() -> list[FieldDef]:
    return [
        _f("Id", "id"),
        _f("IsDeleted", "boolean"),
        _f("CreatedDate", "datetime"),
        _f("OwnerId", "reference", reference_to=("User",), relationship_name="Owner"),
    ]


def _obj(
    name: str, prefix: str, fields: list[FieldDef], children: tuple[ChildRelationship, ...] = ()
) -> ObjectDef:
    all_fields = {f.name: f for f in [*_common(), *fields]}
    return ObjectDef(
        name=name,
        label=name,
        label_plural=name + "s",
        key_prefix=prefix,
        fields=all_fields,
        child_relationships=children,
    )


def schema() -> dict[str, ObjectDef]:
    objects = [
        _obj(
            "Account",
            "001",
            [
                _f("Name", name_field=True, search_group="name"),
                _f("Phone", "phone", search_group="phone"),
                _f("Type", "picklist"),
                _f("Industry", "picklist", search_group="text"),
                _f("AnnualRevenue", "currency"),
                _f("NumberOfEmployees", "int"),
                _f("Ext__c", external_id=True, unique=True, custom=True),
                _f("Tags__c", "multipicklist", custom=True),
                _f("Secret__c", custom=True),
            ],
            (
                ChildRelationship(name="Contacts", child_object="Contact", field="AccountId"),
                ChildRelationship(
                    name="Opportunities", child_object="Opportunity", field="AccountId"
                ),
                ChildRelationship(name="Cases", child_object="Case", field="AccountId"),
            ),
        ),
        _obj(
            "Contact",
            "003",
            [
                _f("FirstName", search_group="name"),
                _f("LastName", search_group="name"),
                _f("Name", search_group="name"),
                _f("Email", "email", search_group="email"),
                _f("Phone", "phone", search_group="phone"),
                _f("MobilePhone", "phone", search_group="phone"),
                _f("Description", "textarea", search_group="text"),
                _f("Birthdate", "date"),
                _ref("AccountId", ("Account",), "Account"),
            ],
            (ChildRelationship(name="Tasks", child_object="Task", field="WhoId"),),
        ),
        _obj(
            "Lead",
            "00Q",
            [
                _f("LastName", search_group="name"),
                _f("Name", search_group="name"),
                _f("Company", search_group="text"),
                _f("Email", "email", search_group="email"),
                _f("Phone", "phone", search_group="phone"),
            ],
        ),
        _obj(
            "Opportunity",
            "006",
            [
                _f("Name", search_group="name"),
                _f("Amount", "currency"),
                _f("CloseDate", "date"),
                _f("StageName", "picklist"),
                _ref("AccountId", ("Account",), "Account"),
            ],
        ),
        _obj(
            "Case",
            "500",
            [
                _f("Subject", search_group="text"),
                _f("Status", "picklist"),
                _f("IsEscalated", "boolean"),
                _ref("AccountId", ("Account",), "Account"),
                _ref("ContactId", ("Contact",), "Contact"),
            ],
        ),
        _obj(
            "Task",
            "00T",
            [
                _f("Subject", "combobox", search_group="name"),
                _f("CallObject", unique=False, external_id=False),
                _f("ActivityDate", "date"),
                _ref("WhoId", ("Contact", "Lead"), "Who"),
                _ref("WhatId", ("Account", "Opportunity", "Case"), "What"),
            ],
        ),
        _obj(
            "User",
            "005",
            [
                _f("Name", search_group="name"),
                _f("Username", unique=True),
                _f("Email", "email", search_group="email"),
            ],
        ),
    ]
    return {o.name: o for o in objects}


class QuerySource:
    """In-memory org double: the DataSource protocol plus ``create`` / ``delete``."""

    def __init__(self, *, now: dt.datetime = NOW, tz: str = "UTC") -> None:
        self.objects = schema()
        self._lower = {name.lower(): name for name in self.objects}
        self._prefix = {o.key_prefix: o for o in self.objects.values()}
        self._rows: dict[str, dict[str, Record]] = {name: {} for name in self.objects}
        self._by_id: dict[str, Record] = {}
        self._counter = itertools.count(2)
        self.clock = now
        self.timezones: dict[str, dt.tzinfo] = {USER_ID: ZoneInfo(tz)}
        self.hidden: set[tuple[str, str]] = set()
        self.lagging: set[str] = set()
        self.create("User", Name="Ada Admin", Username="ada@example.com", Id=USER_ID)

    # ---- helpers ----
    def create(self, object_name: str, **values: Any) -> str:
        obj = self.objects[object_name]
        record_id = values.pop("Id", None) or to18(f"{obj.key_prefix}000{next(self._counter):09d}")
        assert record_id is not None
        record: Record = {name: None for name in obj.fields}
        record.update(Id=record_id, IsDeleted=False, CreatedDate=self.clock, OwnerId=USER_ID)
        for key, value in values.items():
            field = obj.field(key)
            assert field is not None, key
            record[field.name] = value
        self._rows[obj.name][record_id] = record
        self._by_id[record_id] = record
        return record_id

    def delete(self, record_id: str) -> None:
        self._by_id[record_id]["IsDeleted"] = True

    # ---- DataSource ----
    def object(self, name: str) -> ObjectDef | None:
        canonical = self._lower.get(name.lower())
        return self.objects[canonical] if canonical else None

    def object_for_id(self, record_id: str) -> ObjectDef | None:
        return self._prefix.get(record_id[:3])

    def rows(self, object_name: str, *, include_deleted: bool = False) -> Iterable[Record]:
        obj = self.object(object_name)
        assert obj is not None
        return [r for r in self._rows[obj.name].values() if include_deleted or not r["IsDeleted"]]

    def get(self, record_id: str, *, include_deleted: bool = False) -> Record | None:
        record = self._by_id.get(to18(record_id) or "")
        if record is None or (record["IsDeleted"] and not include_deleted):
            return None
        return record

    def lookup(self, object_name: str, field: str, value: Any) -> list[Record] | None:
        obj = self.object(object_name)
        assert obj is not None
        definition = obj.field(field)
        assert definition is not None
        if not (
            definition.type in ("id", "reference") or definition.unique or definition.external_id
        ):
            return None
        want = value.lower() if isinstance(value, str) else value
        return [
            r
            for r in self._rows[obj.name].values()
            if not r["IsDeleted"]
            and (
                r[definition.name].lower()
                if isinstance(r[definition.name], str)
                else r[definition.name]
            )
            == want
        ]

    def field_visible(self, object_name: str, field: str, user_id: str) -> bool:
        return (object_name, field) not in self.hidden

    def searchable(self, record: Record) -> bool:
        return record["Id"] not in self.lagging

    def now(self) -> dt.datetime:
        return self.clock

    def user_timezone(self, user_id: str) -> dt.tzinfo:
        return self.timezones.get(user_id, dt.UTC)
