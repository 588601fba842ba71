"""sfemu's SOSL engine: ``FIND {term} [IN x FIELDS] [RETURNING ...] [LIMIT n]`` and
parameterized search, returning the ``searchRecords`` items.

Each RETURNING entry is run like a SOQL query (fields, WHERE, ORDER BY, LIMIT, OFFSET) over the
records that match the term; records still inside the org's search-index lag window
(``DataSource.searchable``) are not found. Without RETURNING, the usual searchable objects are
searched and only Ids are returned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sfemu import sosl_terms
from sfemu.model import ApiError, DataSource, FieldDef, ObjectDef, Record
from sfemu.soql import evaluate
from sfemu.soql.bind import Binder
from sfemu.soql.errors import PositionedError
from sfemu.soql.nodes import FieldPath, Pos, Query, Returning, SearchGroup
from sfemu.soql.parser import parse_search

#: Objects searched when there is no RETURNING clause (those the org has).
DEFAULT_OBJECTS = ("Account", "Contact", "Lead", "Opportunity", "Case", "User")
#: Salesforce's ceiling on rows a search returns.
MAX_ROWS = 2000

_GROUPS: dict[SearchGroup, frozenset[str]] = {
    "ALL": frozenset({"name", "email", "phone", "text"}),
    "SIDEBAR": frozenset({"name", "email", "phone", "text"}),
    "NAME": frozenset({"name"}),
    "EMAIL": frozenset({"email"}),
    "PHONE": frozenset({"phone"}),
}


def run(
    search: str, source: DataSource, *, user_id: str, version: str = "59.0"
) -> list[dict[str, Any]]:
    """Run a SOSL search.

    Args:
        search: the SOSL text (``q`` of ``/search``).
        source: the org.
        user_id: the running user (field-level security, time zone).
        version: API version used in ``attributes.url``.

    Returns:
        The ``searchRecords`` items, grouped by RETURNING entry in its order.

    Raises:
        ApiError: 400 MALFORMED_SEARCH, INVALID_FIELD or INVALID_TYPE.
    """
    try:
        parsed = parse_search(search)
        term = sosl_terms.parse(parsed.term)
        returning = parsed.returning or _defaults(source, parsed.term_pos)
        return _search(term, parsed.group, returning, parsed.limit, source, user_id, version)
    except PositionedError as exc:
        rendered = exc.render(search)
        code = (
            "MALFORMED_SEARCH" if rendered.error_code == "MALFORMED_QUERY" else rendered.error_code
        )
        raise ApiError(400, code, rendered.message) from None


def _defaults(source: DataSource, pos: Pos) -> tuple[Returning, ...]:
    entries = []
    for name in DEFAULT_OBJECTS:
        if source.object(name) is None:
            continue
        query = Query(select=(FieldPath(parts=("Id",), pos=pos),), object_name=name, object_pos=pos)
        entries.append(Returning(query=query, explicit_fields=False))
    return tuple(entries)


def _searched_fields(
    obj: ObjectDef, group: SearchGroup, source: DataSource, user_id: str
) -> list[FieldDef]:
    wanted = _GROUPS[group]
    return [
        f
        for f in obj.fields.values()
        if f.search_group in wanted and source.field_visible(obj.name, f.name, user_id)
    ]


def _matches(term: sosl_terms.Term, record: Record, fields: list[FieldDef]) -> bool:
    values = [
        (f.search_group or "text", str(v))
        for f in fields
        if (v := record.get(f.name)) not in (None, "")
    ]
    if not values:
        return False
    return sosl_terms.evaluate(term, lambda word: sosl_terms.word_matches(word, values))


def _search(
    term: sosl_terms.Term,
    group: SearchGroup,
    returning: Sequence[Returning],
    limit: int | None,
    source: DataSource,
    user_id: str,
    version: str,
) -> list[dict[str, Any]]:
    binder = Binder(source, user_id)
    bound = [binder.bind_query(entry.query, nested=True) for entry in returning]
    remaining = min(limit if limit is not None else MAX_ROWS, MAX_ROWS)
    results: list[dict[str, Any]] = []
    rt = evaluate.runtime(source, include_deleted=False)
    for entry, query in zip(returning, bound, strict=True):
        if query.count_only or query.aggregates:
            raise PositionedError(
                "MALFORMED_SEARCH",
                "aggregate functions are not allowed in RETURNING",
                entry.query.object_pos,
            )
        if not query.obj.searchable:
            raise PositionedError(
                "INVALID_TYPE",
                f"entity type {query.obj.name} does not support search",
                entry.query.object_pos,
            )
        if remaining <= 0:
            break
        fields = _searched_fields(query.obj, group, source, user_id)
        found = [
            r
            for r in source.rows(query.obj.name)
            if source.searchable(r) and _matches(term, r, fields)
        ]
        records = evaluate.execute(query, rt, version=version, rows=found).records[:remaining]
        remaining -= len(records)
        results.extend(records)
    return results


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")


def _entry(name: str, fields: list[str], where: Any, order_by: Any, limit: Any) -> str:
    inside = ", ".join(fields or ["Id"])
    if where:
        inside += f" WHERE {where}"
    if order_by:
        inside += f" ORDER BY {order_by}"
    if limit not in (None, ""):
        inside += f" LIMIT {int(limit)}"
    return f"{name}({inside})"


def to_sosl(params: Mapping[str, Any], source: DataSource) -> str:
    """The SOSL statement equivalent to parameterized-search parameters.

    Accepts the POST body (``q``, ``fields``, ``sobjects: [{name, fields, where, limit,
    orderBy}]``, ``in``, ``overallLimit``, ``defaultLimit``) and the GET query-string form
    (``q``, ``fields``, ``sobject`` (one or several), ``Account.fields``, ``Account.limit``,
    ``Account.where``, ``Account.orderBy``, ``in``, ``overallLimit``, ``defaultLimit``).

    Raises:
        ApiError: 400 MALFORMED_SEARCH when ``q`` is missing or a number is not a number.
    """
    q = params.get("q")
    if not isinstance(q, str) or not q.strip():
        raise ApiError(400, "MALFORMED_SEARCH", "A search string (q) must be specified")
    default_fields = _listed(params.get("fields"))
    default_limit = params.get("defaultLimit")
    specs: list[dict[str, Any]] = []
    sobjects = params.get("sobjects")
    if isinstance(sobjects, list):
        specs = [dict(s) for s in sobjects if isinstance(s, Mapping) and s.get("name")]
    else:
        for name in _listed(params.get("sobject")):
            specs.append(
                {
                    "name": name,
                    "fields": params.get(f"{name}.fields"),
                    "where": params.get(f"{name}.where"),
                    "orderBy": params.get(f"{name}.orderBy"),
                    "limit": params.get(f"{name}.limit"),
                }
            )
    if not specs:
        specs = [{"name": name} for name in DEFAULT_OBJECTS if source.object(name) is not None]
    try:
        entries = [
            _entry(
                str(spec["name"]),
                _listed(spec.get("fields")) or default_fields,
                spec.get("where"),
                spec.get("orderBy"),
                spec["limit"] if spec.get("limit") not in (None, "") else default_limit,
            )
            for spec in specs
        ]
        overall = params.get("overallLimit")
        limit = f" LIMIT {int(overall)}" if overall not in (None, "") else ""
    except (TypeError, ValueError):
        raise ApiError(400, "MALFORMED_SEARCH", "limits must be whole numbers") from None
    group = str(params.get("in") or "ALL").upper()
    return f"FIND {{{_escape(q)}}} IN {group} FIELDS RETURNING {', '.join(entries)}{limit}"


def run_parameterized(
    params: Mapping[str, Any], source: DataSource, *, user_id: str, version: str = "59.0"
) -> list[dict[str, Any]]:
    """Run a parameterized search (GET query-string parameters or the POST JSON body).

    Returns:
        The ``searchRecords`` items, as :func:`run`.

    Raises:
        ApiError: as :func:`run`, plus MALFORMED_SEARCH for a missing ``q``.
    """
    return run(to_sosl(params, source), source, user_id=user_id, version=version)
