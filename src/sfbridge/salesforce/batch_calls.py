"""Composite and sObject Collections calls, mixed into ``SalesforceClient``.

Composite chains up to 25 subrequests (dependent ones always share a call); Collections
write up to 200 records per call. Every result maps back to the caller's input: by
``referenceId`` for Composite, by position (``RecordResult.index``) for Collections.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sfbridge.salesforce import batching
from sfbridge.salesforce.governor import Priority
from sfbridge.salesforce.retry import IDEMPOTENT_METHODS

T = TypeVar("T")


class BatchCalls:
    """Batching helpers; the class mixing them in provides ``request`` and ``data_root``."""

    @property
    def data_root(self) -> str:
        """``/services/data/vNN.0`` (provided by the client)."""
        raise NotImplementedError

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str | int | float | bool] | None = None,
        priority: Priority = Priority.NORMAL,
        idempotent: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one REST call (provided by the client)."""
        raise NotImplementedError

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
