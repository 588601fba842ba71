"""Helpers for the query-engine tests: a real ``sfemu.org.Org`` on a movable clock.

The engines are tested against the real Org (its schema, indexes, field-level security and
search lag); these helpers only make seeding short.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sfemu.model import FieldDef, PicklistValue
from sfemu.org import Org

NOW = dt.datetime(2024, 3, 15, 12, 0, tzinfo=dt.UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.current = now

    def __call__(self) -> dt.datetime:
        return self.current


def ext_field() -> FieldDef:
    """``Ext__c``: a unique, case-insensitive external id text field (40 characters)."""
    return FieldDef(
        name="Ext__c",
        label="Ext",
        type="string",
        length=40,
        unique=True,
        external_id=True,
        id_lookup=True,
        custom=True,
    )


def make_org(*, now: dt.datetime = NOW, tz: str = "UTC", custom_fields: bool = True) -> Org:
    """A fresh org whose clock reads ``now`` and whose admin lives in ``tz``.

    With ``custom_fields``, Account gets ``Ext__c`` (unique external id), ``Tags__c``
    (multi-select picklist) and ``Secret__c`` (text).
    """
    org = Org(clock=Clock(now))
    org.update("User", org.admin_user_id, {"TimeZoneSidKey": tz}, user_id=org.admin_user_id)
    if custom_fields:
        org.add_custom_field("Account", ext_field())
        org.add_custom_field(
            "Account",
            FieldDef(
                name="Tags__c",
                label="Tags",
                type="multipicklist",
                custom=True,
                picklist=tuple(
                    PicklistValue(value=v, label=v) for v in ("red", "green", "blue", "pink")
                ),
            ),
        )
        org.add_custom_field(
            "Account",
            FieldDef(name="Secret__c", label="Secret", type="string", length=40, custom=True),
        )
    return org


def add(org: Org, object_name: str, **values: Any) -> str:
    """Insert a record as the admin; returns its id."""
    return org.create(object_name, values, user_id=org.admin_user_id)


def set_clock(org: Org, now: dt.datetime) -> None:
    """Move the org's clock."""
    clock = org.clock
    assert isinstance(clock, Clock)
    clock.current = now
