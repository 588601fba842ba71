"""The async Salesforce REST client: the only code in sfbridge that speaks Salesforce HTTP.

One client serves one connection (one org). Every call goes through :meth:`request`, which:

1. asks the :class:`~sfbridge.salesforce.governor.Governor` whether the call may go
   (``BudgetDeferred``/``BudgetPaused`` otherwise, nothing sent);
2. sends it with the current access token;
3. feeds ``Sforce-Limit-Info`` to the governor;
4. on 401 INVALID_SESSION_ID refreshes once (single flight, see ``session.py``) and resends;
5. on 403 REQUEST_LIMIT_EXCEEDED pauses the org and raises ``LimitExceeded``;
6. retries transient failures with full-jitter backoff where ``retry.may_retry`` allows;
7. records the call (redacted path, status, duration, tries) on the recorder.

Higher-level helpers: CRUD, query paging and search below; composite and collections in
``batch_calls.py`` (mixed in), with their pure parts in ``batching.py``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from sfbridge.salesforce.batch_calls import BatchCalls
from sfbridge.salesforce.clock import Clock, Sleeper, system_clock
from sfbridge.salesforce.errors import (
    LimitExceeded,
    NotFound,
    SessionExpired,
    TransportFailure,
    UnexpectedResponse,
    error_from_body,
)
from sfbridge.salesforce.governor import Governor, Priority
from sfbridge.salesforce.limits_header import parse_limit_info
from sfbridge.salesforce.recorder import CallRecorder, redact_path
from sfbridge.salesforce.retry import RetryPolicy, backoff_delay, may_retry
from sfbridge.salesforce.session import SessionManager
from sfbridge.salesforce.transport import send

JsonParams = Mapping[str, str | int | float | bool]


@dataclass(frozen=True, kw_only=True, slots=True)
class UpsertResult:
    """Outcome of an upsert by external id (``id`` is ``None`` only before API v46)."""

    id: str | None
    created: bool


class SalesforceClient(BatchCalls):
    """Async client for one Salesforce org.

    Args:
        http: a pooled ``httpx.AsyncClient`` (timeouts configured by the caller).
        session: hands out and refreshes tokens.
        api_version: REST version, e.g. ``"59.0"``.
        governor: the process-wide API budget keeper.
        recorder: receives one line per call (the current trace), if any.
        retry: attempts and backoff.
        sleep: awaited between retries (``asyncio.sleep``; fake it in tests).
        clock: current time for the governor.
        rng: randomness for jitter.
        org_key: the governor's key for this org (defaults to the org id of the tokens).
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        session: SessionManager,
        *,
        api_version: str = "59.0",
        governor: Governor,
        recorder: CallRecorder | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleeper = asyncio.sleep,
        clock: Clock = system_clock,
        rng: random.Random | None = None,
        org_key: str | None = None,
    ) -> None:
        self._http = http
        self.session = session
        self.api_version = api_version
        self.governor = governor
        self._recorder = recorder
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._org_key = org_key

    @property
    def data_root(self) -> str:
        """``/services/data/vNN.0``: the prefix of every versioned REST path."""
        return f"/services/data/v{self.api_version}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: JsonParams | None = None,
        priority: Priority = Priority.NORMAL,
        idempotent: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one REST call and return its parsed JSON body (``None`` for 204).

        Args:
            method: HTTP method.
            path: relative to the versioned root (``"sobjects/Case/"``) or absolute
                (``"/services/data/v59.0/query/01g...-2000"``).
            json: request body.
            params: query parameters.
            priority: how the governor treats this call when the budget runs low.
            idempotent: promise that repeating the call cannot duplicate an effect
                (lets a POST be retried; see ``retry.py``).
            headers: extra headers (never ``Authorization``).

        Raises:
            SalesforceError: a subclass chosen from the status and errorCode.
        """
        resp = await self._send(
            method,
            path,
            json=json,
            params=params,
            priority=priority,
            idempotent=idempotent,
            headers=headers,
        )
        if resp.status_code == 204 or not resp.content:
            return None
        return _parse_json(resp)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any,
        params: JsonParams | None,
        priority: Priority,
        idempotent: bool,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        method = method.upper()
        safe_path = redact_path(self._absolute_path(path), params or ())
        tokens = await self.session.current()
        org = self._org_key or tokens.org_id or tokens.instance_url
        attempts = 0
        failures = 0
        refreshed = False
        status: int | None = None
        started = time.perf_counter()
        try:
            while True:
                self.governor.admit(org, priority, self._clock())
                attempts += 1
                status = None
                try:
                    resp = await send(
                        self._http,
                        method,
                        tokens.instance_url + self._absolute_path(path),
                        path=safe_path,
                        json=json,
                        params=dict(params) if params else None,
                        headers={
                            **(headers or {}),
                            "Accept": "application/json",
                            "Authorization": f"Bearer {tokens.access_token}",
                        },
                    )
                except TransportFailure as exc:
                    failures += 1
                    if failures < self._retry.max_attempts and may_retry(
                        exc, method=method, idempotent=idempotent
                    ):
                        await self._sleep(backoff_delay(self._retry, failures, self._rng))
                        continue
                    raise
                status = resp.status_code
                now = self._clock()
                self.governor.observe(
                    org, parse_limit_info(resp.headers.get("sforce-limit-info")), now
                )
                if status < 300:
                    return resp
                err = error_from_body(status, _parse_json(resp), method=method, path=safe_path)
                if isinstance(err, SessionExpired) and not refreshed:
                    refreshed = True
                    tokens = await self.session.refresh(tokens)
                    continue
                if isinstance(err, LimitExceeded):
                    err.retry_at = self.governor.limit_exceeded(org, now)
                    raise err
                failures += 1
                if failures < self._retry.max_attempts and may_retry(
                    err, method=method, idempotent=idempotent
                ):
                    await self._sleep(backoff_delay(self._retry, failures, self._rng))
                    continue
                raise err
        finally:
            if attempts and self._recorder is not None:
                elapsed = (time.perf_counter() - started) * 1000.0
                self._recorder.record(method, safe_path, status, elapsed, attempts)

    def _absolute_path(self, path: str) -> str:
        if path.startswith("/"):
            return path
        return f"{self.data_root}/{path}"

    # ----------------------------------------------------------------- query and search

    async def query(
        self,
        soql: str,
        *,
        include_deleted: bool = False,
        priority: Priority = Priority.NORMAL,
        batch_size: int | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield every record of a SOQL query, following ``nextRecordsUrl`` page by page.

        Args:
            soql: the statement (build it with ``soql.format_soql``).
            include_deleted: use ``queryAll`` (deleted and archived rows too).
            priority: governor priority of each page call.
            batch_size: ``Sforce-Query-Options: batchSize`` (200-2000; a hint).
        """
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"} if batch_size else None
        endpoint = "queryAll/" if include_deleted else "query/"
        body = await self.request(
            "GET", endpoint, params={"q": soql}, priority=priority, headers=headers
        )
        while True:
            if not isinstance(body, dict):
                raise UnexpectedResponse("query response is not an object")
            for record in body.get("records") or ():
                yield record
            next_url = body.get("nextRecordsUrl")
            if body.get("done", True) or not next_url:
                return
            body = await self.request("GET", str(next_url), priority=priority, headers=headers)

    async def query_all(
        self,
        soql: str,
        *,
        include_deleted: bool = False,
        priority: Priority = Priority.NORMAL,
    ) -> list[dict[str, Any]]:
        """Return every record of a SOQL query as a list (all pages fetched)."""
        return [
            r async for r in self.query(soql, include_deleted=include_deleted, priority=priority)
        ]

    async def search(
        self, sosl: str, *, priority: Priority = Priority.NORMAL
    ) -> list[dict[str, Any]]:
        """Run a SOSL search and return ``searchRecords``."""
        body = await self.request("GET", "search/", params={"q": sosl}, priority=priority)
        if isinstance(body, list):  # API v35 and older
            return body
        if isinstance(body, dict):
            return list(body.get("searchRecords") or [])
        raise UnexpectedResponse("search response is neither a list nor an object")

    # ----------------------------------------------------------------- sObject CRUD

    async def get(
        self,
        object_name: str,
        record_id: str,
        fields: Sequence[str] | None = None,
        *,
        priority: Priority = Priority.NORMAL,
    ) -> dict[str, Any]:
        """Retrieve one record by id (only ``fields`` when given)."""
        params = {"fields": ",".join(fields)} if fields else None
        body = await self.request(
            "GET", f"sobjects/{object_name}/{record_id}", params=params, priority=priority
        )
        return _object(body)

    async def get_by_external_id(
        self,
        object_name: str,
        field: str,
        value: str,
        *,
        priority: Priority = Priority.NORMAL,
    ) -> dict[str, Any]:
        """Retrieve one record by an external-id field's value."""
        path = f"sobjects/{object_name}/{field}/{quote(value, safe='')}"
        return _object(await self.request("GET", path, priority=priority))

    async def create(
        self,
        object_name: str,
        values: Mapping[str, Any],
        *,
        priority: Priority = Priority.NORMAL,
    ) -> str:
        """Create one record and return its id. Never retried blind (see ``retry.py``)."""
        body = _object(
            await self.request(
                "POST", f"sobjects/{object_name}/", json=dict(values), priority=priority
            )
        )
        record_id = body.get("id")
        if not isinstance(record_id, str):
            raise UnexpectedResponse("create response lacks id")
        return record_id

    async def update(
        self,
        object_name: str,
        record_id: str,
        values: Mapping[str, Any],
        *,
        priority: Priority = Priority.NORMAL,
    ) -> None:
        """Update fields of one record (PATCH; retried safely)."""
        await self.request(
            "PATCH", f"sobjects/{object_name}/{record_id}", json=dict(values), priority=priority
        )

    async def upsert_by_external_id(
        self,
        object_name: str,
        field: str,
        value: str,
        values: Mapping[str, Any],
        *,
        priority: Priority = Priority.NORMAL,
    ) -> UpsertResult:
        """Insert or update the record whose ``field`` equals ``value`` (PATCH; idempotent).

        Raises:
            MultipleMatches: several records carry that value.
        """
        path = f"sobjects/{object_name}/{field}/{quote(value, safe='')}"
        body = await self.request("PATCH", path, json=dict(values), priority=priority)
        if not isinstance(body, dict):
            return UpsertResult(id=None, created=False)
        record_id = body.get("id")
        return UpsertResult(
            id=record_id if isinstance(record_id, str) else None,
            created=bool(body.get("created", False)),
        )

    async def delete(
        self,
        object_name: str,
        record_id: str,
        *,
        missing_ok: bool = False,
        priority: Priority = Priority.NORMAL,
    ) -> bool:
        """Delete one record.

        Args:
            object_name: sObject type.
            record_id: the id.
            missing_ok: treat "not found / already deleted" as done (use it when a retry
                of an earlier, lost, delete may be what removed it).
            priority: governor priority.

        Returns:
            ``True`` when this call deleted it, ``False`` when it was already gone.
        """
        try:
            await self.request("DELETE", f"sobjects/{object_name}/{record_id}", priority=priority)
        except NotFound:
            if missing_ok:
                return False
            raise
        return True

    async def describe(
        self, object_name: str, *, priority: Priority = Priority.NORMAL
    ) -> dict[str, Any]:
        """Full describe of one object (fields, child relationships ...)."""
        return _object(
            await self.request("GET", f"sobjects/{object_name}/describe", priority=priority)
        )

    async def limits(self, *, priority: Priority = Priority.NORMAL) -> dict[str, Any]:
        """The org's limits (``DailyApiRequests`` ...)."""
        return _object(await self.request("GET", "limits/", priority=priority))

    async def is_sandbox(self) -> bool:
        """Ask the org itself (``SELECT IsSandbox FROM Organization``)."""
        rows = await self.query_all("SELECT IsSandbox FROM Organization LIMIT 1")
        if not rows:
            raise UnexpectedResponse("Organization query returned no row")
        return bool(rows[0].get("IsSandbox"))


def _parse_json(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return resp.text or None


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise UnexpectedResponse(f"expected a JSON object, got {type(body).__name__}")
    return body
