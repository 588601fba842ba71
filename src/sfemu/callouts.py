"""Apex-like outbound callouts: the stand-in for a trigger plus an ``@future`` HTTP callout.

An admin of a real org installs a small Apex class and triggers that, after a Case (or one of
its comments or emails) is written, send ``POST {url}?caseId={id}`` with a JSON content type
and an empty body. Here a :class:`CalloutRule` says which writes fire, and a
:class:`CalloutBook` turns the org's after-commit ``WriteEvent``s into such requests, sent
asynchronously (after the API response, as ``@future`` would), logged, and never retried.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import urlencode, urlsplit

import httpx

CalloutEvent = Literal["insert", "update", "change", "delete"]
CALLOUT_EVENTS: tuple[CalloutEvent, ...] = ("insert", "update", "change", "delete")
#: Objects whose callouts carry their parent Case's id as ``caseId``.
_PARENT_CASE_OBJECTS = frozenset({"casecomment", "emailmessage"})
LOG_SIZE = 1000
TIMEOUT_SECONDS = 10.0


class CalloutError(ValueError):
    """A callout rule is invalid (the control plane answers 400)."""


class WriteEventLike(Protocol):
    """What a callout needs from ``sfemu.org.WriteEvent``."""

    @property
    def kind(self) -> str: ...
    @property
    def object_name(self) -> str: ...
    @property
    def record_id(self) -> str: ...
    @property
    def changed_fields(self) -> Any: ...
    @property
    def old(self) -> Mapping[str, Any] | None: ...
    @property
    def new(self) -> Mapping[str, Any] | None: ...


def parse_filter(text: str) -> dict[str, Any]:
    """Parse ``"Incoming = false AND Status = 'Closed'"`` into ``{field: value}``.

    Values: ``true``/``false``/``null``, numbers, or quoted strings; bare words are strings.

    Raises:
        CalloutError: when a clause is not ``Field = value``.
    """
    conditions: dict[str, Any] = {}
    for clause in _split_and(text):
        name, sep, raw = clause.partition("=")
        if not sep or not name.strip():
            raise CalloutError(f"filter clause must look like 'Field = value': {clause!r}")
        conditions[name.strip()] = _literal(raw.strip())
    return conditions


def _split_and(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    for word in text.split(" "):
        if word.upper() == "AND":
            parts.append(" ".join(current))
            current = []
        else:
            current.append(word)
    parts.append(" ".join(current))
    return [p.strip() for p in parts if p.strip()]


def _literal(raw: str) -> Any:
    lowered = raw.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    if lowered == "null":
        return None
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        return raw


def _field_value(record: Mapping[str, Any], name: str) -> Any:
    if name in record:
        return record[name]
    lowered = name.lower()
    for key, value in record.items():
        if key.lower() == lowered:
            return value
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class CalloutRule:
    """When to call out, and where.

    ``event``: ``insert`` (after insert), ``update`` (after any update), ``change`` (after an
    update that changed ``field``), ``delete``. ``conditions`` must all hold on the record
    (the new version; the old one for deletes). ``event_param`` adds ``&event=<value>``;
    ``params`` adds further query parameters.
    """

    id: str
    object: str
    event: CalloutEvent
    url: str
    field: str | None = None
    conditions: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)
    event_param: str | None = None
    verify_tls: bool = True
    active: bool = True

    def __post_init__(self) -> None:
        if self.event not in CALLOUT_EVENTS:
            raise CalloutError(f"event must be one of {', '.join(CALLOUT_EVENTS)}")
        if self.event == "change" and not self.field:
            raise CalloutError("event 'change' needs 'field'")
        parts = urlsplit(self.url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise CalloutError("url must be an absolute http(s) URL")

    def fires_on(self, event: WriteEventLike) -> bool:
        """True when this write should produce a callout."""
        if not self.active or event.object_name.lower() != self.object.lower():
            return False
        kind = event.kind.lower()
        if self.event == "change":
            if kind != "update":
                return False
            assert self.field is not None
            changed = {str(name).lower() for name in (event.changed_fields or ())}
            if self.field.lower() not in changed:
                return False
        elif self.event != kind:
            return False
        record = event.old if kind == "delete" else event.new
        record = record or {}
        return all(_field_value(record, k) == v for k, v in self.conditions.items())

    def case_id(self, event: WriteEventLike) -> str:
        """The ``caseId`` sent: the record's id, or its parent Case for comments and emails."""
        if event.object_name.lower() in _PARENT_CASE_OBJECTS:
            record = event.new or event.old or {}
            parent = _field_value(record, "ParentId")
            if parent:
                return str(parent)
        return event.record_id

    def target(self, event: WriteEventLike) -> str:
        """The full URL of the callout for this write."""
        query: dict[str, str] = {"caseId": self.case_id(event)}
        if self.event_param:
            query["event"] = self.event_param
        query.update(self.params)
        separator = "&" if urlsplit(self.url).query else "?"
        return f"{self.url}{separator}{urlencode(query)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": self.object,
            "event": self.event,
            "url": self.url,
            "field": self.field,
            "conditions": dict(self.conditions),
            "params": dict(self.params),
            "event_param": self.event_param,
            "verify_tls": self.verify_tls,
            "active": self.active,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, rule_id: str) -> CalloutRule:
        """Build a rule from control-plane JSON (``filter`` may be a string or an object).

        Raises:
            CalloutError: when a key is missing or a value is invalid.
        """
        try:
            conditions = data.get("conditions") or data.get("filter") or {}
            if isinstance(conditions, str):
                conditions = parse_filter(conditions)
            if not isinstance(conditions, Mapping):
                raise CalloutError("filter must be a string or an object")
            params = data.get("params") or {}
            if not isinstance(params, Mapping):
                raise CalloutError("params must be an object")
            return cls(
                id=rule_id,
                object=str(data["object"]),
                event=data.get("event", "insert"),
                url=str(data["url"]),
                field=data.get("field"),
                conditions=dict(conditions),
                params={str(k): str(v) for k, v in params.items()},
                event_param=data.get("event_param"),
                verify_tls=bool(data.get("verify_tls", True)),
                active=bool(data.get("active", True)),
            )
        except KeyError as exc:
            raise CalloutError(f"missing key {exc}") from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class CalloutAttempt:
    """One logged callout."""

    rule_id: str
    url: str
    object_name: str
    record_id: str
    event: str
    started_at: str
    duration_ms: float
    status: Literal["sent", "failed"]
    response_code: int | None
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "url": self.url,
            "object": self.object_name,
            "record_id": self.record_id,
            "event": self.event,
            "time": self.started_at,
            "duration_ms": self.duration_ms,
            "status": self.status,
            "response_code": self.response_code,
            "error": self.error,
        }


