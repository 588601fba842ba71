"""Pure helpers for Composite (25 subrequests) and sObject Collections (200 records).

Planning splits work into calls, payload builders make the bodies, and parsers map every
result back to the caller's input by position (collections) or ``referenceId`` (composite).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sfbridge.salesforce.errors import SalesforceError, UnexpectedResponse, error_from_body

COLLECTION_CHUNK = 200
COMPOSITE_CHUNK = 25
COMPOSITE_MAX_QUERY_OPS = 5

_REF = re.compile(r"@\{([A-Za-z0-9_]+)[.\[}]")
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True, slots=True)
class Subrequest:
    """One Composite subrequest.

    Attributes:
        method: HTTP method.
        url: relative to the versioned data root (``"sobjects/Account"``) or absolute
            (``"/services/data/v59.0/sobjects/Account"``).
        reference_id: unique within the request; ``@{ref.id}`` in later url/body uses it.
        body: JSON body, if any.
        headers: per-subrequest headers (``httpHeaders``), if any.
    """

    method: str
    url: str
    reference_id: str
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class SubResult:
    """One Composite subresult, in the caller's order."""

    reference_id: str
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the subrequest succeeded (2xx)."""
        return 200 <= self.status < 300

    def error(self) -> SalesforceError | None:
        """The typed error of a failed subrequest (``None`` when it succeeded)."""
        if self.ok:
            return None
        return error_from_body(self.status, self.body, path=f"composite:{self.reference_id}")


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordResult:
    """One sObject Collections result, mapped back to the caller's input.

    Attributes:
        index: the position of the record in the caller's sequence.
        id: the record id (``None`` when the write failed).
        success: whether the write succeeded.
        created: upsert only: ``True`` when inserted, ``False`` when updated.
        errors: Salesforce's error objects (the code key is ``statusCode`` here).
    """

    index: int
    id: str | None
    success: bool
    created: bool | None = None
    errors: tuple[Mapping[str, Any], ...] = ()

    def error(self) -> SalesforceError | None:
        """The typed error of a failed record (``RowLocked``, ``ValidationFailed`` ...)."""
        if self.success:
            return None
        return error_from_body(400, list(self.errors), path=f"collections:{self.index}")


def chunked(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """Split ``items`` into consecutive slices of at most ``size``."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    return [items[i : i + size] for i in range(0, len(items), size)]


def _is_query_or_collection(sub: Subrequest) -> bool:
    url = sub.url.split("?", 1)[0].rstrip("/")
    return bool(re.search(r"(^|/)(query|queryAll)(/|$)|(^|/)composite/sobjects(/|$)", url))


def references(sub: Subrequest) -> set[str]:
    """The reference ids a subrequest points at (``@{ref.field}``) in its url or body."""
    text = sub.url + (json.dumps(sub.body) if sub.body is not None else "")
    return set(_REF.findall(text))


def plan_composite(
    subrequests: Sequence[Subrequest],
    *,
    size: int = COMPOSITE_CHUNK,
    max_query_ops: int = COMPOSITE_MAX_QUERY_OPS,
) -> list[Sequence[Subrequest]]:
    """Split subrequests into Composite calls, never separating a subrequest from its refs.

    Each call holds at most ``size`` subrequests, at most ``max_query_ops`` of them query or
    collections operations, and every ``@{ref}`` points to an earlier subrequest of the
    same call.

    Raises:
        ValueError: duplicate or unknown reference ids, a forward reference, or a chain of
            dependent subrequests that cannot fit into one call.
    """
    position: dict[str, int] = {}
    for i, sub in enumerate(subrequests):
        if sub.reference_id in position:
            raise ValueError(f"duplicate referenceId {sub.reference_id!r}")
        position[sub.reference_id] = i
    # anchor[i]: the earliest subrequest that i depends on, transitively
    anchor: list[int] = []
    for i, sub in enumerate(subrequests):
        low = i
        for ref in references(sub):
            j = position.get(ref)
            if j is None or j >= i:
                raise ValueError(
                    f"subrequest {sub.reference_id!r} refers to {ref!r}, which is not an "
                    "earlier subrequest"
                )
            low = min(low, anchor[j])
        anchor.append(low)
    n = len(subrequests)
    # a cut before k is allowed when nothing at or after k depends on something before k
    suffix_min = [n] * (n + 1)
    for k in range(n - 1, -1, -1):
        suffix_min[k] = min(anchor[k], suffix_min[k + 1])
    plan: list[Sequence[Subrequest]] = []
    start = 0
    while start < n:
        end = start
        ops = 0
        best = start
        while end < n and end - start < size:
            ops += _is_query_or_collection(subrequests[end])
            if ops > max_query_ops:
                break
            end += 1
            if end == n or suffix_min[end] >= end:
                best = end
        if best == start:
            raise ValueError(
                f"subrequests from {subrequests[start].reference_id!r} on form a dependent "
                f"chain longer than one Composite call ({size} subrequests, {max_query_ops} "
                "queries) allows"
            )
        plan.append(subrequests[start:best])
        start = best
    return plan


