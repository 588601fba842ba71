"""sfemu's SOQL engine: ``run(query, source, user_id=...)`` -> wire-ready records.

Paging (``nextRecordsUrl``, batch sizes) belongs to the wire layer: :func:`run` returns every
row, with ``total_size`` counted after LIMIT/OFFSET. Errors are :class:`sfemu.model.ApiError`
(400, no ``fields`` key) with Salesforce's wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sfemu.model import DataSource
from sfemu.soql import evaluate
from sfemu.soql.bind import MAX_OFFSET, Binder
from sfemu.soql.errors import PositionedError
from sfemu.soql.parser import parse_query

__all__ = ["MAX_OFFSET", "QueryResult", "run"]


@dataclass(frozen=True, kw_only=True)
class QueryResult:
    """A query's outcome. ``records`` are wire-ready (``attributes`` first, wire values)."""

    object_name: str
    total_size: int
    records: list[dict[str, Any]]


def run(
    query: str,
    source: DataSource,
    *,
    user_id: str,
    version: str = "59.0",
    include_deleted: bool = False,
    max_offset: int | None = MAX_OFFSET,
) -> QueryResult:
    """Run a SOQL query against an org.

    Args:
        query: the SOQL text (``q`` of ``/query``).
        source: the org.
        user_id: the running user (field-level security, time zone for date literals).
        version: API version used in ``attributes.url``.
        include_deleted: ``queryAll``: deleted rows are returned too.
        max_offset: largest OFFSET accepted (Salesforce: 2000 [unverified]); None for no cap.

    Returns:
        The object name, the row count after LIMIT/OFFSET (for ``COUNT()``: the count) and
        the records (none for ``COUNT()``; one ``AggregateResult`` for other aggregates).

    Raises:
        ApiError: 400 MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE,
            INVALID_QUERY_FILTER_OPERATOR or NUMBER_OUTSIDE_VALID_RANGE.
    """
    try:
        bound = Binder(source, user_id, max_offset=max_offset).bind_query(parse_query(query))
        rt = evaluate.runtime(source, include_deleted=include_deleted)
        outcome = evaluate.execute(bound, rt, version=version)
    except PositionedError as exc:
        raise exc.render(query) from None
    return QueryResult(
        object_name=bound.obj.name, total_size=outcome.total_size, records=outcome.records
    )
