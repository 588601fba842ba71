"""Office hours: open or closed at an instant, when it opens next, and what a handoff does.

Hours are wall-clock times in the office's IANA time zone, so "09:00-17:00" stays 09:00 to
17:00 local across daylight-saving changes. Intervals are ``[start, end)``; an ``end`` of
``00:00`` means midnight at the end of the day, so ``(00:00, 00:00)`` is the whole day.
Intervals do not cross midnight: split ``22:00-06:00`` into ``22:00-00:00`` and
``00:00-06:00`` of the next weekday. Holidays are local dates on which the office is
closed all day.

DST edges: an opening time that does not exist (inside the spring-forward gap) opens at the
end of the gap; in the repeated autumn hour, the wall clock decides (a 02:30 opening opens
at the first 02:30).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sfbridge.core.errors import CoreError

__all__ = [
    "ALWAYS",
    "HandoffTiming",
    "OfficeHours",
    "OutsideHoursPolicy",
    "is_open",
    "next_opening",
    "schedule_handoff",
]

#: The whole day, for ``weekly``: ``{day: ALWAYS for day in range(7)}`` is always open.
ALWAYS: tuple[tuple[time, time], ...] = ((time(0), time(0)),)

_MIDNIGHT = time(0)


class OutsideHoursPolicy(StrEnum):
    """What a handoff does while the office is closed."""

    HANDOFF_AND_ACK = "handoff_and_ack"  #: open the Case now, tell the contact when we reply
    HOLD_UNTIL_OPEN = "hold_until_open"  #: open the Case at the next opening time


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise CoreError(f"unknown time zone {name!r}", field="tz") from error


@dataclass(frozen=True, kw_only=True, slots=True)
class OfficeHours:
    """When a workspace's people are at work.

    Attributes:
        tz: an IANA zone name, e.g. ``"Europe/Berlin"``.
        weekly: weekday (0 = Monday ... 6 = Sunday) to ``(start, end)`` intervals; a
            missing weekday is closed.
        holidays: local dates closed all day.

    Raises:
        CoreError: unknown zone, weekday outside 0-6, an interval that ends before it starts
            or times carrying a tzinfo.
    """

    tz: str
    weekly: Mapping[int, Sequence[tuple[time, time]]]
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        _zone(self.tz)
        for day, intervals in self.weekly.items():
            if day not in range(7):
                raise CoreError(
                    f"weekday must be 0 (Monday) to 6 (Sunday), not {day}", field="weekly"
                )
            for start, end in intervals:
                if start.tzinfo is not None or end.tzinfo is not None:
                    raise CoreError("office hours are local times without tzinfo", field="weekly")
                if end != _MIDNIGHT and end <= start:
                    raise CoreError(
                        f"interval {start:%H:%M}-{end:%H:%M} ends before it starts; split intervals at midnight",
                        field="weekly",
                    )


@dataclass(frozen=True, kw_only=True, slots=True)
class HandoffTiming:
    """When to hand off and whether to send the out-of-hours acknowledgment."""

    at: datetime  #: when to create the Case
    send_ack: bool  #: tell the contact we are closed and when we reply
    open_now: bool  #: whether the office is open at the requested instant


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise CoreError("office hours need an aware datetime", field="at")


def _within(local_time: time, start: time, end: time) -> bool:
    return start <= local_time and (end == _MIDNIGHT or local_time < end)


def is_open(hours: OfficeHours, at: datetime) -> bool:
    """Say whether the office is open at the instant ``at`` (an aware datetime).

    Raises:
        CoreError: ``at`` is naive.
    """
    _require_aware(at)
    local = at.astimezone(_zone(hours.tz))
    if local.date() in hours.holidays:
        return False
    wall = local.time().replace(tzinfo=None, fold=0)
    return any(_within(wall, start, end) for start, end in hours.weekly.get(local.weekday(), ()))


def _first_instant(day: date, start: time, zone: ZoneInfo) -> datetime:
    """Return the first instant of ``day`` whose local wall time is at or after ``start``."""
    naive = datetime.combine(day, start)
    candidate = naive.replace(tzinfo=zone, fold=0)
    if candidate.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive:
        return candidate
    # ``start`` falls in a spring-forward gap: find the end of the gap.
    low, high = sorted(
        (naive.replace(tzinfo=zone, fold=1).astimezone(UTC), candidate.astimezone(UTC))
    )
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0).astimezone(zone)


def next_opening(hours: OfficeHours, at: datetime) -> datetime:
    """Return ``at`` if the office is open then, else the next instant it opens.

    The result is in the office's time zone.

    Raises:
        CoreError: ``at`` is naive, or the office never opens.
    """
    _require_aware(at)
    zone = _zone(hours.tz)
    if is_open(hours, at):
        return at.astimezone(zone)
    first_day = at.astimezone(zone).date()
    for offset in range(7 * (len(hours.holidays) + 1) + 1):
        day = first_day + timedelta(days=offset)
        if day in hours.holidays:
            continue
        for start, _end in sorted(hours.weekly.get(day.weekday(), ())):
            opening = _first_instant(day, start, zone)
            if opening > at and is_open(hours, opening):
                return opening
    raise CoreError("these office hours never open", field="weekly")


def schedule_handoff(
    hours: OfficeHours | None, policy: OutsideHoursPolicy, at: datetime
) -> HandoffTiming:
    """Decide when a handoff requested at ``at`` happens.

    Args:
        hours: the workspace's office hours; ``None`` means always open.
        policy: what to do while closed.
        at: when the handoff was requested (aware).

    Returns:
        Open: now, no acknowledgment. Closed with ``handoff_and_ack``: now, with the
        acknowledgment. Closed with ``hold_until_open``: at the next opening, no
        acknowledgment.
    """
    _require_aware(at)
    if hours is None or is_open(hours, at):
        return HandoffTiming(at=at, send_ack=False, open_now=True)
    if policy == OutsideHoursPolicy.HANDOFF_AND_ACK:
        return HandoffTiming(at=at, send_ack=True, open_now=False)
    return HandoffTiming(at=next_opening(hours, at), send_ack=False, open_now=False)
