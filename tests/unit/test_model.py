import datetime as dt

import pytest

from sfemu.model import ApiError, FieldDef, ObjectDef, format_datetime


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (dt.datetime(2013, 5, 7, 22, 7, 19, 123456, tzinfo=dt.UTC), "2013-05-07T22:07:19.123+0000"),
        (
            dt.datetime(2013, 5, 8, 0, 7, 19, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "2013-05-07T22:07:19.000+0000",
        ),
    ],
)
def test_datetime_wire_format(value: dt.datetime, wire: str) -> None:
    assert format_datetime(value) == wire


def test_field_lookup_is_case_insensitive() -> None:
    obj = ObjectDef(
        name="Case",
        label="Case",
        label_plural="Cases",
        key_prefix="500",
        fields={"Subject": FieldDef(name="Subject", label="Subject", type="string", length=255)},
    )
    found = obj.field("subject")
    assert found is not None and found.name == "Subject"
    assert obj.field("Nope") is None


def test_api_error_bodies() -> None:
    query_error = ApiError(400, "MALFORMED_QUERY", "unexpected token: SELEKT")
    assert query_error.body() == [
        {"message": "unexpected token: SELEKT", "errorCode": "MALFORMED_QUERY"}
    ]
    dml_error = ApiError(
        400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Name]", ["Name"]
    )
    assert dml_error.collection_error() == {
        "statusCode": "REQUIRED_FIELD_MISSING",
        "message": "Required fields are missing: [Name]",
        "fields": ["Name"],
    }
