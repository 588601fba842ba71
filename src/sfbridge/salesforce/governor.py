"""The API-budget governor: keep every org inside its daily API allocation.

It reads ``Sforce-Limit-Info`` from every response (per org), and before each call decides:

- **paused** (after a 403 REQUEST_LIMIT_EXCEEDED, until ``policy.pause_until(now)``, by default
  the next full hour): non-urgent calls raise :class:`BudgetPaused` without touching the
  network; one urgent call per ``urgent_probe_interval`` (default a minute) may try; a response
  showing usage below the maximum lifts the pause early.
- **above the threshold** (default 90 % of the org's or the app's allocation): deferrable calls
  raise :class:`BudgetDeferred` (``retry_at`` = now + ``defer_for``); normal calls are deferred
  only above ``normal_threshold`` (98 %), leaving the last slice for urgent calls, which go.
- a usage figure older than ``defer_for`` is stale (the window rolls): one call is let through
  as a probe to refresh it, so deferred work cannot starve forever.

Pure logic: every method takes ``now``. State lives in this process; each process learns an
org's usage from its own responses (every response carries the header), so they converge fast.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass

from sfbridge.salesforce.errors import BudgetDeferred, BudgetPaused
from sfbridge.salesforce.limits_header import ApiUsage


class Priority(enum.Enum):
    """How much a call matters when the budget runs low."""

    #: A customer is waiting (a reply, an agent's lookup): goes even above the threshold.
    URGENT = "urgent"
    #: Ordinary work: deferred only when almost nothing is left.
    NORMAL = "normal"
    #: Work that can wait hours (activity logging backfill, sweeps): deferred first.
    DEFERRABLE = "deferrable"


def next_hour(now: dt.datetime) -> dt.datetime:
    """The next full hour after ``now`` (the default pause end)."""
    return (now + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True, kw_only=True, slots=True)
class GovernorPolicy:
    """Thresholds and durations of the governor (all configurable)."""

    defer_threshold: float = 0.90
    normal_threshold: float = 0.98
    defer_for: dt.timedelta = dt.timedelta(minutes=15)
    pause_until: Callable[[dt.datetime], dt.datetime] = next_hour
    urgent_probe_interval: dt.timedelta = dt.timedelta(minutes=1)


@dataclass(kw_only=True, slots=True)
class _OrgState:
    usage: ApiUsage | None = None
    observed_at: dt.datetime | None = None
    paused_until: dt.datetime | None = None
    last_urgent_probe: dt.datetime | None = None


class Governor:
    """Per-org API budget keeper, shared by every client in the process.

    Args:
        policy: thresholds and durations.
    """

    def __init__(self, policy: GovernorPolicy | None = None) -> None:
        self.policy = policy or GovernorPolicy()
        self._orgs: dict[str, _OrgState] = {}

    def _state(self, org: str) -> _OrgState:
        return self._orgs.setdefault(org, _OrgState())

    def admit(self, org: str, priority: Priority, now: dt.datetime) -> None:
        """Decide whether a call may be sent now.

        Args:
            org: the org key (org id).
            priority: the call's priority.
            now: current time.

        Raises:
            BudgetPaused: the org is paused and this call may not probe.
            BudgetDeferred: usage is above the threshold for this priority.
        """
        st = self._state(org)
        if st.paused_until is not None:
            if now < st.paused_until:
                self._admit_while_paused(st, priority, now)
                return
            st.paused_until = None
        if priority is Priority.URGENT or st.usage is None:
            return
        limit = (
            self.policy.defer_threshold
            if priority is Priority.DEFERRABLE
            else self.policy.normal_threshold
        )
        if st.usage.fraction < limit:
            return
        if st.observed_at is None or now - st.observed_at >= self.policy.defer_for:
            st.observed_at = now  # stale figure: this call probes; the others wait for it
            return
        retry_at = st.observed_at + self.policy.defer_for
        raise BudgetDeferred(
            f"API usage {st.usage.used}/{st.usage.max} is above {limit:.0%}; "
            f"{priority.value} work waits until {retry_at.isoformat()}",
            retry_at=retry_at,
        )

    def _admit_while_paused(self, st: _OrgState, priority: Priority, now: dt.datetime) -> None:
        assert st.paused_until is not None
        interval = self.policy.urgent_probe_interval
        if priority is Priority.URGENT:
            if st.last_urgent_probe is None or now - st.last_urgent_probe >= interval:
                st.last_urgent_probe = now
                return
            retry_at = min(st.last_urgent_probe + interval, st.paused_until)
        else:
            retry_at = st.paused_until
        raise BudgetPaused(
            f"the org's API limit was exceeded; calls are paused until {st.paused_until.isoformat()}",
            retry_at=retry_at,
        )

    def usage_ratios(self) -> dict[str, float]:
        """The last daily API usage seen per org, as a fraction of the allocation."""
        return {org: st.usage.fraction for org, st in self._orgs.items() if st.usage is not None}

    def observe(self, org: str, usage: ApiUsage | None, now: dt.datetime) -> None:
        """Record the usage a response reported (``None``: the header was absent).

        A figure below the maximum lifts a pause: the allocation has room again.
        """
        if usage is None:
            return
        st = self._state(org)
        st.usage = usage
        st.observed_at = now
        if st.paused_until is not None and usage.used < usage.max:
            st.paused_until = None

    def limit_exceeded(self, org: str, now: dt.datetime) -> dt.datetime:
        """Pause the org after a 403 REQUEST_LIMIT_EXCEEDED.

        Returns:
            When the pause ends.
        """
        st = self._state(org)
        st.paused_until = self.policy.pause_until(now)
        st.last_urgent_probe = now
        return st.paused_until

    def usage(self, org: str) -> ApiUsage | None:
        """The last usage reported for ``org``."""
        st = self._orgs.get(org)
        return st.usage if st else None

    def paused_until(self, org: str, now: dt.datetime) -> dt.datetime | None:
        """When the org's pause ends, or ``None`` when it is not paused at ``now``."""
        st = self._orgs.get(org)
        if st is None or st.paused_until is None or now >= st.paused_until:
            return None
        return st.paused_until

    def snapshot(self) -> dict[str, ApiUsage]:
        """Last known usage of every org (for metrics)."""
        return {org: st.usage for org, st in self._orgs.items() if st.usage is not None}
