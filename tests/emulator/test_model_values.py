"""Wire value conversion (pure functions, table-driven)."""

import datetime as dt
from typing import Any

import pytest

from sfemu import values
from sfemu.model import ApiError, FieldDef

UTC = dt.UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T10:15:00.000+0000", dt.datetime(2024, 3, 1, 10, 15, tzinfo=UTC)),
        ("2024-03-01T10:15:00Z", dt.datetime(2024, 3, 1, 10, 15, tzinfo=UTC)),
        ("2024-03-01T12:15:00+02:00", dt.datetime(2024, 3, 1, 10, 15, tzinfo=UTC)),
        ("2024-03-01T05:15:00.5-0500", dt.datetime(2024, 3, 1, 10, 15, 0, 500000, tzinfo=UTC)),
        ("2024-03-01T10:15", dt.datetime(2024, 3, 1, 10, 15, tzinfo=UTC)),
        ("2024-03-01 10:15:00", dt.datetime(2024, 3, 1, 10, 15, tzinfo=UTC)),
        ("2024-03-01", dt.datetime(2024, 3, 1, tzinfo=UTC)),
        ("2024-02-30T10:15:00Z", None),
        ("2024-13-01", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_parse_datetime(text: str, expected: dt.datetime | None) -> None:
    assert values.parse_datetime(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-29", dt.date(2024, 2, 29)),
        ("2023-02-29", None),
        ("2024-02-29T23:59:59Z", dt.date(2024, 2, 29)),
        ("29/02/2024", None),
    ],
)
def test_parse_date(text: str, expected: dt.date | None) -> None:
    assert values.parse_date(text) == expected


def _field(kind: Any, **kw: Any) -> FieldDef:
    return FieldDef(name="F", label="Label", type=kind, **kw)


@pytest.mark.parametrize(
    ("kind", "wire", "stored"),
    [
        ("string", "x", "x"),
        ("string", 12, "12"),
        ("string", 1.5, "1.5"),
        ("boolean", True, True),
        ("boolean", "false", False),
        ("boolean", "TRUE", True),
        ("int", 3, 3),
        ("int", 3.0, 3),
        ("int", "42", 42),
        ("double", "1e3", 1000.0),
        ("currency", 10, 10.0),
        ("reference", "001B000001Lp1Fx", "001B000001Lp1FxIAJ"),
        ("date", dt.date(2024, 1, 2), dt.date(2024, 1, 2)),
        ("date", dt.datetime(2024, 1, 2, 23, tzinfo=UTC), dt.date(2024, 1, 2)),
        (
            "datetime",
            dt.datetime(2024, 1, 2, 3, 4, 5, 678999),
            dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        ),
        (
            "datetime",
            "2024-01-02T03:04:05.678999Z",
            dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        ),
        ("string", None, None),
        ("int", None, None),
    ],
)
def test_to_python(kind: Any, wire: Any, stored: Any) -> None:
    assert values.to_python(_field(kind), wire) == stored


@pytest.mark.parametrize(
    ("kind", "wire", "code"),
    [
        ("string", True, "INVALID_TYPE_ON_FIELD_IN_RECORD"),
        ("string", ["a"], "INVALID_TYPE_ON_FIELD_IN_RECORD"),
        ("boolean", "yes", "INVALID_TYPE_ON_FIELD_IN_RECORD"),
        ("boolean", 1, "INVALID_TYPE_ON_FIELD_IN_RECORD"),
        ("int", 3.5, "INVALID_TYPE_ON_FIELD_IN_RECORD"),
        ("int", True, "INVALID_TYPE_ON_FIELD_IN_RECORD"),
        ("double", "nan", "INVALID_TYPE_ON_FIELD_IN_RECORD"),
        ("double", {"a": 1}, "INVALID_TYPE_ON_FIELD_IN_RECORD"),
        ("date", 20240101, "INVALID_TYPE_ON_FIELD_IN_RECORD"),
        ("datetime", "soon", "INVALID_TYPE_ON_FIELD_IN_RECORD"),
        ("reference", "001B000001Lp1FxIAA", "MALFORMED_ID"),
        ("reference", 5, "MALFORMED_ID"),
    ],
)
def test_to_python_errors(kind: Any, wire: Any, code: str) -> None:
    with pytest.raises(ApiError) as caught:
        values.to_python(_field(kind), wire)
    assert caught.value.error_code == code
    assert caught.value.fields == ["F"]
    assert caught.value.message.startswith("Label: ")


@pytest.mark.parametrize(
    ("value", "json_value"),
    [
        (dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "2024-01-02T03:04:05+00:00"),
        (dt.date(2024, 1, 2), "2024-01-02"),
        ("x", "x"),
        (1.5, 1.5),
    ],
)
def test_from_stored_round_trips(value: Any, json_value: Any) -> None:
    kind = (
        "datetime"
        if isinstance(value, dt.datetime)
        else "date"
        if isinstance(value, dt.date)
        else "string"
        if isinstance(value, str)
        else "double"
    )
    field = _field(kind)
    assert values.from_stored(field, value) == json_value
    assert values.to_python(field, json_value) == value
