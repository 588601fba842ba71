"""When a failed call may be sent again, and how long to wait first.

Rules (a retry must never duplicate an effect):

- ``GET``, ``HEAD``, ``PUT``, ``DELETE`` and ``PATCH`` are idempotent in Salesforce's REST API
  (``PATCH`` is update-by-id or upsert-by-external-id): they are retried on 5xx,
  UNABLE_TO_LOCK_ROW, timeouts and dropped connections.
- ``POST`` (a create, composite, collections create) is retried only when the caller says
  ``idempotent=True`` (a read-only composite, a parameterized search, a retrieve by POST), or
  when the failure proves nothing happened: the connection could not even be opened
  (``TransportFailure.sent`` is false), or Salesforce answered UNABLE_TO_LOCK_ROW for the
  request as a whole (the DML was rolled back).
- A caller who needs a create to survive retries makes it idempotent: put our own key in an
  external-id field and use ``upsert_by_external_id`` / ``collections_upsert`` (PATCH), or
  look the key up first (``CallObject`` on Task) and create only when absent.

Backoff is exponential with full jitter: ``uniform(0, min(max_delay, base * 2**(n-1)))``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sfbridge.salesforce.errors import (
    RowLocked,
    SalesforceError,
    ServerUnavailable,
    TransportFailure,
)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})


@dataclass(frozen=True, kw_only=True, slots=True)
class RetryPolicy:
    """How many times to try and how long to wait between tries.

    Attributes:
        max_attempts: tries in total, the first included (1 = never retry).
        base_delay: seconds; the cap of the first backoff.
        max_delay: seconds; the cap of any backoff.
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0


def backoff_delay(policy: RetryPolicy, attempt: int, rng: random.Random) -> float:
    """Full-jitter delay before try ``attempt + 1``.

    Args:
        policy: the retry policy.
        attempt: the try that just failed (1-based).
        rng: the random source (seed it in tests).
    """
    cap = min(policy.max_delay, policy.base_delay * (2 ** max(attempt - 1, 0)))
    return rng.uniform(0.0, cap)


def is_transient(exc: SalesforceError) -> bool:
    """Whether the failure may go away by itself (5xx, lock, transport)."""
    return isinstance(exc, ServerUnavailable | RowLocked | TransportFailure)


def may_retry(exc: SalesforceError, *, method: str, idempotent: bool) -> bool:
    """Whether sending the same request again is safe and useful.

    Args:
        exc: the failure of the last try.
        method: the HTTP method.
        idempotent: the caller's promise that repeating the request cannot duplicate.
    """
    if not is_transient(exc):
        return False
    if idempotent or method.upper() in IDEMPOTENT_METHODS:
        return True
    if isinstance(exc, TransportFailure):
        return not exc.sent
    return isinstance(exc, RowLocked) and exc.status is not None and exc.status < 500
