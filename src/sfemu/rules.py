"""Derived fields: what Salesforce computes on save (closed flags, defaults, names ...).

:func:`apply` runs after validation and before the record is stored. It sees the stored
record before the write (``old``, None on insert), the record about to be stored (``new``,
mutated in place) and the names of the fields the caller provided.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass

from sfemu.model import ObjectDef, PicklistValue, Record

Getter = Callable[[str], Record | None]


@dataclass(frozen=True, kw_only=True, slots=True)
class _Save:
    """One save as a rule sees it (see :func:`apply` for the fields)."""

    obj: ObjectDef
    old: Record | None
    new: Record
    provided: Collection[str]
    get: Getter
    now: dt.datetime

    def option(self, field_name: str) -> PicklistValue | None:
        """The picklist entry the new record's ``field_name`` holds (None when not one)."""
        field = self.obj.fields.get(field_name)
        value = self.new.get(field_name)
        if field is None or value is None:
            return None
        return next((p for p in field.picklist if p.value == value), None)

    def changed(self, name: str) -> bool:
        """Whether this save sets ``name`` (always on insert)."""
        return self.old is None or self.old.get(name) != self.new.get(name)


def full_name(record: Record) -> str:
    """FirstName + " " + LastName, skipping empty parts."""
    parts = (record.get("FirstName"), record.get("LastName"))
    return " ".join(p for p in parts if p)


def _names(obj: ObjectDef, new: Record) -> None:
    name = obj.fields.get("Name")
    if name is not None and name.calculated and "LastName" in obj.fields:
        new["Name"] = full_name(new)


def _closed_by_status(save: _Save, stamp: str) -> None:
    """``IsClosed`` from the Status entry; ``stamp`` set when it closes, cleared while open."""
    option = save.option("Status")
    closed = bool(option and option.closed)
    save.new["IsClosed"] = closed
    if not closed:
        save.new[stamp] = None
    elif save.old is None or not save.old.get("IsClosed"):
        save.new[stamp] = save.now


#: Case fields copied from its Contact whenever ContactId changes.
_CASE_CONTACT_FIELDS = {
    "ContactEmail": "Email",
    "ContactPhone": "Phone",
    "ContactMobile": "MobilePhone",
    "ContactFax": "Fax",
}


def _case(save: _Save) -> None:
    new = save.new
    _closed_by_status(save, "ClosedDate")
    if not save.changed("ContactId"):
        return
    contact = save.get(new["ContactId"]) if new.get("ContactId") else None
    if "AccountId" not in save.provided and contact is not None:
        new["AccountId"] = contact.get("AccountId")
    for case_field, contact_field in _CASE_CONTACT_FIELDS.items():
        new[case_field] = contact.get(contact_field) if contact else None


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


def _task(save: _Save) -> None:
    new = save.new
    _closed_by_status(save, "CompletedDateTime")
    new["IsHighPriority"] = new.get("Priority") == "High"
    if save.old is None and new.get("TaskSubtype") is None:
        new["TaskSubtype"] = "Call" if new.get("CallType") else "Task"
    _activity_account(new, save.get)


def _event(save: _Save) -> None:
    new = save.new
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
    _activity_account(new, save.get)


def _opportunity(save: _Save) -> None:
    new = save.new
    option = save.option("StageName")
    new["IsClosed"] = bool(option and option.closed)
    new["IsWon"] = bool(option and option.won)
    stage_changed = save.changed("StageName")
    probability = option.probability if option is not None else None
    if stage_changed and "Probability" not in save.provided and probability is not None:
        new["Probability"] = float(probability)
    if stage_changed and "ForecastCategoryName" not in save.provided:
        if new["IsWon"]:
            new["ForecastCategoryName"] = "Closed"
        elif new["IsClosed"]:
            new["ForecastCategoryName"] = "Omitted"
        else:
            new["ForecastCategoryName"] = "Pipeline"


def _user(save: _Save) -> None:
    if save.old is None:
        if "IsActive" not in save.provided:
            save.new["IsActive"] = True
        save.new["UserType"] = save.new.get("UserType") or "Standard"


_RULES: dict[str, Callable[[_Save], None]] = {
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
        rule(_Save(obj=obj, old=old, new=new, provided=provided, get=get, now=now))
