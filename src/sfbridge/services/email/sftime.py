"""Times on the Salesforce wire: SOQL cursors and the datetimes records carry."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any


def soql_time(at: dt.datetime) -> dt.datetime:
    """A cursor time floored to the second (SOQL datetimes have no fractions)."""
    return at.astimezone(dt.UTC).replace(microsecond=0)


def parse_sf_datetime(value: Any) -> dt.datetime | None:
    """Parse ``2026-11-21T05:35:30.000+0000`` (or ``Z``/``+00:00``) into an aware time."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", text):
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
