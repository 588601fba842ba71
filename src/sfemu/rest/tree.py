"""sObject Tree: ``composite/tree/{sobject}`` (reference 2.10).

Creates parent records with nested children (by child relationship name) in one
transaction. Any error rolls everything back and answers 400 with the failing references.
"""

from __future__ import annotations

from typing import Any

from sfemu.model import ApiError, ObjectDef
from sfemu.rest.router import Router
from sfemu.rest.sobjects import object_def
from sfemu.rest.wire import ApiRequest, ApiResponse, ok, require_object

MAX_RECORDS = 200
MAX_DEPTH = 5


class _Rollback(Exception):
    pass


def _count(records: list[Any], obj: ObjectDef, depth: int = 1) -> int:
    total = 0
    for record in records:
        if not isinstance(record, dict):
            continue
        total += 1
        for key, value in record.items():
            child = obj.child(key)
            if child is not None and isinstance(value, dict):
                nested = value.get("records")
                if isinstance(nested, list):
                    total += len(nested)
    return total


def tree(req: ApiRequest, p: dict[str, str]) -> ApiResponse:
    root = object_def(req, p["sobject"])
    body = require_object(req.body, "SObjectTreeRequest")
    records = body.get("records")
    if not isinstance(records, list) or not records:
        raise ApiError(400, "JSON_PARSER_ERROR", "records: a list of records is required")
    if _count(records, root) > MAX_RECORDS:
        raise ApiError(400, "LIMIT_EXCEEDED", f"Request can contain up to {MAX_RECORDS} records")
    org = req.state.org
    created: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []

    def insert(record: Any, obj: ObjectDef, parent: tuple[str, str] | None, depth: int) -> None:
        if not isinstance(record, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "Each record must be a JSON object")
        attributes = record.get("attributes") or {}
        reference = str(attributes.get("referenceId") or "")
        kind = attributes.get("type")
        if kind and str(kind).lower() != obj.name.lower():
            errors.append(
                _error(reference, ApiError(400, "INVALID_TYPE", f"Expected type {obj.name}", []))
            )
            return
        values: dict[str, Any] = {}
        children: list[tuple[ObjectDef, str, list[Any]]] = []
        for key, value in record.items():
            if key == "attributes":
                continue
            rel = obj.child(key)
            if rel is not None and isinstance(value, dict):
                child_obj = org.object(rel.child_object)
                if child_obj is None:
                    continue
                children.append((child_obj, rel.field, list(value.get("records") or [])))
            else:
                values[key] = value
        if parent is not None:
            values[parent[0]] = parent[1]
        try:
            record_id = org.create(obj.name, values, user_id=req.user_id)
        except ApiError as exc:
            errors.append(_error(reference, exc))
            return
        created.append({"referenceId": reference, "id": record_id})
        if depth >= MAX_DEPTH and children:
            errors.append(
                _error(reference, ApiError(400, "INVALID_INPUT", "Too many levels of nesting", []))
            )
            return
        for child_obj, field, nested in children:
            for child in nested:
                insert(child, child_obj, (field, record_id), depth + 1)

    try:
        with org.transaction():
            for record in records:
                insert(record, root, None, 1)
            if errors:
                raise _Rollback
    except _Rollback:
        return ok({"hasErrors": True, "results": errors}, status=400)
    return ok({"hasErrors": False, "results": created}, status=201)


def _error(reference: str, exc: ApiError) -> dict[str, Any]:
    return {"referenceId": reference, "errors": [exc.collection_error()]}


def register(router: Router) -> None:
    router.add("POST", "composite/tree/{sobject}", tree)
