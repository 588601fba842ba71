"""Derived fields: what Salesforce computes on save (closed flags, defaults, names ...).

:func:`apply` runs after validation and before the record is stored. It sees the stored
record before the write (``old``, None on insert), the record about to be stored (``new``,
mutated in place) and the names of the fields the caller provided.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from typing import Any

from sfemu.model import ObjectDef, PicklistValue, Record

Getter = Callable[[str], Record | None]


def _option(obj: ObjectDef, field_name: str, value: Any) -> PicklistValue | None:
    field = obj.fields.get(field_name)
    if field is None or value is None:
        return None
    return next((p for p in field.picklist if p.value == value), None)


def _changed(old: Record | None, new: Record, name: str) -> bool:
    return old is None or old.get(name) != new.get(name)


def full_name(record: Record) -> str:
    """FirstName + " " + LastName, skipping empty parts."""
    parts = (record.get("FirstName"), record.get("LastName"))
    return " ".join(p for p in parts if p)


def _names(obj: ObjectDef, new: Record) -> None:
    name = obj.fields.get("Name")
    if name is not None and name.calculated and "LastName" in obj.fields:
        new["Name"] = full_name(new)


def _case(
    obj: ObjectDef,
    old: Record | None,
    new: Record,
    provided: Collection[str],
    get: Getter,
    now: dt.datetime,
) -> None:
    option = _option(obj, "Status", new.get("Status"))
    closed = bool(option and option.closed)
    new["IsClosed"] = closed
    if not closed:
        new["ClosedDate"] = None
    elif old is None or not old.get("IsClosed"):
        new["ClosedDate"] = now
    contact_changed = _changed(old, new, "ContactId")
    contact = get(new["ContactId"]) if new.get("ContactId") else None
    if contact_changed and "AccountId" not in provided and contact is not None:
        new["AccountId"] = contact.get("AccountId")
    if contact_changed:
        new["ContactEmail"] = contact.get("Email") if contact else None
        new["ContactPhone"] = contact.get("Phone") if contact else None
        new["ContactMobile"] = contact.get("MobilePhone") if contact else None
        new["ContactFax"] = contact.get("Fax") if contact else None


def _account_of(record_id: str | None, get: Getter) -> str | None:
    if not record_id:
        return None
    target = get(record_id)
    if target is None:
        return None
    if record_id.startswith("001"):
        return record_id
    value = target.get("AccountId")
    return value if isinstance(value, str) else None


def _activity_account(new: Record, get: Getter) -> None:
    account = _account_of(new.get("WhatId"), get)
    if account is None and new.get("WhoId", "") and str(new["WhoId"]).startswith("003"):
        account = _account_of(new["WhoId"], get)
    new["AccountId"] = account


def _task(
    obj: ObjectDef,
    old: Record | None,
    new: Record,
    provided: Collection[str],
    get: Getter,
    now: dt.datetime,
) -> None:
    option = _option(obj, "Status", new.get("Status"))
    closed = bool(option and option.closed)
    new["IsClosed"] = closed
    if not closed:
        new["CompletedDateTime"] = None
    elif old is None or not old.get("IsClosed"):
        new["CompletedDateTime"] = now
    new["IsHighPriority"] = new.get("Priority") == "High"
    if old is None and new.get("TaskSubtype") is None:
        new["TaskSubtype"] = "Call" if new.get("CallType") else "Task"
    _activity_account(new, get)


def _event(
    obj: ObjectDef,
    old: Record | None,
    new: Record,
    provided: Collection[str],
    get: Getter,
    now: dt.datetime,
) -> None:
    start = new.get("StartDateTime") or new.get("ActivityDateTime")
    if start is not None:
        new["StartDateTime"] = start
        new["ActivityDateTime"] = start
        new["ActivityDate"] = start.date()
        minutes = new.get("DurationInMinutes")
        if new.get("EndDateTime") is None and minutes is not None:
            new["EndDateTime"] = start + dt.timedelta(minutes=minutes)
        elif minutes is None and new.get("EndDateTime") is not None:
            new["DurationInMinutes"] = int((new["EndDateTime"] - start).total_seconds() // 60)
    _activity_account(new, get)


def _opportunity(
    obj: ObjectDef,
    old: Record | None,
    new: Record,
    provided: Collection[str],
    get: Getter,
    now: dt.datetime,
) -> None:
    option = _option(obj, "StageName", new.get("StageName"))
    new["IsClosed"] = bool(option and option.closed)
    new["IsWon"] = bool(option and option.won)
    stage_changed = _changed(old, new, "StageName")
    probability = option.probability if option is not None else None
    if stage_changed and "Probability" not in provided and probability is not None:
        new["Probability"] = float(probability)
    if stage_changed and "ForecastCategoryName" not in provided:
        if new["IsWon"]:
            new["ForecastCategoryName"] = "Closed"
        elif new["IsClosed"]:
            new["ForecastCategoryName"] = "Omitted"
        else:
            new["ForecastCategoryName"] = "Pipeline"


def _user(
    obj: ObjectDef,
    old: Record | None,
    new: Record,
    provided: Collection[str],
    get: Getter,
    now: dt.datetime,
) -> None:
    if old is None:
        if "IsActive" not in provided:
            new["IsActive"] = True
        new["UserType"] = new.get("UserType") or "Standard"


_Rule = Callable[[ObjectDef, Record | None, Record, Collection[str], Getter, dt.datetime], None]
_RULES: dict[str, _Rule] = {
    "Case": _case,
    "Task": _task,
    "Event": _event,
    "Opportunity": _opportunity,
    "User": _user,
}


def apply(
    obj: ObjectDef,
    old: Record | None,
    new: Record,
    provided: Collection[str],
    *,
    get: Getter,
    now: dt.datetime,
) -> None:
    """Compute the derived fields of ``new`` in place.

    Args:
        obj: the object's definition.
        old: the stored record before this write (None on insert).
        new: the record about to be stored.
        provided: canonical names of the fields the caller set.
        get: reads another record by id (for values derived from related records).
        now: the org's clock.
    """
    _names(obj, new)
    rule = _RULES.get(obj.name)
    if rule is not None:
        rule(obj, old, new, provided, get, now)
