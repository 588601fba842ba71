"""``query`` and ``queryAll``: SOQL with server-side paging (reference 2.6)."""

from __future__ import annotations

from typing import Any

from sfemu import soql
from sfemu.model import ApiError
from sfemu.rest.cursors import Cursor
from sfemu.rest.router import Router
from sfemu.rest.wire import ApiRequest, ApiResponse, ok

DEFAULT_BATCH = 2000
MIN_BATCH = 200
MAX_BATCH = 2000


def batch_size(header: str | None) -> int:
    """The page size asked for by ``Sforce-Query-Options: batchSize=N``, clamped to 200..2000."""
    if not header:
        return DEFAULT_BATCH
    for part in header.split(","):
        name, _, value = part.partition("=")
        if name.strip().lower() == "batchsize":
            try:
                return min(max(int(value.strip()), MIN_BATCH), MAX_BATCH)
            except ValueError:
                return DEFAULT_BATCH
    return DEFAULT_BATCH


def page(req: ApiRequest, cursor: Cursor, offset: int, locator: str | None) -> dict[str, Any]:
    """One page of a query result; opens a cursor when more rows remain."""
    end = offset + cursor.batch_size
    body: dict[str, Any] = {"totalSize": cursor.total_size, "done": True}
    if end < len(cursor.records):
        if locator is None:
            locator = req.state.cursors.open(cursor)
        body["done"] = False
        body["nextRecordsUrl"] = f"{req.prefix}/query/{locator}-{end}"
    body["records"] = cursor.records[offset:end]
    return body


def run_query(req: ApiRequest, *, include_deleted: bool) -> dict[str, Any]:
    """Run the ``q`` parameter and return the first page."""
    text = req.params.get("q")
    if text is None:
        raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
    if not text.strip():
        raise ApiError(400, "MALFORMED_QUERY", "SOQL statements cannot be empty or null")
    result = soql.run(
        text,
        req.state.org,
        user_id=req.user_id,
        version=req.version,
        include_deleted=include_deleted,
    )
    cursor = Cursor(
        records=list(result.records),
        total_size=result.total_size,
        batch_size=batch_size(req.headers.get("sforce-query-options")),
    )
    return page(req, cursor, 0, None)


def query(req: ApiRequest, _: dict[str, str]) -> ApiResponse:
    return ok(run_query(req, include_deleted=False))


def query_all(req: ApiRequest, _: dict[str, str]) -> ApiResponse:
    return ok(run_query(req, include_deleted=True))


def query_more(req: ApiRequest, p: dict[str, str]) -> ApiResponse:
    locator, _, raw_offset = p["locator"].rpartition("-")
    cursor = req.state.cursors.get(locator) if locator else None
    if cursor is None or not raw_offset.isdigit():
        raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    return ok(page(req, cursor, int(raw_offset), locator))


def register(router: Router) -> None:
    router.add("GET", "query", query)
    router.add("GET", "queryAll", query_all)
    router.add("GET", "query/{locator}", query_more)
    router.add("GET", "queryAll/{locator}", query_more)