def composite_payload(
    chunk: Sequence[Subrequest], *, data_root: str, all_or_none: bool
) -> dict[str, Any]:
    """Build a Composite request body.

    Args:
        chunk: the subrequests of one call.
        data_root: ``/services/data/vNN.0`` (subrequest urls must carry the version).
        all_or_none: roll back everything when one subrequest fails.
    """
    items: list[dict[str, Any]] = []
    for sub in chunk:
        url = sub.url if sub.url.startswith("/") else f"{data_root}/{sub.url}"
        item: dict[str, Any] = {"method": sub.method.upper(), "url": url}
        item["referenceId"] = sub.reference_id
        if sub.body is not None:
            item["body"] = sub.body
        if sub.headers:
            item["httpHeaders"] = dict(sub.headers)
        items.append(item)
    return {"allOrNone": all_or_none, "compositeRequest": items}


def parse_composite(chunk: Sequence[Subrequest], body: Any) -> list[SubResult]:
    """Map a Composite response back to ``chunk``, in the caller's order.

    Raises:
        UnexpectedResponse: a subrequest has no result.
    """
    raw = body.get("compositeResponse") if isinstance(body, dict) else None
    if not isinstance(raw, list):
        raise UnexpectedResponse("composite response lacks compositeResponse")
    by_ref = {str(r.get("referenceId")): r for r in raw if isinstance(r, dict)}
    out: list[SubResult] = []
    for sub in chunk:
        r = by_ref.get(sub.reference_id)
        if r is None:
            raise UnexpectedResponse(f"composite response lacks {sub.reference_id!r}")
        headers = r.get("httpHeaders") or {}
        out.append(
            SubResult(
                reference_id=sub.reference_id,
                status=int(r.get("httpStatusCode", 0)),
                body=r.get("body"),
                headers={str(k): str(v) for k, v in headers.items()},
            )
        )
    return out


def collection_records(
    object_name: str, records: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Add ``attributes.type`` to each record (keeping one the caller set)."""
    out: list[dict[str, Any]] = []
    for rec in records:
        item = dict(rec)
        attrs = dict(item.get("attributes") or {})
        attrs.setdefault("type", object_name)
        item["attributes"] = attrs
        out.append(item)
    return out


def parse_collection_results(body: Any, *, offset: int, expected: int) -> list[RecordResult]:
    """Map one sObject Collections response to :class:`RecordResult`, by position.

    Args:
        body: the parsed JSON (a list, one result per input record, in order).
        offset: the index of the chunk's first record in the caller's sequence.
        expected: how many records the chunk sent.

    Raises:
        UnexpectedResponse: not a list of ``expected`` results.
    """
    if not isinstance(body, list) or len(body) != expected:
        got = len(body) if isinstance(body, list) else type(body).__name__
        raise UnexpectedResponse(f"collections response has {got} results for {expected} records")
    out: list[RecordResult] = []
    for i, r in enumerate(body):
        r = r if isinstance(r, dict) else {}
        created = r.get("created")
        out.append(
            RecordResult(
                index=offset + i,
                id=r.get("id") if isinstance(r.get("id"), str) else None,
                success=bool(r.get("success")),
                created=created if isinstance(created, bool) else None,
                errors=tuple(e for e in r.get("errors") or () if isinstance(e, dict)),
            )
        )
    return out
