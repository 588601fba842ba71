"""Relative date literals (TODAY, LAST_N_DAYS:n, THIS_MONTH ...) as inclusive date ranges.

A range is computed from the org clock in the user's time zone: ``TODAY`` for a user in
Europe/Paris at 23:30 UTC is already tomorrow's date. :func:`to_datetime_range` turns a date
range into the half-open UTC interval a dateTime field is compared with (ranges start at
local midnight). Weeks start on Sunday (the en_US locale); see ``WEEK_START``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sfemu.soql.errors import PositionedError, malformed
from sfemu.soql.nodes import Pos

#: First day of the week for THIS_WEEK & co. (``date.weekday()`` numbering; 6 = Sunday).
WEEK_START = 6

#: Literals without a parameter.
SIMPLE = frozenset(
    {
        "YESTERDAY",
        "TODAY",
        "TOMORROW",
        "LAST_WEEK",
        "THIS_WEEK",
        "NEXT_WEEK",
        "LAST_MONTH",
        "THIS_MONTH",
        "NEXT_MONTH",
        "LAST_90_DAYS",
        "NEXT_90_DAYS",
        "LAST_QUARTER",
        "THIS_QUARTER",
        "NEXT_QUARTER",
        "LAST_YEAR",
        "THIS_YEAR",
        "NEXT_YEAR",
    }
)
#: Literals that take ``:n``.
PARAMETERISED = frozenset(
    {
        "LAST_N_DAYS",
        "NEXT_N_DAYS",
        "N_DAYS_AGO",
        "LAST_N_WEEKS",
        "NEXT_N_WEEKS",
        "N_WEEKS_AGO",
        "LAST_N_MONTHS",
        "NEXT_N_MONTHS",
        "N_MONTHS_AGO",
        "LAST_N_QUARTERS",
        "NEXT_N_QUARTERS",
        "LAST_N_YEARS",
        "NEXT_N_YEARS",
        "N_YEARS_AGO",
    }
)


@dataclass(frozen=True, kw_only=True, slots=True)
class DateRange:
    """Inclusive range of calendar days."""

    first: dt.date
    last: dt.date


def check(name: str, n: int | None, pos: Pos) -> None:
    """Raise MALFORMED_QUERY unless ``name`` (upper case) with ``n`` is a known literal."""
    if name in SIMPLE and n is None:
        return
    if name in PARAMETERISED and n is not None:
        if n < 0:
            raise malformed(f"Invalid date literal: {name}:{n}", pos)
        return
    if name in PARAMETERISED or name in SIMPLE:
        raise malformed(f"Invalid date literal: {name}", pos)
    raise _unexpected(name, pos)


def _unexpected(name: str, pos: Pos) -> PositionedError:
    return malformed(f"unexpected token: {name}", pos)


def _month_start(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _quarter_start(day: dt.date, quarters: int) -> dt.date:
    first_month = (day.month - 1) // 3 * 3 + 1
    return _month_start(dt.date(day.year, first_month, 1), 3 * quarters)


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - WEEK_START) % 7)


def _span(start: dt.date, end_exclusive: dt.date) -> DateRange:
    return DateRange(first=start, last=end_exclusive - dt.timedelta(days=1))


def date_range(name: str, n: int | None, today: dt.date) -> DateRange:
    """The inclusive day range of a literal, relative to ``today`` (the user's local date)."""
    day = dt.timedelta(days=1)
    k = n or 0
    if name == "TODAY":
        return DateRange(first=today, last=today)
    if name == "YESTERDAY":
        return DateRange(first=today - day, last=today - day)
    if name == "TOMORROW":
        return DateRange(first=today + day, last=today + day)
    if name in {"LAST_N_DAYS", "LAST_90_DAYS"}:
        k = 90 if name == "LAST_90_DAYS" else k
        return DateRange(first=today - k * day, last=today)
    if name in {"NEXT_N_DAYS", "NEXT_90_DAYS"}:
        k = 90 if name == "NEXT_90_DAYS" else k
        return DateRange(first=today + day, last=today + k * day)
    if name == "N_DAYS_AGO":
        return DateRange(first=today - k * day, last=today - k * day)
    week = _week_start(today)
    weeks = {"LAST_WEEK": (-1, 1), "THIS_WEEK": (0, 1), "NEXT_WEEK": (1, 1)}
    weeks |= {"LAST_N_WEEKS": (-k, k), "NEXT_N_WEEKS": (1, k), "N_WEEKS_AGO": (-k, 1)}
    if name in weeks:
        offset, count = weeks[name]
        start = week + dt.timedelta(weeks=offset)
        return _span(start, start + dt.timedelta(weeks=count))
    months = {"LAST_MONTH": (-1, 1), "THIS_MONTH": (0, 1), "NEXT_MONTH": (1, 1)}
    months |= {"LAST_N_MONTHS": (-k, k), "NEXT_N_MONTHS": (1, k), "N_MONTHS_AGO": (-k, 1)}
    if name in months:
        offset, count = months[name]
        start = _month_start(today, offset)
        return _span(start, _month_start(start, count))
    quarters = {"LAST_QUARTER": (-1, 1), "THIS_QUARTER": (0, 1), "NEXT_QUARTER": (1, 1)}
    quarters |= {"LAST_N_QUARTERS": (-k, k), "NEXT_N_QUARTERS": (1, k)}
    if name in quarters:
        offset, count = quarters[name]
        start = _quarter_start(today, offset)
        return _span(start, _month_start(start, 3 * count))
    years = {"LAST_YEAR": (-1, 1), "THIS_YEAR": (0, 1), "NEXT_YEAR": (1, 1)}
    years |= {"LAST_N_YEARS": (-k, k), "NEXT_N_YEARS": (1, k), "N_YEARS_AGO": (-k, 1)}
    if name in years:
        offset, count = years[name]
        start = dt.date(today.year + offset, 1, 1)
        return _span(start, dt.date(start.year + count, 1, 1))
    raise ValueError(f"unknown date literal {name}")


def local_today(now: dt.datetime, tz: dt.tzinfo) -> dt.date:
    """The user's calendar date at the org's ``now``."""
    return now.astimezone(tz).date()


def to_datetime_range(days: DateRange, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """Half-open UTC interval ``[start, end)`` from local midnight of ``first`` to after ``last``."""
    start = dt.datetime.combine(days.first, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(days.last + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)
