"""Office hours: open/closed, next opening across DST and holidays, handoff timing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from sfbridge.core.errors import CoreError
from sfbridge.core.office_hours import (
    ALWAYS,
    OfficeHours,
    OutsideHoursPolicy,
    is_open,
    next_opening,
    schedule_handoff,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_9_TO_5 = {day: [(time(9), time(17))] for day in range(5)}
HOURS = OfficeHours(
    tz="Europe/Berlin",
    weekly={**WEEKDAYS_9_TO_5, 5: [(time(10), time(12)), (time(14), time(16))]},
    holidays=frozenset({date(2026, 12, 25)}),
)


def berlin(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (berlin(2026, 11, 23, 9, 0), True),  # Monday 09:00 opens
        (berlin(2026, 11, 23, 8, 59), False),
        (berlin(2026, 11, 23, 16, 59), True),
        (berlin(2026, 11, 23, 17, 0), False),  # end is exclusive
        (berlin(2026, 11, 28, 11, 0), True),  # Saturday morning slot
        (berlin(2026, 11, 28, 13, 0), False),  # Saturday lunch gap
        (berlin(2026, 11, 29, 11, 0), False),  # Sunday closed
        (berlin(2026, 12, 25, 11, 0), False),  # holiday on a Friday
        (datetime(2026, 11, 23, 8, 30, tzinfo=UTC), True),  # 09:30 in Berlin (UTC+1)
        (datetime(2026, 11, 23, 16, 30, tzinfo=UTC), False),  # 17:30 in Berlin
        (datetime(2026, 7, 6, 7, 30, tzinfo=UTC), True),  # 09:30 in Berlin summer (UTC+2)
        (datetime(2026, 7, 6, 6, 30, tzinfo=UTC), False),  # 08:30 in Berlin summer
        (datetime(2026, 11, 23, 3, 30, tzinfo=NEW_YORK), True),  # 09:30 in Berlin
    ],
)
def test_is_open(at: datetime, expected: bool) -> None:
    assert is_open(HOURS, at) is expected


@pytest.mark.parametrize(
    ("at", "opening"),
    [
        (berlin(2026, 11, 23, 10, 0), berlin(2026, 11, 23, 10, 0)),  # open: now
        (berlin(2026, 11, 23, 7, 0), berlin(2026, 11, 23, 9, 0)),
        (berlin(2026, 11, 23, 18, 0), berlin(2026, 11, 24, 9, 0)),
        (berlin(2026, 11, 27, 18, 0), berlin(2026, 11, 28, 10, 0)),  # Friday evening -> Saturday
        (berlin(2026, 11, 28, 12, 30), berlin(2026, 11, 28, 14, 0)),  # lunch gap
        (berlin(2026, 11, 28, 17, 0), berlin(2026, 11, 30, 9, 0)),  # Saturday evening -> Monday
        (berlin(2026, 12, 24, 18, 0), berlin(2026, 12, 26, 10, 0)),  # over the holiday
        # Spring forward: Friday 27 March 2026 evening -> Monday 30 March, now UTC+2.
        (berlin(2026, 3, 27, 18, 0), datetime(2026, 3, 28, 10, 0, tzinfo=BERLIN)),
        (berlin(2026, 3, 28, 17, 0), datetime(2026, 3, 30, 7, 0, tzinfo=UTC)),
        # Fall back: Saturday 24 October 2026 -> Monday 26 October, now UTC+1.
        (berlin(2026, 10, 24, 17, 0), datetime(2026, 10, 26, 8, 0, tzinfo=UTC)),
    ],
)
def test_next_opening(at: datetime, opening: datetime) -> None:
    result = next_opening(HOURS, at)
    assert result == opening
    assert result.tzinfo == BERLIN
    assert is_open(HOURS, result)
    assert not is_open(HOURS, result - timedelta(seconds=1)) or result == at


def test_opening_inside_the_spring_forward_gap_opens_when_the_gap_ends() -> None:
    hours = OfficeHours(tz="Europe/Berlin", weekly={6: [(time(2, 30), time(5))]})
    # Sunday 29 March 2026: clocks jump from 02:00 to 03:00 (01:00 UTC).
    opening = next_opening(hours, berlin(2026, 3, 29, 0, 0))
    assert opening == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert opening.astimezone(BERLIN).hour == 3


def test_interval_that_only_exists_in_the_gap_is_skipped() -> None:
    hours = OfficeHours(tz="Europe/Berlin", weekly={6: [(time(2, 10), time(2, 40))]})
    opening = next_opening(hours, berlin(2026, 3, 29, 0, 0))
    assert opening == berlin(2026, 4, 5, 2, 10)


def test_repeated_autumn_hour_opens_at_the_first_occurrence() -> None:
    hours = OfficeHours(tz="Europe/Berlin", weekly={6: [(time(2, 30), time(4))]})
    # Sunday 25 October 2026: 02:00-03:00 happens twice; the first 02:30 is 00:30 UTC.
    opening = next_opening(hours, datetime(2026, 10, 25, 0, 0, tzinfo=UTC))
    # Aware datetimes in a fold never compare equal across zones (PEP 495): compare in UTC.
    assert opening.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert opening.utcoffset() == timedelta(hours=2)


def test_whole_day_and_midnight_end() -> None:
    always = OfficeHours(tz="UTC", weekly=dict.fromkeys(range(7), ALWAYS))
    assert is_open(always, datetime(2026, 1, 1, 23, 59, 59, tzinfo=UTC))
    assert is_open(always, datetime(2026, 1, 1, 0, 0, tzinfo=UTC))
    late = OfficeHours(tz="UTC", weekly={0: [(time(22), time(0))]})
    assert is_open(late, datetime(2026, 11, 23, 23, 59, tzinfo=UTC))
    assert not is_open(late, datetime(2026, 11, 24, 0, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"tz": "Mars/Olympus", "weekly": {}}, "tz"),
        ({"tz": "../etc/passwd", "weekly": {}}, "tz"),
        ({"tz": "UTC", "weekly": {7: [(time(9), time(17))]}}, "weekly"),
        ({"tz": "UTC", "weekly": {0: [(time(17), time(9))]}}, "weekly"),
        ({"tz": "UTC", "weekly": {0: [(time(9), time(9))]}}, "weekly"),
        ({"tz": "UTC", "weekly": {0: [(time(9, tzinfo=UTC), time(17))]}}, "weekly"),
    ],
)
def test_invalid_hours(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(CoreError) as caught:
        OfficeHours(**kwargs)  # type: ignore[arg-type]  # deliberately loose in this table
    assert caught.value.field == field


def test_naive_datetimes_and_closed_offices_are_refused() -> None:
    with pytest.raises(CoreError):
        is_open(HOURS, datetime(2026, 11, 23, 10, 0))
    never = OfficeHours(tz="UTC", weekly={})
    with pytest.raises(CoreError):
        next_opening(never, datetime(2026, 11, 23, tzinfo=UTC))
    only_holidays = OfficeHours(
        tz="UTC",
        weekly={0: [(time(9), time(17))]},
        holidays=frozenset(date(2026, 11, 23) + timedelta(weeks=w) for w in range(3)),
    )
    assert next_opening(only_holidays, datetime(2026, 11, 23, tzinfo=UTC)) == datetime(
        2026, 12, 14, 9, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("hours", "policy", "at", "when", "ack", "open_now"),
    [
        (
            HOURS,
            OutsideHoursPolicy.HANDOFF_AND_ACK,
            berlin(2026, 11, 23, 10, 0),
            berlin(2026, 11, 23, 10, 0),
            False,
            True,
        ),
        (
            HOURS,
            OutsideHoursPolicy.HOLD_UNTIL_OPEN,
            berlin(2026, 11, 23, 10, 0),
            berlin(2026, 11, 23, 10, 0),
            False,
            True,
        ),
        (
            HOURS,
            OutsideHoursPolicy.HANDOFF_AND_ACK,
            berlin(2026, 11, 23, 20, 0),
            berlin(2026, 11, 23, 20, 0),
            True,
            False,
        ),
        (
            HOURS,
            OutsideHoursPolicy.HOLD_UNTIL_OPEN,
            berlin(2026, 11, 23, 20, 0),
            berlin(2026, 11, 24, 9, 0),
            False,
            False,
        ),
        (
            None,
            OutsideHoursPolicy.HOLD_UNTIL_OPEN,
            berlin(2026, 11, 23, 20, 0),
            berlin(2026, 11, 23, 20, 0),
            False,
            True,
        ),
    ],
)
def test_schedule_handoff(
    hours: OfficeHours | None,
    policy: OutsideHoursPolicy,
    at: datetime,
    when: datetime,
    ack: bool,
    open_now: bool,
) -> None:
    timing = schedule_handoff(hours, policy, at)
    assert (timing.at, timing.send_ack, timing.open_now) == (when, ack, open_now)
