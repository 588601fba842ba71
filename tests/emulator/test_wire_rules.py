"""Pure rules of the wire layer: API limits, fault rules, latency and callout rules."""

from __future__ import annotations

import random
from typing import Any

import pytest

from sfemu.callouts import CalloutError, CalloutRule, parse_filter
from sfemu.events import WriteEvent
from sfemu.faults import FaultError, FaultSet, Latency
from sfemu.limits import ApiUsage
from sfemu.model import ApiError


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


# -- limits --------------------------------------------------------------------------------


def test_usage_counts_per_route_and_refuses_over_the_limit() -> None:
    usage = ApiUsage(limit=3, clock=Clock())
    usage.spend("GET sobjects/{sobject}/{id}")
    usage.spend("POST composite/batch", 2)
    assert usage.used() == 3
    assert usage.counters == {"GET sobjects/{sobject}/{id}": 1, "POST composite/batch": 2}
    with pytest.raises(ApiError) as caught:
        usage.check()
    assert caught.value.status == 403
    assert caught.value.body() == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert usage.snapshot().header() == "api-usage=3/3"


def test_usage_window_rolls_after_24_hours() -> None:
    clock = Clock()
    usage = ApiUsage(limit=10, clock=clock)
    usage.spend("GET limits", 4)
    clock.now += 12 * 3600
    usage.spend("GET limits", 1)
    assert usage.used() == 5
    clock.now += 12 * 3600 + 60
    assert usage.used() == 1
    assert usage.counters["GET limits"] == 5


def test_reset_counters_keeps_daily_usage() -> None:
    usage = ApiUsage(limit=10, clock=Clock())
    usage.spend("GET query", 2)
    usage.reset_counters()
    assert usage.counters == {}
    assert usage.used() == 2
    usage.reset_usage()
    assert usage.used() == 0


def test_limits_body_reports_remaining() -> None:
    usage = ApiUsage(limit=100, clock=Clock())
    usage.spend("GET query", 7)
    assert usage.limits_body()["DailyApiRequests"] == {"Max": 100, "Remaining": 93}


# -- faults --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "code", "fields"),
    [
        ("unavailable", 503, "SERVER_UNAVAILABLE", None),
        ("error", 500, "UNKNOWN_EXCEPTION", None),
        ("lock", 400, "UNABLE_TO_LOCK_ROW", []),
        ("limit", 403, "REQUEST_LIMIT_EXCEEDED", None),
        ("session", 401, "INVALID_SESSION_ID", None),
    ],
)
def test_fault_kinds_map_to_salesforce_errors(
    kind: str, status: int, code: str, fields: list[str] | None
) -> None:
    faults = FaultSet(clock=Clock())
    faults.add({"kind": kind})
    rule = faults.pick("GET", "/services/data/v59.0/sobjects/Case/500000000000001AAA")
    assert rule is not None
    error = rule.error("/services/data/v59.0/sobjects/Case/500000000000001AAA")
    assert (error.status, error.error_code, error.fields) == (status, code, fields)


def test_lock_fault_names_the_record_in_the_path() -> None:
    faults = FaultSet(clock=Clock())
    rule = faults.add({"kind": "lock"})
    message = rule.error("/services/data/v59.0/sobjects/Contact/003000000000001AAA").message
    assert message == (
        "unable to obtain exclusive access to this record or 1 records: 003000000000001AAA"
    )


@pytest.mark.parametrize(
    ("rule", "method", "path", "fires"),
    [
        ({"kind": "error", "path": "sobjects/Case"}, "GET", "/x/sobjects/Case/1", True),
        ({"kind": "error", "path": "sobjects/Case"}, "GET", "/x/sobjects/Lead/1", False),
        ({"kind": "error", "method": "post"}, "POST", "/x/query", True),
        ({"kind": "error", "method": "POST"}, "GET", "/x/query", False),
        ({"kind": "error", "path": "^/x/query$"}, "GET", "/x/query", True),
        ({"kind": "error", "probability": 0.0}, "GET", "/x", False),
        ({"kind": "error", "count": 0}, "GET", "/x", False),
    ],
)
def test_fault_matching(rule: dict[str, Any], method: str, path: str, fires: bool) -> None:
    faults = FaultSet(clock=Clock())
    faults.add(rule)
    assert (faults.pick(method, path) is not None) is fires


def test_fault_count_runs_out() -> None:
    faults = FaultSet(clock=Clock())
    faults.add({"kind": "unavailable", "count": 2})
    fired = [faults.pick("GET", "/x") is not None for _ in range(4)]
    assert fired == [True, True, False, False]
    assert faults.rules() == []


def test_fault_deadline_expires() -> None:
    clock = Clock()
    faults = FaultSet(clock=clock)
    faults.add({"kind": "unavailable", "seconds": 5})
    assert faults.pick("GET", "/x") is not None
    clock.now += 6
    assert faults.pick("GET", "/x") is None


def test_fault_probability_uses_the_random_source() -> None:
    faults = FaultSet(clock=Clock(), rng=random.Random(7))
    faults.add({"kind": "error", "probability": 0.5})
    hits = sum(faults.pick("GET", "/x") is not None for _ in range(1000))
    assert 400 < hits < 600


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "explode"},
        {"kind": "error", "probability": 1.5},
        {"kind": "error", "count": -1},
        {"kind": "error", "path": "("},
        {"path": "x"},
    ],
)
def test_bad_fault_rules_are_refused(rule: dict[str, Any]) -> None:
    with pytest.raises(FaultError):
        FaultSet().add(rule)


