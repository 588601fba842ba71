"""Small constructors for field and object definitions, so the catalogue reads like a table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from sfemu.model import ChildRelationship, FieldDef, ObjectDef, PicklistValue

SearchGroup = Literal["name", "email", "phone", "text"] | None


def text(name: str, label: str, length: int = 255, **kw: Any) -> FieldDef:
    """A ``string`` field (searched IN ALL FIELDS unless told otherwise)."""
    kw.setdefault("search_group", "text")
    return FieldDef(name=name, label=label, type="string", length=length, **kw)


def textarea(name: str, label: str, length: int = 32000, **kw: Any) -> FieldDef:
    """A long text field."""
    kw.setdefault("search_group", "text")
    return FieldDef(name=name, label=label, type="textarea", length=length, **kw)


def email(name: str, label: str, length: int = 80, **kw: Any) -> FieldDef:
    """An ``email`` field (SOSL EMAIL FIELDS)."""
    kw.setdefault("search_group", "email")
    return FieldDef(name=name, label=label, type="email", length=length, **kw)


def phone(name: str, label: str, length: int = 40, **kw: Any) -> FieldDef:
    """A ``phone`` field (SOSL PHONE FIELDS)."""
    kw.setdefault("search_group", "phone")
    return FieldDef(name=name, label=label, type="phone", length=length, **kw)


def url(name: str, label: str, length: int = 255, **kw: Any) -> FieldDef:
    """A ``url`` field."""
    return FieldDef(name=name, label=label, type="url", length=length, **kw)


def boolean(name: str, label: str, **kw: Any) -> FieldDef:
    """A checkbox: never null, defaulted (false) on create."""
    kw.setdefault("nillable", False)
    kw.setdefault("defaulted_on_create", True)
    return FieldDef(name=name, label=label, type="boolean", **kw)


def date(name: str, label: str, **kw: Any) -> FieldDef:
    """A ``date`` field."""
    return FieldDef(name=name, label=label, type="date", **kw)


def datetime(name: str, label: str, **kw: Any) -> FieldDef:
    """A ``datetime`` field."""
    return FieldDef(name=name, label=label, type="datetime", **kw)


def number(
    name: str,
    label: str,
    kind: Literal["int", "double", "currency", "percent"] = "double",
    **kw: Any,
) -> FieldDef:
    """A numeric field."""
    return FieldDef(name=name, label=label, type=kind, **kw)


def values(*items: str | PicklistValue, default: str | None = None) -> tuple[PicklistValue, ...]:
    """Picklist values from plain strings (value = label), ``default`` marked as default."""
    out = []
    for item in items:
        if isinstance(item, PicklistValue):
            out.append(item)
        else:
            out.append(PicklistValue(value=item, label=item, default=item == default))
    return tuple(out)


def picklist(
    name: str,
    label: str,
    options: Sequence[PicklistValue],
    *,
    restricted: bool = False,
    **kw: Any,
) -> FieldDef:
    """A picklist; ``defaulted_on_create`` when one value is the default."""
    if any(v.default for v in options):
        kw.setdefault("defaulted_on_create", True)
    kw.setdefault("length", 255)
    return FieldDef(
        name=name,
        label=label,
        type="picklist",
        picklist=tuple(options),
        restricted_picklist=restricted,
        **kw,
    )


def ref(
    name: str,
    label: str,
    to: Sequence[str],
    relationship: str,
    **kw: Any,
) -> FieldDef:
    """A lookup (``reference``); polymorphic when it may point at several objects."""
    return FieldDef(
        name=name,
        label=label,
        type="reference",
        length=18,
        reference_to=tuple(to),
        relationship_name=relationship,
        polymorphic=len(to) > 1,
        **kw,
    )


def owner(label: str = "Owner ID", to: Sequence[str] = ("User",)) -> FieldDef:
    """``OwnerId``: defaulted to the running user on create."""
    return ref("OwnerId", label, to, "Owner", nillable=False, defaulted_on_create=True)


def compound_name(length: int = 121, label: str = "Full Name") -> FieldDef:
    """The read-only ``Name`` of people objects: FirstName + " " + LastName."""
    return FieldDef(
        name="Name",
        label=label,
        type="string",
        length=length,
        createable=False,
        updateable=False,
        nillable=False,
        defaulted_on_create=True,
        calculated=True,
        name_field=True,
        search_group="name",
    )


def record_name(label: str = "Name", length: int = 255, **kw: Any) -> FieldDef:
    """The required ``Name`` field of objects named by hand (Account, Opportunity ...)."""
    kw.setdefault("search_group", "name")
    return text("Name", label, length, nillable=False, name_field=True, **kw)


def person_name() -> list[FieldDef]:
    """FirstName, LastName and the compound ``Name`` of people objects (Contact, Lead, User)."""
    return [
        text("FirstName", "First Name", 40, search_group="name"),
        text("LastName", "Last Name", 80, nillable=False, search_group="name"),
        compound_name(),
    ]


def activity_children(field: str) -> list[tuple[str, str, str]]:
    """The ``Tasks`` and ``Events`` child relationships through ``WhatId`` or ``WhoId``."""
    return [("Tasks", "Task", field), ("Events", "Event", field)]


def system_fields(object_label: str) -> list[FieldDef]:
    """Id, IsDeleted and the audit fields every object has."""
    readonly: dict[str, Any] = {
        "nillable": False,
        "createable": False,
        "updateable": False,
        "defaulted_on_create": True,
    }
    return [
        FieldDef(
            name="Id", label=f"{object_label} ID", type="id", length=18, id_lookup=True, **readonly
        ),
        FieldDef(name="IsDeleted", label="Deleted", type="boolean", **readonly),
        FieldDef(name="CreatedDate", label="Created Date", type="datetime", audit=True, **readonly),
        ref("CreatedById", "Created By ID", ("User",), "CreatedBy", audit=True, **readonly),
        FieldDef(
            name="LastModifiedDate",
            label="Last Modified Date",
            type="datetime",
            audit=True,
            **readonly,
        ),
        ref(
            "LastModifiedById",
            "Last Modified By ID",
            ("User",),
            "LastModifiedBy",
            audit=True,
            **readonly,
        ),
        FieldDef(name="SystemModstamp", label="System Modstamp", type="datetime", **readonly),
    ]


def make_object(
    name: str,
    label: str,
    plural: str,
    prefix: str,
    fields: Iterable[FieldDef],
    children: Iterable[tuple[str, str, str]] = (),
    **kw: Any,
) -> ObjectDef:
    """An object with the system fields first, then ``fields``.

    Args:
        name: API name. label, plural: labels. prefix: 3-character key prefix.
        fields: the object's own fields.
        children: ``(relationship name, child object, child field)`` triples.
        **kw: other ``ObjectDef`` flags (createable, deletable ...).
    """
    all_fields = system_fields(label) + list(fields)
    return ObjectDef(
        name=name,
        label=label,
        label_plural=plural,
        key_prefix=prefix,
        fields={f.name: f for f in all_fields},
        child_relationships=tuple(
            ChildRelationship(name=rel, child_object=child, field=fld)
            for rel, child, fld in children
        ),
        **kw,
    )
