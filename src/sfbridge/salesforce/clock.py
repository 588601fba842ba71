"""The clock the client reads: injectable so tests can move time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

#: Returns the current time as an aware UTC datetime.
Clock = Callable[[], dt.datetime]

#: Sleeps for the given number of seconds (``asyncio.sleep`` in production).
Sleeper = Callable[[float], Awaitable[None]]


def system_clock() -> dt.datetime:
    """Return the current UTC time (the production :data:`Clock`)."""
    return dt.datetime.now(dt.UTC)
