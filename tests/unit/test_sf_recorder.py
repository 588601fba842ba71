"""Redaction of recorded paths: no personal data, no query values."""

from __future__ import annotations

import pytest

from sfbridge.salesforce.recorder import MemoryRecorder, RecordedCall, redact_path

V = "/services/data/v59.0"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (f"{V}/sobjects/Case/", f"{V}/sobjects/Case/"),
        (f"{V}/sobjects/Case/5005g00000AbCdEAAV", f"{V}/sobjects/Case/5005g00000AbCdEAAV"),
        (f"{V}/sobjects/Case/5005g00000AbCdE?fields=Subject", f"{V}/sobjects/Case/5005g00000AbCdE"),
        (
            f"{V}/sobjects/Contact/Email__c/ann%40example.com",
            f"{V}/sobjects/Contact/Email__c/<value>",
        ),
        (f"{V}/sobjects/Case/describe", f"{V}/sobjects/Case/describe"),
        (f"{V}/sobjects/Case/updated/?start=x&end=y", f"{V}/sobjects/Case/updated/"),
        (
            f"{V}/sobjects/User/005x00000012Q9PAAU/password",
            f"{V}/sobjects/User/005x00000012Q9PAAU/password",
        ),
        (
            f"{V}/query/?q=SELECT+Id+FROM+Contact+WHERE+Email='ann@example.com'",
            f"{V}/query/?q=<soql>",
        ),
        (f"{V}/queryAll/?q=SELECT+Id+FROM+Case", f"{V}/queryAll/?q=<soql>"),
        (f"{V}/query/01gB000003OCxSPIA1-2000", f"{V}/query/01gB000003OCxSPIA1-2000"),
        (f"{V}/search/?q=FIND+%7B4155551212%7D", f"{V}/search/?q=<sosl>"),
        (f"https://na1.my.salesforce.com{V}/limits/", f"{V}/limits/"),
        (f"{V}/composite/sobjects?ids=001,002&allOrNone=false", f"{V}/composite/sobjects"),
        (f"{V}/composite/sobjects/Case/Ext__c", f"{V}/composite/sobjects/Case/Ext__c"),
    ],
)
def test_redact_path(raw: str, expected: str) -> None:
    assert redact_path(raw) == expected


@pytest.mark.parametrize(
    ("path", "params", "expected"),
    [
        (f"{V}/query/", ["q"], f"{V}/query/?q=<soql>"),
        (f"{V}/search/", ["q"], f"{V}/search/?q=<sosl>"),
        (f"{V}/sobjects/Case/500000000000001", ["fields"], f"{V}/sobjects/Case/500000000000001"),
    ],
)
def test_redact_path_with_separate_params(path: str, params: list[str], expected: str) -> None:
    assert redact_path(path, params) == expected


def test_memory_recorder_keeps_calls() -> None:
    rec = MemoryRecorder()
    rec.record("GET", "/x", 200, 1.5, 1)
    rec.record("POST", "/y", None, 3.0, 2)
    assert rec.calls == [
        RecordedCall(method="GET", path="/x", status=200, duration_ms=1.5, attempts=1),
        RecordedCall(method="POST", path="/y", status=None, duration_ms=3.0, attempts=2),
    ]
