"""Field-level validation of DML values, in Salesforce's order.

The org calls these steps in this order (reference section 8.4): :func:`resolve_names`
(INVALID_FIELD) -> the record id check (MALFORMED_ID, done by the org) -> :func:`check_writable`
(INVALID_FIELD_FOR_INSERT_UPDATE) -> :func:`convert` (INVALID_TYPE_ON_FIELD_IN_RECORD,
MALFORMED_ID on references) -> :func:`check_required` (REQUIRED_FIELD_MISSING, all missing
listed) -> :func:`check_values` (STRING_TOO_LONG, INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST,
INVALID_EMAIL_ADDRESS) -> unique values and references (done by the org, which has the data).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any, Literal

from sfemu import values
from sfemu.model import ApiError, FieldDef, ObjectDef, Record

Operation = Literal["insert", "update"]

#: Keys a wire body may carry that are not fields.
_IGNORED_KEYS = frozenset({"attributes"})
_LENGTH_TYPES = frozenset({"string", "textarea", "combobox", "email", "phone", "url"})
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def invalid_field(obj: ObjectDef, name: str) -> ApiError:
    """``INVALID_FIELD`` for a write naming a field the object does not have."""
    return ApiError(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {obj.name}")


def resolve_names(obj: ObjectDef, data: Mapping[str, Any]) -> dict[FieldDef, Any]:
    """Map each key of a wire body to its field (case-insensitive).

    Raises:
        ApiError: INVALID_FIELD for the first unknown name.
    """
    resolved: dict[FieldDef, Any] = {}
    for name, value in data.items():
        if name in _IGNORED_KEYS:
            continue
        field = obj.field(name)
        if field is None:
            raise invalid_field(obj, name)
        resolved[field] = value
    return resolved


def check_writable(
    fields: Collection[FieldDef],
    op: Operation,
    *,
    can_set_audit: bool = False,
    hidden: Collection[str] = (),
) -> None:
    """Refuse fields that cannot be written in this operation.

    Args:
        fields: the fields being written.
        op: ``insert`` or ``update``.
        can_set_audit: the user holds ``SetAuditFields`` (audit fields writable on insert).
        hidden: canonical names of fields hidden from the user by field-level security.

    Raises:
        ApiError: INVALID_FIELD_FOR_INSERT_UPDATE listing every such field.
    """
    refused = []
    for field in fields:
        if field.name in hidden:
            refused.append(field.name)
        elif op == "insert":
            if not field.createable and not (field.audit and can_set_audit):
                refused.append(field.name)
        elif not field.updateable:
            refused.append(field.name)
    if refused:
        raise not_writable(refused)


def not_writable(names: list[str]) -> ApiError:
    """The INVALID_FIELD_FOR_INSERT_UPDATE error for ``names``."""
    listed = ", ".join(names)
    return ApiError(
        400,
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        f"Unable to create/update fields: {listed}. Please check the security settings of "
        "this field and verify that it is read/write for your profile or permission set.",
        list(names),
    )


def convert(fields: Mapping[FieldDef, Any]) -> dict[str, Any]:
    """Convert every wire value to its stored form, keyed by canonical field name.

    A null checkbox becomes false, as in Salesforce.
    """
    out: dict[str, Any] = {}
    for field, raw in fields.items():
        value = values.to_python(field, raw)
        if value is None and field.type == "boolean":
            value = False
        out[field.name] = value
    return out


def check_required(obj: ObjectDef, data: Mapping[str, Any], op: Operation) -> None:
    """REQUIRED_FIELD_MISSING, listing every required field left empty.

    On insert a required field is one that is not nillable, createable and not defaulted;
    on update, any non-nillable field explicitly set to null.
    """
    if op == "insert":
        missing = [
            f.name for f in obj.fields.values() if f.required_on_create and _empty(data.get(f.name))
        ]
    else:
        missing = [
            name for name, value in data.items() if _empty(value) and not obj.fields[name].nillable
        ]
    if missing:
        raise ApiError(
            400,
            "REQUIRED_FIELD_MISSING",
            f"Required fields are missing: [{', '.join(missing)}]",
            missing,
        )


def _empty(value: Any) -> bool:
    return value is None or value == ""


def check_values(obj: ObjectDef, data: dict[str, Any]) -> None:
    """Lengths, restricted picklists and e-mail syntax, in that order, field by field.

    Picklist values matching case-insensitively are rewritten to the defined value.
    """
    for name, value in data.items():
        if isinstance(value, str):
            _check_length(obj.fields[name], value)
    for name, value in list(data.items()):
        field = obj.fields[name]
        if field.type in ("picklist", "multipicklist") and isinstance(value, str) and value:
            data[name] = _check_picklist(field, value)
    for name, value in data.items():
        field = obj.fields[name]
        if field.type == "email" and isinstance(value, str) and not _valid_email(value):
            raise ApiError(
                400,
                "INVALID_EMAIL_ADDRESS",
                f"{field.label}: invalid email address: {value}",
                [field.name],
            )


def _valid_email(value: str) -> bool:
    return not value or _EMAIL_RE.match(value) is not None


def _check_length(field: FieldDef, value: str) -> None:
    if field.type in _LENGTH_TYPES and field.length and len(value) > field.length:
        raise ApiError(
            400,
            "STRING_TOO_LONG",
            f"{field.label}: data value too large: {value} (max length={field.length})",
            [field.name],
        )


def _check_picklist(field: FieldDef, value: str) -> str:
    if not field.picklist:
        return value
    chosen = value.split(";") if field.type == "multipicklist" else [value]
    out = []
    for item in chosen:
        match = next(
            (p.value for p in field.picklist if p.active and p.value.lower() == item.lower()),
            None,
        )
        if match is None:
            if field.restricted_picklist:
                raise ApiError(
                    400,
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"{field.label}: bad value for restricted picklist field: {value}",
                    [field.name],
                )
            match = item
        out.append(match)
    return ";".join(out)


def blank_record(obj: ObjectDef) -> Record:
    """A record with every field null, checkboxes false and picklist defaults applied."""
    record: Record = {}
    for field in obj.fields.values():
        value: Any = None
        if field.type == "boolean":
            value = False
        elif field.picklist and field.defaulted_on_create:
            value = next((p.value for p in field.picklist if p.default), None)
        record[field.name] = value
    return record


def changed_fields(old: Record | None, new: Record) -> frozenset[str]:
    """Names of fields whose value differs (for inserts: the non-null ones)."""
    if old is None:
        return frozenset(k for k, v in new.items() if v is not None)
    return frozenset(k for k, v in new.items() if old.get(k) != v)