Scheduler = Callable[[Coroutine[Any, Any, None]], None]


class CalloutBook:
    """The callout rules and log of one org.

    ``on_write`` is meant to be registered with ``org.add_listener``. It hands each
    callout coroutine to ``schedule`` (the runtime decides when it runs: after the HTTP
    response for API writes, at once otherwise).
    """

    def __init__(self) -> None:
        self.rules: dict[str, CalloutRule] = {}
        self.log: deque[CalloutAttempt] = deque(maxlen=LOG_SIZE)
        self._next = 1
        self.schedule: Scheduler | None = None
        self.client_factory: Callable[[bool], httpx.AsyncClient] = _default_client

    def add(self, data: Mapping[str, Any]) -> CalloutRule:
        rule = CalloutRule.from_dict(data, rule_id=f"c{self._next}")
        self._next += 1
        self.rules[rule.id] = rule
        return rule

    def remove(self, rule_id: str) -> bool:
        return self.rules.pop(rule_id, None) is not None

    def clear(self) -> None:
        self.rules.clear()

    def on_write(self, event: WriteEventLike) -> None:
        """After-commit listener: schedule one callout per matching rule."""
        if not self.rules or self.schedule is None:
            return
        for rule in list(self.rules.values()):
            if rule.fires_on(event):
                self.schedule(self._send(rule, event, rule.target(event)))

    async def _send(self, rule: CalloutRule, event: WriteEventLike, url: str) -> None:
        started = dt.datetime.now(dt.UTC)
        clock = time.perf_counter()
        code: int | None = None
        error: str | None = None
        try:
            async with self.client_factory(rule.verify_tls) as client:
                response = await client.post(
                    url, content=b"", headers={"Content-Type": "application/json"}
                )
            code = response.status_code
            if code >= 400:
                error = f"HTTP {code}"
        except (httpx.HTTPError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        self.log.append(
            CalloutAttempt(
                rule_id=rule.id,
                url=url,
                object_name=event.object_name,
                record_id=event.record_id,
                event=event.kind,
                started_at=started.isoformat(timespec="milliseconds"),
                duration_ms=round((time.perf_counter() - clock) * 1000, 2),
                status="sent" if error is None else "failed",
                response_code=code,
                error=error,
            )
        )

    def to_dict(self) -> dict[str, Any]:
        return {"next": self._next, "rules": [r.to_dict() for r in self.rules.values()]}

    def load(self, data: Mapping[str, Any]) -> None:
        """Restore rules saved by :meth:`to_dict` (the log is not persisted)."""
        self.rules = {}
        for item in data.get("rules", []):
            rule = CalloutRule.from_dict(item, rule_id=str(item["id"]))
            self.rules[rule.id] = rule
        self._next = int(data.get("next", len(self.rules) + 1))


def _default_client(verify: bool) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=TIMEOUT_SECONDS, verify=verify)


async def drain(tasks: set[asyncio.Task[None]], wait_seconds: float = 5.0) -> None:
    """Wait for pending callout tasks (used at shutdown and by tests)."""
    pending = [t for t in tasks if not t.done()]
    if pending:
        await asyncio.wait(pending, timeout=wait_seconds)
