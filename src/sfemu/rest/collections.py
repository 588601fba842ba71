"""sObject Collections: ``composite/sobjects`` (reference 2.11).

Up to 200 records per call; one result per input, in order; errors use ``statusCode``.
With ``allOrNone`` every record is still tried so that each failure is reported, then the
transaction is rolled back and the records that did not fail say
``ALL_OR_NONE_OPERATION_ROLLED_BACK``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sfemu import ids
from sfemu.model import ApiError
from sfemu.rest.router import Router
from sfemu.rest.shape import wire_record
from sfemu.rest.sobjects import looks_like_id, lookup_field, matching_ids, object_def
from sfemu.rest.wire import ApiRequest, ApiResponse, flag, ok, require_object

MAX_RECORDS = 200
ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was "
    "using AllOrNone header",
    "fields": [],
}


class _Rollback(Exception):
    pass


Operation = Callable[[Any], dict[str, Any]]


def _too_many(count: int) -> ApiError:
    return ApiError(
        400,
        "EXCEEDED_ID_LIMIT",
        f"record limit reached. cannot submit more than {MAX_RECORDS} records into this call "
        f"(received {count})",
    )


def _failure(error: ApiError) -> dict[str, Any]:
    return {"success": False, "errors": [error.collection_error()]}


def _run(req: ApiRequest, items: list[Any], operation: Operation, all_or_none: bool) -> ApiResponse:
    """Apply ``operation`` to each item, collecting results; roll back when asked to."""
    results: list[dict[str, Any]] = []

    def apply_all() -> bool:
        failed = False
        for item in items:
            try:
                results.append(operation(item))
            except ApiError as exc:
                if exc.status == 300:
                    exc = ApiError(300, "DUPLICATE_EXTERNAL_ID", _duplicates_message(exc), [])
                results.append(_failure(exc))
                failed = True
        return failed

    if not all_or_none:
        apply_all()
        return ok(results)
    try:
        with req.state.org.transaction():
            if apply_all():
                raise _Rollback
    except _Rollback:
        # Records that failed keep their error; everything else was rolled back.
        results = [
            {"success": False, "errors": [dict(ROLLED_BACK)]} if r.get("success") else r
            for r in results
        ]
    return ok(results)


def _duplicates_message(error: ApiError) -> str:
    ids = matching_ids(error)
    if ids:
        return (
            f"Foreign key external ID: more than one record found with this value: {', '.join(ids)}"
        )
    return error.message


def _records(req: ApiRequest) -> tuple[list[Any], bool]:
    body = require_object(req.body, "SObjectCollection")
    records = body.get("records")
    if not isinstance(records, list):
        raise ApiError(400, "JSON_PARSER_ERROR", "records: a list of records is required")
    if len(records) > MAX_RECORDS:
        raise _too_many(len(records))
    return records, flag(body.get("allOrNone", False))


def _type_of(record: Any) -> str:
    if not isinstance(record, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "Each record must be a JSON object", [])
    attributes = record.get("attributes")
    kind = attributes.get("type") if isinstance(attributes, dict) else None
    if not isinstance(kind, str) or not kind:
        raise ApiError(400, "INVALID_TYPE", "No SObject Type defined in attributes", [])
    return kind


def _values(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "attributes"}


def create(req: ApiRequest, _: dict[str, str]) -> ApiResponse:
    records, all_or_none = _records(req)
    org = req.state.org

    def one(record: Any) -> dict[str, Any]:
        obj = object_def(req, _type_of(record))
        values = _values(record)
        if values.get("Id") or values.get("id"):
            raise ApiError(400, "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
        record_id = org.create(obj.name, values, user_id=req.user_id)
        return {"id": record_id, "success": True, "errors": []}

    return _run(req, records, one, all_or_none)


def update(req: ApiRequest, _: dict[str, str]) -> ApiResponse:
    records, all_or_none = _records(req)
    org = req.state.org

    def one(record: Any) -> dict[str, Any]:
        obj = object_def(req, _type_of(record))
        values = _values(record)
        record_id = values.pop("Id", None) or values.pop("id", None)
        if not isinstance(record_id, str) or not record_id:
            raise ApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call", [])
        org.update(obj.name, record_id, values, user_id=req.user_id)
        return {"id": _full_id(record_id), "success": True, "errors": []}

    return _run(req, records, one, all_or_none)


def _full_id(record_id: str) -> str:
    return ids.try_normalize(record_id) or record_id


def upsert(req: ApiRequest, p: dict[str, str]) -> ApiResponse:
    records, all_or_none = _records(req)
    obj = object_def(req, p["sobject"])
    field = lookup_field(obj, p["field"])
    org = req.state.org

    def one(record: Any) -> dict[str, Any]:
        kind = _type_of(record)
        if kind.lower() != obj.name.lower():
            raise ApiError(
                400, "INVALID_TYPE", f"The record type {kind} does not match {obj.name}", []
            )
        values = _values(record)
        key = next((v for k, v in values.items() if k.lower() == field.lower()), None)
        if key is None or key == "":
            raise ApiError(
                400,
                "MISSING_ARGUMENT",
                f"{field} not specified",
                [],
            )
        values = {k: v for k, v in values.items() if k.lower() != field.lower()}
        record_id, was_created = org.upsert(obj.name, field, str(key), values, user_id=req.user_id)
        return {"id": record_id, "success": True, "errors": [], "created": bool(was_created)}

    return _run(req, records, one, all_or_none)


def delete(req: ApiRequest, _: dict[str, str]) -> ApiResponse:
    raw = req.params.get("ids", "")
    targets = [i.strip() for i in raw.split(",") if i.strip()]
    if not targets:
        raise ApiError(400, "MISSING_ARGUMENT", "ids parameter not specified")
    if len(targets) > MAX_RECORDS:
        raise _too_many(len(targets))
    org = req.state.org

    def one(record_id: Any) -> dict[str, Any]:
        obj = org.object_for_id(record_id) if looks_like_id(record_id) else None
        if obj is None:
            raise ApiError(400, "MALFORMED_ID", f"malformed id {record_id}", [])
        org.delete(obj.name, record_id, user_id=req.user_id)
        return {"id": _full_id(record_id), "success": True, "errors": []}

    return _run(req, targets, one, flag(req.params.get("allOrNone", "false")))


def _retrieve(req: ApiRequest, sobject: str, targets: list[str], fields: list[str]) -> ApiResponse:
    obj = object_def(req, sobject)
    if not fields:
        raise ApiError(400, "MISSING_ARGUMENT", "fields parameter not specified")
    if not targets:
        raise ApiError(400, "MISSING_ARGUMENT", "ids parameter not specified")
    if len(targets) > 2000:
        raise _too_many(len(targets))
    out: list[Any] = []
    org = req.state.org
    for record_id in targets:
        if not looks_like_id(record_id):
            out.append(None)
            continue
        try:
            record = org.retrieve(obj.name, record_id, user_id=req.user_id, fields=fields)
        except ApiError as exc:
            if exc.error_code == "INVALID_FIELD":
                raise
            out.append(None)
            continue
        out.append(wire_record(req.prefix, obj.name, record))
    return ok(out)


def retrieve_get(req: ApiRequest, p: dict[str, str]) -> ApiResponse:
    targets = [i.strip() for i in req.params.get("ids", "").split(",") if i.strip()]
    fields = [f.strip() for f in req.params.get("fields", "").split(",") if f.strip()]
    return _retrieve(req, p["sobject"], targets, fields)


def retrieve_post(req: ApiRequest, p: dict[str, str]) -> ApiResponse:
    body = require_object(req.body, "SObjectCollectionRetrieve")
    targets = body.get("ids") or []
    fields = body.get("fields") or []
    if not isinstance(targets, list) or not isinstance(fields, list):
        raise ApiError(400, "JSON_PARSER_ERROR", "ids and fields must be lists")
    return _retrieve(req, p["sobject"], [str(i) for i in targets], [str(f) for f in fields])


def register(router: Router) -> None:
    router.add("POST", "composite/sobjects", create)
    router.add("PATCH", "composite/sobjects", update)
    router.add("DELETE", "composite/sobjects", delete)
    router.add("GET", "composite/sobjects/{sobject}", retrieve_get)
    router.add("POST", "composite/sobjects/{sobject}", retrieve_post)
    router.add("PATCH", "composite/sobjects/{sobject}/{field}", upsert)
