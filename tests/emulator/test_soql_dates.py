"""Date literal ranges (pure): which calendar days each literal covers."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from sfemu.soql import dates

# Friday 15 March 2024; the week (Sunday start) is 10-16 March.
TODAY = dt.date(2024, 3, 15)
D = dt.date


@pytest.mark.parametrize(
    ("name", "n", "first", "last"),
    [
        ("TODAY", None, D(2024, 3, 15), D(2024, 3, 15)),
        ("YESTERDAY", None, D(2024, 3, 14), D(2024, 3, 14)),
        ("TOMORROW", None, D(2024, 3, 16), D(2024, 3, 16)),
        ("LAST_N_DAYS", 7, D(2024, 3, 8), D(2024, 3, 15)),
        ("NEXT_N_DAYS", 3, D(2024, 3, 16), D(2024, 3, 18)),
        ("N_DAYS_AGO", 15, D(2024, 2, 29), D(2024, 2, 29)),
        ("LAST_90_DAYS", None, D(2023, 12, 16), D(2024, 3, 15)),
        ("NEXT_90_DAYS", None, D(2024, 3, 16), D(2024, 6, 13)),
        ("THIS_WEEK", None, D(2024, 3, 10), D(2024, 3, 16)),
        ("LAST_WEEK", None, D(2024, 3, 3), D(2024, 3, 9)),
        ("NEXT_WEEK", None, D(2024, 3, 17), D(2024, 3, 23)),
        ("LAST_N_WEEKS", 2, D(2024, 2, 25), D(2024, 3, 9)),
        ("THIS_MONTH", None, D(2024, 3, 1), D(2024, 3, 31)),
        ("LAST_MONTH", None, D(2024, 2, 1), D(2024, 2, 29)),
        ("NEXT_MONTH", None, D(2024, 4, 1), D(2024, 4, 30)),
        ("LAST_N_MONTHS", 3, D(2023, 12, 1), D(2024, 2, 29)),
        ("NEXT_N_MONTHS", 10, D(2024, 4, 1), D(2025, 1, 31)),
        ("THIS_QUARTER", None, D(2024, 1, 1), D(2024, 3, 31)),
        ("NEXT_QUARTER", None, D(2024, 4, 1), D(2024, 6, 30)),
        ("LAST_QUARTER", None, D(2023, 10, 1), D(2023, 12, 31)),
        ("THIS_YEAR", None, D(2024, 1, 1), D(2024, 12, 31)),
        ("LAST_YEAR", None, D(2023, 1, 1), D(2023, 12, 31)),
        ("LAST_N_YEARS", 2, D(2022, 1, 1), D(2023, 12, 31)),
        ("N_YEARS_AGO", 1, D(2023, 1, 1), D(2023, 12, 31)),
    ],
)
def test_ranges(name: str, n: int | None, first: dt.date, last: dt.date) -> None:
    assert dates.date_range(name, n, TODAY) == dates.DateRange(first=first, last=last)


def test_week_starting_on_sunday_is_its_own_week() -> None:
    sunday = D(2024, 3, 10)
    assert dates.date_range("THIS_WEEK", None, sunday).first == sunday


@pytest.mark.parametrize(
    ("utc", "zone", "local"),
    [
        (dt.datetime(2024, 3, 15, 23, 30, tzinfo=dt.UTC), "Asia/Tokyo", D(2024, 3, 16)),
        (dt.datetime(2024, 3, 15, 3, 0, tzinfo=dt.UTC), "America/Los_Angeles", D(2024, 3, 14)),
        (dt.datetime(2024, 3, 15, 3, 0, tzinfo=dt.UTC), "UTC", D(2024, 3, 15)),
    ],
)
def test_local_today(utc: dt.datetime, zone: str, local: dt.date) -> None:
    assert dates.local_today(utc, ZoneInfo(zone)) == local


def test_datetime_range_starts_at_local_midnight() -> None:
    days = dates.DateRange(first=D(2024, 3, 15), last=D(2024, 3, 15))
    start, end = dates.to_datetime_range(days, ZoneInfo("Europe/Paris"))
    assert start == dt.datetime(2024, 3, 14, 23, 0, tzinfo=dt.UTC)
    assert end == dt.datetime(2024, 3, 15, 23, 0, tzinfo=dt.UTC)
