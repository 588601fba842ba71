"""``composite`` (dependent subrequests with references) and ``composite/batch``.

Reference 2.8 and 2.9. A composite request runs up to 25 subrequests in order; a subrequest
may use ``@{ref.path}`` to read an earlier one's result. With ``allOrNone`` the whole request
runs in one transaction and any failure rolls everything back. A batch runs up to 25
independent subrequests, each committing on its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sfemu.model import ApiError
from sfemu.rest import collections, tree
from sfemu.rest.router import Router
from sfemu.rest.wire import ApiRequest, ApiResponse, flag, ok, require_object

MAX_SUBREQUESTS = 25
MAX_QUERY_OR_COLLECTION = 5
HALTED_MESSAGE = (
    "The transaction was rolled back since another operation in the same transaction failed."
)
BATCH_HALTED = [
    {"errorCode": "BATCH_PROCESSING_HALTED", "message": "Batch processing halted per request"}
]
_REF = re.compile(r"@\{([^}]*)\}")
_PATH_TOKEN = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


class _Rollback(Exception):
    """Raised inside an all-or-none transaction to undo it."""


class _Unresolved(Exception):
    def __init__(self, expression: str, reference: str, failed: bool) -> None:
        super().__init__(expression)
        self.expression = expression
        self.reference = reference
        self.failed = failed


@dataclass(frozen=True, slots=True)
class _Done:
    reference_id: str
    response: ApiResponse


def envelope_error(message: str, code: str = "INVALID_INPUT") -> ApiError:
    return ApiError(400, code, message)


def _lookup(results: Mapping[str, ApiResponse], expression: str) -> Any:
    match = re.match(r"[A-Za-z0-9_]+", expression)
    reference = match.group(0) if match else expression
    done = results.get(reference)
    if done is None or done.status >= 400:
        raise _Unresolved(expression, reference, failed=done is not None)
    value: Any = done.body
    for name, index in _PATH_TOKEN.findall(expression[len(reference) :]):
        try:
            if name:
                if isinstance(value, dict):
                    # Salesforce's references are case-sensitive on keys; fall back to
                    # case-insensitive so that ``@{ref.Id}`` finds ``id`` as in the docs.
                    value = value[name] if name in value else _ci_get(value, name)
                else:
                    raise KeyError(name)
            else:
                value = value[int(index)]
        except (KeyError, IndexError, TypeError) as exc:
            raise _Unresolved(expression, reference, failed=False) from exc
    return value


def _ci_get(mapping: Mapping[str, Any], name: str) -> Any:
    lowered = name.lower()
    for key, value in mapping.items():
        if key.lower() == lowered:
            return value
    raise KeyError(name)


def resolve_references(value: Any, results: Mapping[str, ApiResponse]) -> Any:
    """Replace ``@{ref.path}`` in strings (recursively); a lone reference keeps its type."""
    if isinstance(value, str):
        whole = _REF.fullmatch(value)
        if whole:
            return _lookup(results, whole.group(1))
        if "@{" not in value:
            return value
        return _REF.sub(lambda m: str(_lookup(results, m.group(1))), value)
    if isinstance(value, list):
        return [resolve_references(v, results) for v in value]
    if isinstance(value, dict):
        return {k: resolve_references(v, results) for k, v in value.items()}
    return value


def _is_query_or_collection(url: str) -> bool:
    path = url.split("?", 1)[0]
    return bool(re.search(r"/v\d+\.0/(query|queryAll|composite/sobjects)(/|$)", path))


def _halted(reference_id: str) -> dict[str, Any]:
    return {
        "body": [{"errorCode": "PROCESSING_HALTED", "message": HALTED_MESSAGE}],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": reference_id,
    }


def _entry(done: _Done) -> dict[str, Any]:
    return {
        "body": done.response.body,
        "httpHeaders": dict(done.response.headers),
        "httpStatusCode": done.response.status,
        "referenceId": done.reference_id,
    }


def _subrequests(envelope: dict[str, Any], key: str, kind: str) -> list[Any]:
    """The envelope's list of subrequests under ``key``: present, not empty, at most 25.

    Args:
        envelope: the request body (a JSON object).
        key: ``compositeRequest`` or ``batchRequests``.
        kind: ``composite`` or ``batch``, for the limit message.
    """
    subrequests = envelope.get(key)
    if not isinstance(subrequests, list) or not subrequests:
        raise envelope_error(
            f"{key}: the list of subrequests is missing or empty", "JSON_PARSER_ERROR"
        )
    if len(subrequests) > MAX_SUBREQUESTS:
        raise envelope_error(
            f"Limit Exceeded: a {kind} request can contain up to {MAX_SUBREQUESTS} subrequests",
            "LIMIT_EXCEEDED",
        )
    return subrequests


def _validate(body: Any) -> tuple[list[dict[str, Any]], bool]:
    envelope = require_object(body, "CompositeRequest")
    subrequests = _subrequests(envelope, "compositeRequest", "composite")
    seen: set[str] = set()
    heavy = 0
    for sub in subrequests:
        if not isinstance(sub, dict):
            raise envelope_error("Each subrequest must be a JSON object", "JSON_PARSER_ERROR")
        for key in ("method", "url", "referenceId"):
            if not isinstance(sub.get(key), str) or not sub[key]:
                raise envelope_error(f"Subrequest is missing required field: {key}")
        if not re.fullmatch(r"[A-Za-z0-9_]+", sub["referenceId"]):
            raise envelope_error(
                f"Invalid referenceId: {sub['referenceId']}. A referenceId can contain only "
                "alphanumeric characters and underscores"
            )
        if sub["referenceId"] in seen:
            raise envelope_error(
                f"Duplicate referenceId provided in the request: {sub['referenceId']}"
            )
        seen.add(sub["referenceId"])
        if _is_query_or_collection(sub["url"]):
            heavy += 1
    if heavy > MAX_QUERY_OR_COLLECTION:
        raise envelope_error(
            f"Limit Exceeded: a composite request can contain up to {MAX_QUERY_OR_COLLECTION} "
            "query or sObject Collections subrequests",
            "LIMIT_EXCEEDED",
        )
    return subrequests, flag(envelope.get("allOrNone", False))


def _run_one(
    req: ApiRequest, sub: Mapping[str, Any], results: dict[str, ApiResponse]
) -> ApiResponse:
    try:
        url = resolve_references(sub["url"], results)
        body = resolve_references(sub.get("body"), results)
    except _Unresolved as exc:
        if exc.failed:
            message = (
                f"Invalid reference specified. No value for {exc.expression} found in "
                f"{exc.reference}. Provided referenceId ('{exc.reference}') refers to a failed "
                "request."
            )
        else:
            message = f"Invalid reference specified. No value for {exc.expression} found."
        return ApiResponse(
            status=400, body=[{"errorCode": "PROCESSING_HALTED", "message": message}]
        )
    headers = sub.get("httpHeaders") if isinstance(sub.get("httpHeaders"), dict) else None
    return req.dispatch.subrequest(
        req, method=sub["method"], url=str(url), body=body, headers=headers
    )


def composite(req: ApiRequest, _: dict[str, str]) -> ApiResponse:
    subrequests, all_or_none = _validate(req.body)
    results: dict[str, ApiResponse] = {}
    done: list[_Done] = []
    if not all_or_none:
        for sub in subrequests:
            response = _run_one(req, sub, results)
            results[sub["referenceId"]] = response
            done.append(_Done(sub["referenceId"], response))
        return ok({"compositeResponse": [_entry(d) for d in done]})

    failed: _Done | None = None
    try:
        with req.state.org.transaction():
            for sub in subrequests:
                response = _run_one(req, sub, results)
                results[sub["referenceId"]] = response
                current = _Done(sub["referenceId"], response)
                done.append(current)
                if response.status >= 400:
                    failed = current
                    raise _Rollback
    except _Rollback:
        pass
    if failed is None:
        return ok({"compositeResponse": [_entry(d) for d in done]})
    entries = [
        _entry(failed) if sub["referenceId"] == failed.reference_id else _halted(sub["referenceId"])
        for sub in subrequests
    ]
    return ok({"compositeResponse": entries})


def batch_cost(body: Any) -> int:
    """API requests a batch costs: one per subrequest (at least one)."""
    if isinstance(body, dict) and isinstance(body.get("batchRequests"), list):
        return max(len(body["batchRequests"]), 1)
    return 1


def batch(req: ApiRequest, _: dict[str, str]) -> ApiResponse:
    envelope = require_object(req.body, "BatchRequest")
    subrequests = _subrequests(envelope, "batchRequests", "batch")
    for sub in subrequests:
        if (
            not isinstance(sub, dict)
            or not isinstance(sub.get("method"), str)
            or not isinstance(sub.get("url"), str)
        ):
            raise envelope_error("Each batch subrequest needs a method and a url")
    halt = flag(envelope.get("haltOnError", False))
    results: list[dict[str, Any]] = []
    has_errors = False
    halted = False
    for sub in subrequests:
        if halted:
            results.append({"statusCode": 412, "result": BATCH_HALTED})
            continue
        response = req.dispatch.subrequest(
            req,
            method=sub["method"],
            url=sub["url"],
            body=sub.get("richInput"),
            relative=True,
        )
        results.append({"statusCode": response.status, "result": response.body})
        if response.status >= 400:
            has_errors = True
            halted = halt
    return ok({"hasErrors": has_errors, "results": results})


def register(router: Router) -> None:
    router.add("POST", "composite", composite)
    router.add("POST", "composite/batch", batch)
    tree.register(router)
    collections.register(router)
