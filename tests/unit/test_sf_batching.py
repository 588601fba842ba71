"""Composite planning and result mapping; collections chunking and result mapping."""

from __future__ import annotations

from typing import Any

import pytest

from sfbridge.salesforce.batching import (
    RecordResult,
    Subrequest,
    SubResult,
    chunked,
    collection_records,
    composite_payload,
    parse_collection_results,
    parse_composite,
    plan_composite,
    references,
)
from sfbridge.salesforce.errors import RowLocked, UnexpectedResponse, ValidationFailed


def _sub(
    ref: str, *, url: str = "sobjects/Task", method: str = "POST", body: Any = None
) -> Subrequest:
    return Subrequest(method=method, url=url, reference_id=ref, body=body)


def _independent(n: int) -> list[Subrequest]:
    return [_sub(f"r{i}", body={"Subject": str(i)}) for i in range(n)]


@pytest.mark.parametrize(
    ("n", "size", "expected"),
    [
        (0, 200, []),
        (1, 200, [1]),
        (200, 200, [200]),
        (201, 200, [200, 1]),
        (450, 200, [200, 200, 50]),
    ],
)
def test_chunked(n: int, size: int, expected: list[int]) -> None:
    assert [len(c) for c in chunked(list(range(n)), size)] == expected


def test_chunked_rejects_zero() -> None:
    with pytest.raises(ValueError):
        chunked([1], 0)


@pytest.mark.parametrize(("n", "sizes"), [(0, []), (25, [25]), (26, [25, 1]), (60, [25, 25, 10])])
def test_plan_independent(n: int, sizes: list[int]) -> None:
    assert [len(c) for c in plan_composite(_independent(n))] == sizes


def test_references_found_in_url_and_body() -> None:
    sub = _sub("c", url="sobjects/Case/@{a.id}", body={"WhoId": "@{b.records[0].Id}", "X": "@{c}"})
    assert references(sub) == {"a", "b", "c"}


def test_plan_keeps_dependent_subrequests_together() -> None:
    subs = _independent(24)
    subs.append(_sub("acct", url="sobjects/Account", body={"Name": "A"}))
    subs.append(_sub("contact", url="sobjects/Contact", body={"AccountId": "@{acct.id}"}))
    plan = plan_composite(subs)
    assert [len(c) for c in plan] == [24, 2]
    assert [s.reference_id for s in plan[1]] == ["acct", "contact"]


def test_plan_limits_query_operations_per_call() -> None:
    subs = [_sub(f"q{i}", method="GET", url="query/?q=SELECT+Id+FROM+Case") for i in range(7)]
    subs += [_sub("c", url="composite/sobjects"), _sub("t", url="sobjects/Task")]
    assert [len(c) for c in plan_composite(subs)] == [5, 4]


@pytest.mark.parametrize(
    ("subs", "message"),
    [
        ([_sub("a"), _sub("a")], "duplicate"),
        ([_sub("a", body={"X": "@{b.id}"}), _sub("b")], "not an earlier"),
        ([_sub("a", body={"X": "@{zzz.id}"})], "not an earlier"),
        (
            [_sub("r0")] + [_sub(f"r{i}", body={"P": f"@{{r{i - 1}.id}}"}) for i in range(1, 26)],
            "chain",
        ),
    ],
)
def test_plan_refuses_impossible(subs: list[Subrequest], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_composite(subs)


def test_composite_payload_prefixes_relative_urls() -> None:
    subs = [
        _sub("a", url="sobjects/Account", body={"Name": "A"}),
        Subrequest(
            method="get", url="/services/data/v58.0/limits", reference_id="b", headers={"X": "1"}
        ),
    ]
    payload = composite_payload(subs, data_root="/services/data/v59.0", all_or_none=True)
    assert payload == {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "a",
                "body": {"Name": "A"},
            },
            {
                "method": "GET",
                "url": "/services/data/v58.0/limits",
                "referenceId": "b",
                "httpHeaders": {"X": "1"},
            },
        ],
    }


def test_parse_composite_maps_by_reference_in_caller_order() -> None:
    subs = [_sub("a"), _sub("b")]
    body = {
        "compositeResponse": [
            {
                "referenceId": "b",
                "httpStatusCode": 400,
                "httpHeaders": {},
                "body": [{"errorCode": "PROCESSING_HALTED", "message": "m"}],
            },
            {
                "referenceId": "a",
                "httpStatusCode": 201,
                "httpHeaders": {"Location": "/x"},
                "body": {"id": "001"},
            },
        ]
    }
    results = parse_composite(subs, body)
    assert [r.reference_id for r in results] == ["a", "b"]
    assert results[0].ok and results[0].error() is None and results[0].headers == {"Location": "/x"}
    err = results[1].error()
    assert isinstance(err, ValidationFailed) and err.error_code == "PROCESSING_HALTED"


@pytest.mark.parametrize("body", [None, [], {"compositeResponse": [{"referenceId": "x"}]}])
def test_parse_composite_refuses_incomplete(body: Any) -> None:
    with pytest.raises(UnexpectedResponse):
        parse_composite([_sub("a")], body)


def test_sub_result_error_types() -> None:
    locked = SubResult(
        reference_id="a", status=400, body=[{"errorCode": "UNABLE_TO_LOCK_ROW", "message": "m"}]
    )
    assert isinstance(locked.error(), RowLocked)


def test_collection_records_add_type_without_mutating_input() -> None:
    records: list[dict[str, Any]] = [
        {"Subject": "a"},
        {"attributes": {"type": "Event"}, "Subject": "b"},
    ]
    out = collection_records("Task", records)
    assert out == [
        {"Subject": "a", "attributes": {"type": "Task"}},
        {"attributes": {"type": "Event"}, "Subject": "b"},
    ]
    assert "attributes" not in records[0]


def test_parse_collection_results_maps_by_position_with_offset() -> None:
    body = [
        {"id": "00T1", "success": True, "errors": []},
        {
            "success": False,
            "errors": [
                {"statusCode": "REQUIRED_FIELD_MISSING", "message": "m", "fields": ["Subject"]}
            ],
        },
        {"id": "00T3", "success": True, "errors": [], "created": True},
    ]
    results = parse_collection_results(body, offset=200, expected=3)
    assert results[0] == RecordResult(index=200, id="00T1", success=True)
    assert results[1].index == 201 and results[1].id is None and not results[1].success
    err = results[1].error()
    assert isinstance(err, ValidationFailed) and err.fields == ["Subject"]
    assert results[2].created is True and results[2].error() is None


@pytest.mark.parametrize("body", [None, {}, [{"success": True}]])
def test_parse_collection_results_refuses_wrong_count(body: Any) -> None:
    with pytest.raises(UnexpectedResponse):
        parse_collection_results(body, offset=0, expected=2)
