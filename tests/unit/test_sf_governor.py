"""The API-budget governor: thresholds, deferral, pause on 403, urgent probes."""

from __future__ import annotations

import datetime as dt

import pytest

from sfbridge.salesforce.errors import BudgetDeferred, BudgetPaused
from sfbridge.salesforce.governor import Governor, GovernorPolicy, Priority, next_hour
from sfbridge.salesforce.limits_header import ApiUsage

T0 = dt.datetime(2024, 3, 1, 10, 20, 0, tzinfo=dt.UTC)
ORG = "00D000000000001AAA"
U, N, D = Priority.URGENT, Priority.NORMAL, Priority.DEFERRABLE


def _admitted(gov: Governor, priority: Priority, now: dt.datetime) -> str:
    try:
        gov.admit(ORG, priority, now)
    except BudgetDeferred:
        return "deferred"
    except BudgetPaused:
        return "paused"
    return "go"


@pytest.mark.parametrize(
    ("used", "priority", "outcome"),
    [
        (None, D, "go"),
        (0, D, "go"),
        (899, D, "go"),
        (900, D, "deferred"),
        (999, D, "deferred"),
        (900, N, "go"),
        (979, N, "go"),
        (980, N, "deferred"),
        (1000, N, "deferred"),
        (980, U, "go"),
        (1000, U, "go"),
        (1500, U, "go"),
    ],
)
def test_thresholds(used: int | None, priority: Priority, outcome: str) -> None:
    gov = Governor()
    if used is not None:
        gov.observe(ORG, ApiUsage(used=used, max=1000), T0)
    assert _admitted(gov, priority, T0 + dt.timedelta(seconds=1)) == outcome


def test_deferred_carries_retry_at_and_other_orgs_are_untouched() -> None:
    gov = Governor()
    gov.observe(ORG, ApiUsage(used=950, max=1000), T0)
    with pytest.raises(BudgetDeferred) as info:
        gov.admit(ORG, D, T0 + dt.timedelta(minutes=1))
    assert info.value.retry_at == T0 + dt.timedelta(minutes=15)
    gov.admit("00D000000000002AAA", D, T0)  # another org has its own budget


def test_custom_threshold() -> None:
    gov = Governor(GovernorPolicy(defer_threshold=0.5))
    gov.observe(ORG, ApiUsage(used=50, max=100), T0)
    assert _admitted(gov, D, T0) == "deferred"
    assert _admitted(gov, N, T0) == "go"


def test_stale_usage_lets_one_probe_through() -> None:
    gov = Governor()
    gov.observe(ORG, ApiUsage(used=950, max=1000), T0)
    later = T0 + dt.timedelta(minutes=15)
    assert _admitted(gov, D, later) == "go"  # the probe
    assert _admitted(gov, D, later) == "deferred"  # the rest wait for its answer
    gov.observe(ORG, ApiUsage(used=500, max=1000), later)
    assert _admitted(gov, D, later) == "go"


def test_per_app_usage_counts() -> None:
    gov = Governor()
    gov.observe(ORG, ApiUsage(used=1, max=1000, app_used=95, app_max=100), T0)
    assert _admitted(gov, D, T0) == "deferred"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (T0, dt.datetime(2024, 3, 1, 11, 0, tzinfo=dt.UTC)),
        (
            dt.datetime(2024, 3, 1, 23, 59, 59, tzinfo=dt.UTC),
            dt.datetime(2024, 3, 2, 0, 0, tzinfo=dt.UTC),
        ),
        (
            dt.datetime(2024, 3, 1, 11, 0, 0, tzinfo=dt.UTC),
            dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC),
        ),
    ],
)
def test_next_hour(now: dt.datetime, expected: dt.datetime) -> None:
    assert next_hour(now) == expected


def test_pause_blocks_non_urgent_until_the_end() -> None:
    gov = Governor()
    until = gov.limit_exceeded(ORG, T0)
    assert until == dt.datetime(2024, 3, 1, 11, 0, tzinfo=dt.UTC)
    assert gov.paused_until(ORG, T0) == until
    for priority in (N, D):
        with pytest.raises(BudgetPaused) as info:
            gov.admit(ORG, priority, T0 + dt.timedelta(minutes=5))
        assert info.value.retry_at == until
    assert _admitted(gov, N, until) == "go"
    assert gov.paused_until(ORG, until) is None


@pytest.mark.parametrize(
    ("offsets_s", "outcomes"),
    [
        ([0], ["paused"]),  # the 403 itself counts as the probe of this minute
        ([30, 59], ["paused", "paused"]),
        ([60, 61, 119, 120], ["go", "paused", "paused", "go"]),
        ([200, 200], ["go", "paused"]),
    ],
)
def test_urgent_probes_at_most_once_a_minute(offsets_s: list[int], outcomes: list[str]) -> None:
    gov = Governor()
    gov.limit_exceeded(ORG, T0)
    got = [_admitted(gov, U, T0 + dt.timedelta(seconds=s)) for s in offsets_s]
    assert got == outcomes


def test_urgent_paused_retry_at_is_next_probe_slot() -> None:
    gov = Governor()
    gov.limit_exceeded(ORG, T0)
    with pytest.raises(BudgetPaused) as info:
        gov.admit(ORG, U, T0 + dt.timedelta(seconds=10))
    assert info.value.retry_at == T0 + dt.timedelta(minutes=1)


def test_room_reported_lifts_the_pause() -> None:
    gov = Governor()
    gov.limit_exceeded(ORG, T0)
    gov.observe(ORG, ApiUsage(used=1000, max=1000), T0)
    assert _admitted(gov, N, T0) == "paused"
    gov.observe(ORG, ApiUsage(used=10, max=1000), T0 + dt.timedelta(minutes=2))
    assert _admitted(gov, N, T0 + dt.timedelta(minutes=2)) == "go"


def test_custom_pause_policy_and_snapshot() -> None:
    gov = Governor(GovernorPolicy(pause_until=lambda now: now + dt.timedelta(minutes=5)))
    assert gov.limit_exceeded(ORG, T0) == T0 + dt.timedelta(minutes=5)
    assert gov.snapshot() == {}
    gov.observe(ORG, ApiUsage(used=3, max=10), T0)
    gov.observe(ORG, None, T0)  # a response without the header changes nothing
    assert gov.snapshot() == {ORG: ApiUsage(used=3, max=10)}
    assert gov.usage(ORG) == ApiUsage(used=3, max=10)
