"""API request accounting for one org: the daily allocation and per-route counters.

Salesforce counts API requests over a rolling 24 hours and refuses calls above the org's
allocation with ``403 REQUEST_LIMIT_EXCEEDED`` (reference 7.1). A composite or sObject
Collections call costs one request; ``composite/batch`` costs one per subrequest.

Counters are kept by ``METHOD route-template`` (``GET sobjects/{sobject}/{id}``) so that a
benchmark can say exactly how many calls of which kind a run cost.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sfemu.model import ApiError

#: Developer Edition allocation (reference 7.1).
DEFAULT_DAILY_LIMIT = 15_000
WINDOW_SECONDS = 24 * 3600
_BUCKET_SECONDS = 60


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageSnapshot:
    """The daily allocation as seen at one instant."""

    used: int
    limit: int

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def header(self) -> str:
        """The ``Sforce-Limit-Info`` header value, ``api-usage=N/M``."""
        return f"api-usage={self.used}/{self.limit}"


def limit_exceeded() -> ApiError:
    """The error Salesforce answers once the daily allocation is used up."""
    return ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")


class ApiUsage:
    """Rolling-24-hour request count plus per-route counters for one org.

    The window is kept as one-minute buckets, so each call is O(1) amortised.

    Args:
        limit: daily allocation (requests per rolling 24 hours).
        clock: seconds since the epoch; injectable for tests.
    """

    def __init__(
        self, *, limit: int = DEFAULT_DAILY_LIMIT, clock: Callable[[], float] = time.time
    ) -> None:
        self.limit = limit
        self._clock = clock
        self._buckets: deque[list[int]] = deque()  # [minute, count]
        self._used = 0
        self.counters: dict[str, int] = {}
        self.statuses: dict[str, int] = {}

    def _prune(self, minute: int) -> None:
        oldest = minute - WINDOW_SECONDS // _BUCKET_SECONDS
        buckets = self._buckets
        while buckets and buckets[0][0] <= oldest:
            self._used -= buckets.popleft()[1]

    def used(self) -> int:
        """Requests counted in the last 24 hours."""
        self._prune(int(self._clock()) // _BUCKET_SECONDS)
        return self._used

    def snapshot(self) -> UsageSnapshot:
        return UsageSnapshot(used=self.used(), limit=self.limit)

    def check(self, cost: int = 1) -> None:
        """Raise ``REQUEST_LIMIT_EXCEEDED`` when ``cost`` more requests would pass the limit.

        Args:
            cost: requests the call is about to spend.

        Raises:
            ApiError: 403 ``REQUEST_LIMIT_EXCEEDED``.
        """
        if self.used() + cost > self.limit:
            raise limit_exceeded()

    def spend(self, route: str, cost: int = 1) -> None:
        """Count ``cost`` requests against the allocation and the ``route`` counter."""
        minute = int(self._clock()) // _BUCKET_SECONDS
        buckets = self._buckets
        if buckets and buckets[-1][0] == minute:
            buckets[-1][1] += cost
        else:
            buckets.append([minute, cost])
        self._used += cost
        self.counters[route] = self.counters.get(route, 0) + cost

    def record_status(self, route: str, status: int) -> None:
        """Count a response status per route (``GET query 200``), for diagnostics."""
        key = f"{route} {status}"
        self.statuses[key] = self.statuses.get(key, 0) + 1

    def reset_counters(self) -> None:
        """Forget per-route counters (the daily usage is kept)."""
        self.counters.clear()
        self.statuses.clear()

    def reset_usage(self) -> None:
        """Forget the daily usage (as if 24 hours had passed)."""
        self._buckets.clear()
        self._used = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "used": self.used(),
            "remaining": max(self.limit - self._used, 0),
            "total": sum(self.counters.values()),
            "counters": dict(sorted(self.counters.items())),
            "statuses": dict(sorted(self.statuses.items())),
        }

    def limits_body(self) -> dict[str, dict[str, int]]:
        """The ``GET limits/`` body (reference 2.12)."""
        used = self.used()
        return {
            "DailyApiRequests": {"Max": self.limit, "Remaining": max(self.limit - used, 0)},
            "DailyBulkApiRequests": {"Max": 5000, "Remaining": 5000},
            "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
            "DailyDurableStreamingApiEvents": {"Max": 10000, "Remaining": 10000},
            "DataStorageMB": {"Max": 5, "Remaining": 5},
            "FileStorageMB": {"Max": 20, "Remaining": 20},
            "SingleEmail": {"Max": 15, "Remaining": 15},
        }
