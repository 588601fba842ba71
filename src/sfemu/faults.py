"""Fault injection and latency for one org, set through the control plane.

A :class:`FaultRule` fires on requests whose path matches a regular expression (searched,
so ``sobjects/Case`` matches any Case sObject URL) and optionally a method, for the next
``count`` matching requests, until a deadline, and/or with a probability. The first live
rule that fires wins. What it does is given by its ``kind``:

- ``unavailable``: 503 ``SERVER_UNAVAILABLE``
- ``error``: 500 ``UNKNOWN_EXCEPTION``
- ``lock``: 400 ``UNABLE_TO_LOCK_ROW``
- ``limit``: 403 ``REQUEST_LIMIT_EXCEEDED``
- ``session``: 401 ``INVALID_SESSION_ID``
- ``drop``: the connection is closed without any response
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from sfemu.model import ApiError

FaultKind = Literal["unavailable", "error", "lock", "limit", "session", "drop"]
FAULT_KINDS: tuple[FaultKind, ...] = ("unavailable", "error", "lock", "limit", "session", "drop")

_DEFAULTS: dict[str, tuple[int, str, str]] = {
    "unavailable": (503, "SERVER_UNAVAILABLE", "Server temporarily unavailable. Please retry."),
    "error": (
        500,
        "UNKNOWN_EXCEPTION",
        "An unexpected error occurred. Please include this ErrorId if you contact support: "
        "{error_id}",
    ),
    "lock": (
        400,
        "UNABLE_TO_LOCK_ROW",
        "unable to obtain exclusive access to this record or 1 records: {record_id}",
    ),
    "limit": (403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    "session": (401, "INVALID_SESSION_ID", "Session expired or invalid"),
}

_ID_IN_PATH = re.compile(r"/([a-zA-Z0-9]{18}|[a-zA-Z0-9]{15})(?:[/?]|$)")


class FaultError(ValueError):
    """A fault or latency setting is invalid (the control plane answers 400)."""


class ConnectionDropped(Exception):
    """Raised by the wire layer when a ``drop`` fault fires and no server can drop it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultRule:
    """One fault rule. ``count``/``until``/``probability`` may be combined."""

    id: str
    kind: FaultKind
    path: str = ""
    method: str | None = None
    #: Fire on at most this many more matching requests (None: unlimited).
    count: int | None = None
    #: Epoch seconds after which the rule is dead (None: forever).
    until: float | None = None
    probability: float = 1.0
    #: Overrides of the error's message (the default depends on ``kind``).
    message: str | None = None
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise FaultError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        if not 0.0 <= self.probability <= 1.0:
            raise FaultError("probability must be between 0 and 1")
        if self.count is not None and self.count < 0:
            raise FaultError("count must be >= 0")
        try:
            object.__setattr__(self, "_regex", re.compile(self.path))
        except re.error as exc:
            raise FaultError(f"path is not a valid regular expression: {exc}") from exc

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self._regex.search(path) is not None

    def error(self, path: str) -> ApiError:
        """The API error this rule answers with (not for ``drop``)."""
        status, code, template = _DEFAULTS[self.kind]
        found = _ID_IN_PATH.search(path)
        text = (self.message or template).format(
            error_id=f"{random.randint(10**8, 10**9 - 1)}-{random.randint(10**4, 10**5 - 1)}"
            f" ({random.randint(-(10**9), -(10**8))})",
            record_id=found.group(1) if found else "",
        )
        fields: list[str] | None = [] if self.kind == "lock" else None
        return ApiError(status, code, text, fields)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "path": self.path,
            "method": self.method,
            "count": self.count,
            "until": self.until,
            "probability": self.probability,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, rule_id: str, now: float) -> FaultRule:
        """Build a rule from control-plane JSON.

        ``seconds`` (relative) is accepted in place of ``until`` (absolute epoch seconds).

        Raises:
            FaultError: on an unknown kind or an out-of-range value.
        """
        try:
            until = data.get("until")
            if data.get("seconds") is not None:
                until = now + float(data["seconds"])
            count = data.get("count")
            return cls(
                id=rule_id,
                kind=data["kind"],
                path=str(data.get("path") or ""),
                method=data.get("method") or None,
                count=None if count is None else int(count),
                until=None if until is None else float(until),
                probability=float(data.get("probability", 1.0)),
                message=data.get("message"),
            )
        except (KeyError, TypeError) as exc:
            raise FaultError(f"invalid fault rule: {exc}") from exc


class FaultSet:
    """The live fault rules of one org.

    Args:
        clock: seconds since the epoch; injectable for tests.
        rng: a ``random.Random``-like source for probabilistic rules.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._rules: list[FaultRule] = []
        self._clock = clock
        self._rng = rng or random.Random()
        self._next = 1
        self.fired: dict[str, int] = {}

    def __bool__(self) -> bool:
        return bool(self._rules)

    def add(self, data: Mapping[str, Any]) -> FaultRule:
        """Add a rule from control-plane JSON and return it (with its new id)."""
        rule = FaultRule.from_dict(data, rule_id=f"f{self._next}", now=self._clock())
        self._next += 1
        self._rules.append(rule)
        return rule

    def rules(self) -> list[FaultRule]:
        self._expire()
        return list(self._rules)

    def remove(self, rule_id: str) -> bool:
        before = len(self._rules)
        self._rules = [r for r in self._rules if r.id != rule_id]
        return len(self._rules) != before

    def clear(self) -> None:
        self._rules.clear()

    def _expire(self) -> None:
        now = self._clock()
        self._rules = [
            r
            for r in self._rules
            if (r.until is None or r.until > now) and (r.count is None or r.count > 0)
        ]

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The rule that fires for this request, if any (consuming one of its ``count``)."""
        if not self._rules:
            return None
        self._expire()
        for index, rule in enumerate(self._rules):
            if not rule.matches(method, path):
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            if rule.count is not None:
                self._rules[index] = replace(rule, count=rule.count - 1)
            self.fired[rule.id] = self.fired.get(rule.id, 0) + 1
            return rule
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Latency:
    """Added delay per API request: ``fixed_ms`` plus uniform ``0..jitter_ms``."""

    fixed_ms: float = 0.0
    jitter_ms: float = 0.0

    def __post_init__(self) -> None:
        if self.fixed_ms < 0 or self.jitter_ms < 0:
            raise FaultError("latency must be >= 0")

    def __bool__(self) -> bool:
        return self.fixed_ms > 0 or self.jitter_ms > 0

    def seconds(self, rng: random.Random | None = None) -> float:
        jitter = (rng or random).uniform(0.0, self.jitter_ms) if self.jitter_ms else 0.0
        return (self.fixed_ms + jitter) / 1000.0

    def to_dict(self) -> dict[str, float]:
        return {"fixed_ms": self.fixed_ms, "jitter_ms": self.jitter_ms}
