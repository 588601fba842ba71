"""Wire values (decoded JSON) to stored Python values, per field type.

Type errors raise ``INVALID_TYPE_ON_FIELD_IN_RECORD`` ("<label>: value not of required type:
<value>", ``fields=[name]``): this is the DML error Salesforce gives for a value it cannot
convert. A malformed id in a reference field raises ``MALFORMED_ID``.

Conversion is as lenient as Salesforce's JSON binding: numbers are accepted for text fields
(stringified), numeric strings for number fields, ``"true"``/``"false"`` for checkboxes, and
already-converted Python values (``date``, ``datetime``) are accepted as they are, which the
seeds and the control plane use.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from sfemu import ids
from sfemu.model import ApiError, FieldDef

_TEXT_TYPES = frozenset(
    {"string", "textarea", "picklist", "multipicklist", "combobox", "email", "phone", "url"}
)
_FLOAT_TYPES = frozenset({"double", "currency", "percent"})
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)


def type_error(field: FieldDef, value: Any) -> ApiError:
    """The error for a value of the wrong type."""
    return ApiError(
        400,
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        f"{field.label}: value not of required type: {_show(value)}",
        [field.name],
    )


def malformed_id(field: FieldDef, value: Any) -> ApiError:
    """The error for a value that is not a well-formed id."""
    return ApiError(
        400,
        "MALFORMED_ID",
        f"{field.label}: id value of incorrect type: {_show(value)}",
        [field.name],
    )


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_date(text: str) -> dt.date | None:
    """``YYYY-MM-DD`` (or a dateTime, whose date part is kept) to a date; None if invalid."""
    match = _DATE_RE.match(text)
    try:
        if match:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
    parsed = parse_datetime(text)
    return parsed.date() if parsed else None


def parse_datetime(text: str) -> dt.datetime | None:
    """A Salesforce or ISO 8601 dateTime to an aware UTC datetime; None if invalid.

    Accepts ``2024-03-01T10:15:00.000+0000``, ``...Z``, ``...+02:00``, no zone (UTC) and a bare
    date (midnight UTC).
    """
    match = _DATETIME_RE.match(text)
    if not match:
        day = _DATE_RE.match(text)
        if not day:
            return None
        try:
            return dt.datetime(int(day[1]), int(day[2]), int(day[3]), tzinfo=dt.UTC)
        except ValueError:
            return None
    year, month, mday, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz: dt.tzinfo = dt.UTC
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        value = dt.datetime(
            int(year),
            int(month),
            int(mday),
            int(hour),
            int(minute),
            int(second or 0),
            micro,
            tzinfo=tz,
        )
    except ValueError:
        return None
    return value.astimezone(dt.UTC)


def _to_float(field: FieldDef, value: Any) -> float:
    if isinstance(value, bool):
        raise type_error(field, value)
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise type_error(field, value) from None
    else:
        raise type_error(field, value)
    if not math.isfinite(number):
        raise type_error(field, value)
    return number


def _to_int(field: FieldDef, value: Any) -> int:
    number = _to_float(field, value)
    if not number.is_integer():
        raise type_error(field, value)
    return int(number)


def _to_bool(field: FieldDef, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise type_error(field, value)


def _to_text(field: FieldDef, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _show(value)
    raise type_error(field, value)


def _to_date(field: FieldDef, value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).date()
    if isinstance(value, dt.date):
        return value
    parsed = parse_date(value) if isinstance(value, str) else None
    if parsed is None:
        raise type_error(field, value)
    return parsed


def truncate_ms(value: dt.datetime) -> dt.datetime:
    """Salesforce keeps milliseconds: drop the rest so values survive a wire round trip."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _to_datetime(field: FieldDef, value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return truncate_ms(value.astimezone(dt.UTC))
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise type_error(field, value)
    return truncate_ms(parsed)


def _to_id(field: FieldDef, value: Any) -> str:
    normalized = ids.try_normalize(value)
    if normalized is None:
        raise malformed_id(field, value)
    return normalized


def to_python(field: FieldDef, value: Any) -> Any:
    """Convert one wire value for ``field`` to its stored Python value (None stays None).

    Raises:
        ApiError: INVALID_TYPE_ON_FIELD_IN_RECORD, or MALFORMED_ID for id/reference fields.
    """
    if value is None:
        return None
    kind = field.type
    if kind in _TEXT_TYPES:
        return _to_text(field, value)
    if kind in ("id", "reference"):
        return _to_id(field, value)
    if kind == "boolean":
        return _to_bool(field, value)
    if kind == "int":
        return _to_int(field, value)
    if kind in _FLOAT_TYPES:
        return _to_float(field, value)
    if kind == "date":
        return _to_date(field, value)
    if kind == "datetime":
        return _to_datetime(field, value)
    raise type_error(field, value)


def from_stored(field: FieldDef, value: Any) -> Any:
    """The JSON form of a stored value, for persistence (inverse of :func:`to_python`)."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
