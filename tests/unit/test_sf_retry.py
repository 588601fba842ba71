"""Which failures are retried, for which methods, and the backoff delays."""

from __future__ import annotations

import random

import pytest

from sfbridge.salesforce.errors import (
    LimitExceeded,
    NotFound,
    RowLocked,
    SalesforceError,
    ServerUnavailable,
    SessionExpired,
    TransportFailure,
    ValidationFailed,
)
from sfbridge.salesforce.retry import RetryPolicy, backoff_delay, may_retry

S503 = ServerUnavailable("x", status=503)
S500_LOCK = RowLocked("x", status=500)
LOCK = RowLocked("x", status=400)
TIMEOUT = TransportFailure("x", sent=True)
REFUSED = TransportFailure("x", sent=False)


@pytest.mark.parametrize(
    ("exc", "method", "idempotent", "expected"),
    [
        (S503, "GET", False, True),
        (S503, "PATCH", False, True),
        (S503, "DELETE", False, True),
        (S503, "POST", False, False),  # a create may have committed
        (S503, "POST", True, True),
        (TIMEOUT, "GET", False, True),
        (TIMEOUT, "POST", False, False),
        (TIMEOUT, "POST", True, True),
        (REFUSED, "POST", False, True),  # never left: cannot duplicate
        (LOCK, "POST", False, True),  # the DML was rolled back
        (S500_LOCK, "POST", False, False),
        (LOCK, "PATCH", False, True),
        (ValidationFailed("x", status=400), "GET", True, False),
        (NotFound("x", status=404), "GET", False, False),
        (SessionExpired("x", status=401), "GET", False, False),
        (LimitExceeded("x", status=403), "GET", True, False),
    ],
)
def test_may_retry(exc: SalesforceError, method: str, idempotent: bool, expected: bool) -> None:
    assert may_retry(exc, method=method, idempotent=idempotent) is expected


@pytest.mark.parametrize(
    ("attempt", "cap"),
    [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (6, 16.0), (7, 20.0), (30, 20.0)],
)
def test_backoff_is_full_jitter_under_an_exponential_cap(attempt: int, cap: float) -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=20.0)
    rng = random.Random(7)
    delays = [backoff_delay(policy, attempt, rng) for _ in range(400)]
    assert all(0.0 <= d <= cap for d in delays)
    assert max(delays) > cap * 0.9  # full jitter reaches the cap ...
    assert min(delays) < cap * 0.1  # ... and near zero
