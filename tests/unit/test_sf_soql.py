"""format_soql: the only way values enter SOQL."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest

from sfbridge.salesforce.soql import escape_sosl, format_soql, quote_soql_value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "'plain'"),
        ("O'Brien", "'O\\'Brien'"),
        ('say "hi"', "'say \\\"hi\\\"'"),
        ("back\\slash", "'back\\\\slash'"),
        ("a\nb\rc\td\be\ff", "'a\\nb\\rc\\td\\be\\ff'"),
        ("100%_", "'100%_'"),
        ("' OR Name != '", "'\\' OR Name != \\''"),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (42, "42"),
        (-1.5, "-1.5"),
        (decimal.Decimal("10.25"), "10.25"),
        (dt.date(2024, 3, 1), "2024-03-01"),
        (dt.datetime(2024, 3, 1, 10, 15, 30, 123456, tzinfo=dt.UTC), "2024-03-01T10:15:30Z"),
        (
            dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "2024-03-01T10:00:00Z",
        ),
        (["a", "b'c"], "('a','b\\'c')"),
        ((1, 2), "(1,2)"),
        (["x"], "('x')"),
    ],
)
def test_quote(value: Any, expected: str) -> None:
    assert quote_soql_value(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2024, 3, 1, 10, 0),  # naive
        [],
        float("nan"),
        float("inf"),
        decimal.Decimal("NaN"),
        {"a": 1},
        object(),
        b"bytes",
    ],
)
def test_unquotable(value: Any) -> None:
    with pytest.raises(ValueError):
        quote_soql_value(value)


@pytest.mark.parametrize(
    ("template", "args", "kwargs", "expected"),
    [
        (
            "SELECT Id FROM Contact WHERE Email = {}",
            ("a@b.c",),
            {},
            "SELECT Id FROM Contact WHERE Email = 'a@b.c'",
        ),
        ("WHERE Id IN {ids}", (), {"ids": ["1", "2"]}, "WHERE Id IN ('1','2')"),
        ("SELECT {:literal} FROM Case", ("Id, Subject",), {}, "SELECT Id, Subject FROM Case"),
        ("WHERE Name LIKE '{:like}%'", ("50%_off's",), {}, "WHERE Name LIKE '50\\%\\_off\\'s%'"),
        ("WHERE A = {0} AND B = {0}", ("x",), {}, "WHERE A = 'x' AND B = 'x'"),
    ],
)
def test_format_soql(
    template: str, args: tuple[Any, ...], kwargs: dict[str, Any], expected: str
) -> None:
    assert format_soql(template, *args, **kwargs) == expected


def test_unknown_format_spec_is_refused() -> None:
    with pytest.raises(ValueError, match="format spec"):
        format_soql("WHERE A = {:>10}", "x")


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("+1 (415) 555-1212", "\\+1 \\(415\\) 555\\-1212"),
        ("ann@example.com", "ann@example.com"),
        ("a*b?c", "a\\*b\\?c"),
        ("{x}", "\\{x\\}"),
        ("back\\", "back\\\\"),
    ],
)
def test_escape_sosl(term: str, expected: str) -> None:
    assert escape_sosl(term) == expected
