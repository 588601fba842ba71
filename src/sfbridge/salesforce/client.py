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

Higher-level helpers (CRUD, query paging, search, composite, collections) live in
``SalesforceClient``'s methods below and in ``batching.py``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from sfbridge.salesforce import batching
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
from sfbridge.salesforce.retry import IDEMPOTENT_METHODS, RetryPolicy, backoff_delay, may_retry
from sfbridge.salesforce.session import SessionManager
from sfbridge.salesforce.transport import send

JsonParams = Mapping[str, str | int | float | bool]
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True, slots=True)
class UpsertResult:
    """Outcome of an upsert by external id (``id`` is ``None`` only before API v46)."""

    id: str | None
    created: bool


class SalesforceClient:
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

    # ----------------------------------------------------------------- batching

    async def composite(
        self,
        subrequests: Sequence[batching.Subrequest],
        *,
        all_or_none: bool = False,
        priority: Priority = Priority.NORMAL,
        idempotent: bool | None = None,
    ) -> list[batching.SubResult]:
        """Run subrequests through Composite, 25 per call, results in the caller's order.

        Dependent subrequests (``@{ref...}``) always share a call. ``all_or_none`` is only
        possible when everything fits one call.

        Args:
            subrequests: the work, in order.
            all_or_none: roll back the call when any subrequest fails.
            priority: governor priority.
            idempotent: whether a failed call may be resent; by default, only when every
                subrequest's method is idempotent (no POST).

        Raises:
            ValueError: the plan is impossible (see ``batching.plan_composite``).
        """
        plan = batching.plan_composite(subrequests)
        if all_or_none and len(plan) > 1:
            raise ValueError("all_or_none needs every subrequest in one Composite call (max 25)")
        safe = (
            idempotent
            if idempotent is not None
            else all(s.method.upper() in IDEMPOTENT_METHODS for s in subrequests)
        )
        out: list[batching.SubResult] = []
        for chunk in plan:
            payload = batching.composite_payload(
                chunk, data_root=self.data_root, all_or_none=all_or_none
            )
            body = await self.request(
                "POST", "composite", json=payload, priority=priority, idempotent=safe
            )
            out.extend(batching.parse_composite(chunk, body))
        return out

    async def collections_create(
        self,
        object_name: str,
        records: Sequence[Mapping[str, Any]],
        *,
        all_or_none: bool = False,
        priority: Priority = Priority.NORMAL,
    ) -> list[batching.RecordResult]:
        """Create records, 200 per call; one result per input, in order.

        A POST: a call that fails in transit is not resent (it may have committed). For
        writes that must survive retries use :meth:`collections_upsert`.
        """
        return await self._collections(
            "POST", "composite/sobjects", object_name, records, all_or_none, priority
        )

    async def collections_update(
        self,
        object_name: str,
        records: Sequence[Mapping[str, Any]],
        *,
        all_or_none: bool = False,
        priority: Priority = Priority.NORMAL,
    ) -> list[batching.RecordResult]:
        """Update records (each has ``Id``), 200 per call; one result per input, in order."""
        if any("Id" not in r for r in records):
            raise ValueError("every record of collections_update needs an Id")
        return await self._collections(
            "PATCH", "composite/sobjects", object_name, records, all_or_none, priority
        )

    async def collections_upsert(
        self,
        object_name: str,
        external_id_field: str,
        records: Sequence[Mapping[str, Any]],
        *,
        all_or_none: bool = False,
        priority: Priority = Priority.NORMAL,
    ) -> list[batching.RecordResult]:
        """Upsert records on an external-id field, 200 per call; results add ``created``."""
        if any(external_id_field not in r for r in records):
            raise ValueError(f"every record of collections_upsert needs {external_id_field}")
        path = f"composite/sobjects/{object_name}/{external_id_field}"
        return await self._collections("PATCH", path, object_name, records, all_or_none, priority)

    async def collections_delete(
        self,
        ids: Sequence[str],
        *,
        all_or_none: bool = False,
        priority: Priority = Priority.NORMAL,
    ) -> list[batching.RecordResult]:
        """Delete records by id, 200 per call; one result per id, in order."""
        out: list[batching.RecordResult] = []
        for offset, chunk in _offsets(ids, batching.COLLECTION_CHUNK, all_or_none):
            params = {"ids": ",".join(chunk), "allOrNone": "true" if all_or_none else "false"}
            body = await self.request(
                "DELETE", "composite/sobjects", params=params, priority=priority
            )
            out.extend(batching.parse_collection_results(body, offset=offset, expected=len(chunk)))
        return out

    async def _collections(
        self,
        method: str,
        path: str,
        object_name: str,
        records: Sequence[Mapping[str, Any]],
        all_or_none: bool,
        priority: Priority,
    ) -> list[batching.RecordResult]:
        out: list[batching.RecordResult] = []
        for offset, chunk in _offsets(records, batching.COLLECTION_CHUNK, all_or_none):
            payload = {
                "allOrNone": all_or_none,
                "records": batching.collection_records(object_name, chunk),
            }
            body = await self.request(method, path, json=payload, priority=priority)
            out.extend(batching.parse_collection_results(body, offset=offset, expected=len(chunk)))
        return out


def _offsets(items: Sequence[T], size: int, all_or_none: bool) -> list[tuple[int, Sequence[T]]]:
    if all_or_none and len(items) > size:
        raise ValueError(f"all_or_none needs at most {size} records (one call)")
    return [(i * size, chunk) for i, chunk in enumerate(batching.chunked(items, size))]


def _parse_json(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return resp.text or None


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise UnexpectedResponse(f"expected a JSON object, got {type(body).__name__}")
    return body