def test_fault_removal_by_id() -> None:
    faults = FaultSet()
    first = faults.add({"kind": "error"})
    faults.add({"kind": "lock"})
    assert faults.remove(first.id)
    assert not faults.remove(first.id)
    assert [r.kind for r in faults.rules()] == ["lock"]


@pytest.mark.parametrize(
    ("fixed", "jitter", "low", "high"),
    [(0, 0, 0.0, 0.0), (50, 0, 0.05, 0.05), (10, 20, 0.01, 0.03)],
)
def test_latency_range(fixed: float, jitter: float, low: float, high: float) -> None:
    latency = Latency(fixed_ms=fixed, jitter_ms=jitter)
    rng = random.Random(1)
    for _ in range(50):
        assert low <= latency.seconds(rng) <= high
    assert bool(latency) is (fixed > 0 or jitter > 0)


def test_negative_latency_is_refused() -> None:
    with pytest.raises(FaultError):
        Latency(fixed_ms=-1)


# -- callouts ------------------------------------------------------------------------------


def _event(kind: str, obj: str, new: dict[str, Any] | None, changed: set[str]) -> WriteEvent:
    return WriteEvent(
        kind=kind,  # type: ignore[arg-type]  # table rows use the literal kinds
        object_name=obj,
        record_id=(new or {}).get("Id", "500000000000001AAA"),
        changed_fields=frozenset(changed),
        old=None,
        new=new,
    )


@pytest.mark.parametrize(
    ("rule", "event", "fires"),
    [
        ({"object": "Case", "event": "insert"}, _event("insert", "Case", {"Id": "1"}, set()), True),
        (
            {"object": "case", "event": "insert"},
            _event("update", "Case", {"Id": "1"}, set()),
            False,
        ),
        ({"object": "Case", "event": "update"}, _event("update", "Case", {"Id": "1"}, set()), True),
        (
            {"object": "Case", "event": "change", "field": "Status"},
            _event("update", "Case", {"Id": "1"}, {"Status"}),
            True,
        ),
        (
            {"object": "Case", "event": "change", "field": "status"},
            _event("update", "Case", {"Id": "1"}, {"Subject"}),
            False,
        ),
        (
            {"object": "EmailMessage", "event": "insert", "filter": "Incoming = false"},
            _event("insert", "EmailMessage", {"Id": "2", "Incoming": False}, set()),
            True,
        ),
        (
            {"object": "EmailMessage", "event": "insert", "filter": {"Incoming": False}},
            _event("insert", "EmailMessage", {"Id": "2", "Incoming": True}, set()),
            False,
        ),
        (
            {"object": "Case", "event": "insert", "active": False},
            _event("insert", "Case", {"Id": "1"}, set()),
            False,
        ),
    ],
)
def test_callout_rule_matching(rule: dict[str, Any], event: WriteEvent, fires: bool) -> None:
    built = CalloutRule.from_dict({"url": "http://127.0.0.1:9/hook", **rule}, rule_id="c1")
    assert built.fires_on(event) is fires


@pytest.mark.parametrize(
    ("obj", "record", "url", "extra", "expected"),
    [
        ("Case", {"Id": "500A"}, "http://h/hook", {}, "http://h/hook?caseId=500A"),
        (
            "CaseComment",
            {"Id": "00aA", "ParentId": "500B"},
            "http://h/hook",
            {"event_param": "comment"},
            "http://h/hook?caseId=500B&event=comment",
        ),
        (
            "EmailMessage",
            {"Id": "02sA", "ParentId": "500C"},
            "http://h/hook?token=t",
            {"params": {"org": "x y"}},
            "http://h/hook?token=t&caseId=500C&org=x+y",
        ),
    ],
)
def test_callout_target_carries_the_case_id(
    obj: str, record: dict[str, Any], url: str, extra: dict[str, Any], expected: str
) -> None:
    rule = CalloutRule.from_dict({"object": obj, "url": url, **extra}, rule_id="c1")
    assert rule.target(_event("insert", obj, record, set())) == expected


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("Incoming = false", {"Incoming": False}),
        ("Status = 'Closed' AND IsEscalated = true", {"Status": "Closed", "IsEscalated": True}),
        ("Priority = High", {"Priority": "High"}),
        ("Count__c = 3", {"Count__c": 3}),
        ("ParentId = null", {"ParentId": None}),
    ],
)
def test_callout_filter_parsing(text: str, parsed: dict[str, Any]) -> None:
    assert parse_filter(text) == parsed


@pytest.mark.parametrize(
    "rule",
    [
        {"object": "Case", "url": "ftp://x/hook"},
        {"object": "Case", "url": "/relative"},
        {"object": "Case", "url": "http://h/x", "event": "change"},
        {"object": "Case", "url": "http://h/x", "event": "upsert"},
        {"url": "http://h/x"},
        {"object": "Case", "url": "http://h/x", "filter": "no equals sign"},
    ],
)
def test_bad_callout_rules_are_refused(rule: dict[str, Any]) -> None:
    with pytest.raises(CalloutError):
        CalloutRule.from_dict(rule, rule_id="c1")
