"""Parsing Sforce-Limit-Info."""

from __future__ import annotations

import pytest

from sfbridge.salesforce.limits_header import ApiUsage, parse_limit_info


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("garbage", None),
        ("per-app-api-usage=17/250(appName=x)", None),
        ("api-usage=25/5000", ApiUsage(used=25, max=5000)),
        (
            "api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)",
            ApiUsage(used=25, max=5000, app_used=17, app_max=250, app_name="sample-connected-app"),
        ),
    ],
)
def test_parse(header: str | None, expected: ApiUsage | None) -> None:
    assert parse_limit_info(header) == expected


@pytest.mark.parametrize(
    ("usage", "fraction"),
    [
        (ApiUsage(used=0, max=100), 0.0),
        (ApiUsage(used=90, max=100), 0.9),
        (ApiUsage(used=10, max=100, app_used=240, app_max=250), 0.96),
        (ApiUsage(used=95, max=100, app_used=1, app_max=250), 0.95),
        (ApiUsage(used=0, max=0), 1.0),
    ],
)
def test_fraction_is_the_tighter_of_org_and_app(usage: ApiUsage, fraction: float) -> None:
    assert usage.fraction == pytest.approx(fraction)
