"""sObject resources: describe, CRUD, external-id get/upsert/delete, updated/deleted windows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sfemu import describe
from sfemu.model import ApiError, ObjectDef, Record, format_datetime
from sfemu.rest.router import Router
from sfemu.rest.shape import record_url, wire_record
from sfemu.rest.wire import ApiRequest, ApiResponse, no_content, not_found, ok, require_object

_ID_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
#: The API version from which an upsert that updates answers 200 with a body (204 before).
UPSERT_BODY_VERSION = 46.0


def looks_like_id(text: str) -> bool:
    """15 or 18 alphanumerics: the shape of a record id (validity is the org's to judge)."""
    return len(text) in (15, 18) and all(c in _ID_CHARS for c in text)


def object_def(req: ApiRequest, name: str) -> ObjectDef:
    """The object named in the URL, or ``404 NOT_FOUND``."""
    found = req.state.org.object(name)
    if found is None:
        raise not_found()
    return found


def ext_field_missing(name: str) -> ApiError:
    return ApiError(
        404,
        "NOT_FOUND",
        f"Provided external ID field does not exist or is not accessible: {name}",
    )


def lookup_field(obj: ObjectDef, name: str) -> str:
    """The canonical name of a field usable as an external id (``Id`` included)."""
    field = obj.field(name)
    if field is None or not (field.external_id or field.id_lookup or field.type == "id"):
        raise ext_field_missing(name)
    return field.name


def multiple_choices(req: ApiRequest, object_name: str, ids: list[str]) -> ApiResponse:
    """300 with the URLs of every matching record (reference 2.5)."""
    return ok([record_url(req.prefix, object_name, i) for i in ids], status=300)


def matching_ids(error: ApiError) -> list[str]:
    """The record ids an org's "several matches" error carries."""
    for attr in ("record_ids", "ids", "matches"):
        value = getattr(error, attr, None)
        if value:
            return [str(v) for v in value]
    return []


def _fields_param(req: ApiRequest) -> list[str] | None:
    raw = req.params.get("fields")
    if raw is None:
        return None
    return [f.strip() for f in raw.split(",") if f.strip()]


def retrieve(req: ApiRequest, obj: ObjectDef, record_id: str, fields: list[str] | None) -> Record:
    """One record, shaped for the wire."""
    record = req.state.org.retrieve(obj.name, record_id, user_id=req.user_id, fields=fields)
    return wire_record(req.prefix, obj.name, record)


def created(req: ApiRequest, object_name: str, record_id: str) -> ApiResponse:
    location = record_url(req.prefix, object_name, record_id)
    return ok(
        {"id": record_id, "success": True, "errors": []}, status=201, headers={"Location": location}
    )


# -- handlers ------------------------------------------------------------------------------


def describe_global(req: ApiRequest, _: dict[str, str]) -> ApiResponse:
    return ok(describe.describe_global(req.state.org, req.version))


def basic_info(req: ApiRequest, p: dict[str, str]) -> ApiResponse:
    obj = object_def(req, p["sobject"])
    return ok(describe.basic_info(req.state.org, obj.name, req.version))


def describe_object(req: ApiRequest, p: dict[str, str]) -> ApiResponse:
    obj = object_def(req, p["sobject"])
    return ok(describe.describe_object(req.state.org, obj.name, req.version, user_id=req.user_id))


def create(req: ApiRequest, p: dict[str, str]) -> ApiResponse:
    obj = object_def(req, p["sobject"])
    values = require_object(req.body)
    values = {k: v for k, v in values.items() if k != "attributes"}
    record_id = req.state.org.create(obj.name, values, user_id=req.user_id)
    return created(req, obj.name, record_id)


def get_record(req: ApiRequest, p: dict[str, str]) -> ApiResponse:
    obj = object_def(req, p["sobject"])
    key = p["id"]
    if not looks_like_id(key):
        raise ext_field_missing(key)
    return ok(retrieve(req, obj, key, _fields_param(req)))


def update_record(req: ApiRequest, p: dict[str, str]) -> ApiResponse:
    obj = object_def(req, p["sobject"])
    key = p["id"]
    values = require_object(req.body)
    if not looks_like_id(key):
        raise ext_field_missing(key)
    values = {k: v for k, v in values.items() if k != "attributes"}
    req.state.org.update(obj.name, key, values, user_id=req.user_id)
    return no_content()


def delete_record(req: ApiRequest, p: dict[str, str]) -> ApiResponse:
    obj = object_def(req, p["sobject"])
    key = p["id"]
    if not looks_like_id(key):
        raise ext_field_missing(key)
    req.state.org.delete(obj.name, key, user_id=req.user_id)
    return no_content()


def create_by_id_field(req: ApiRequest, p: dict[str, str]) -> ApiResponse:
    """``POST sobjects/Account/Id``: a create addressed through the ``Id`` field."""
    if p["id"].lower() != "id":
        raise ApiError(
            405,
            "METHOD_NOT_ALLOWED",
            "HTTP Method 'POST' not allowed. Allowed are GET,HEAD,PATCH,DELETE",
        )
    return create(req, p)


def _by_external_id(req: ApiRequest, p: dict[str, str]) -> tuple[ObjectDef, list[str]]:
    """The object and the ids of its records whose ``{field}`` holds ``{value}`` (404 if none)."""
    obj = object_def(req, p["sobject"])
    field = lookup_field(obj, p["field"])
    found = req.state.org.find_by_field(obj.name, field, p["value"])
    ids = [str(r["Id"]) for r in found or []]
    if not ids:
        raise not_found()
    return obj, ids


def get_by_external_id(req: ApiRequest, p: dict[str, str]) -> ApiResponse:
    obj, ids = _by_external_id(req, p)
    if len(ids) > 1:
        return multiple_choices(req, obj.name, ids)
    return ok(retrieve(req, obj, ids[0], _fields_param(req)))


def upsert(req: ApiRequest, p: dict[str, str]) -> ApiResponse:
    obj = object_def(req, p["sobject"])
    field = lookup_field(obj, p["field"])
    values = require_object(req.body)
    values = {k: v for k, v in values.items() if k != "attributes"}
    try:
        record_id, was_created = req.state.org.upsert(
            obj.name, field, p["value"], values, user_id=req.user_id
        )
    except ApiError as exc:
        if exc.status == 300:
            return multiple_choices(req, obj.name, matching_ids(exc))
        raise
    if was_created:
        response = created(req, obj.name, record_id)
        return ok({**response.body, "created": True}, status=201, headers=response.headers)
    if req.version_number < UPSERT_BODY_VERSION:
        return no_content()
    return ok({"id": record_id, "success": True, "errors": [], "created": False})


def delete_by_external_id(req: ApiRequest, p: dict[str, str]) -> ApiResponse:
    obj, ids = _by_external_id(req, p)
    if len(ids) > 1:
        return multiple_choices(req, obj.name, ids)
    req.state.org.delete(obj.name, ids[0], user_id=req.user_id)
    return no_content()


def _window(req: ApiRequest) -> tuple[dt.datetime, dt.datetime]:
    def parse(name: str) -> dt.datetime:
        raw = req.params.get(name)
        if not raw:
            raise ApiError(400, "MISSING_ARGUMENT", f"{name} parameter not specified")
        try:
            value = dt.datetime.fromisoformat(raw.strip().replace(" ", "+"))
        except ValueError as exc:
            raise ApiError(
                400, "INVALID_REPLICATION_DATE", f"{name} date is invalid: {raw}"
            ) from exc
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)

    start, end = parse("start"), parse("end")
    if end < start:
        raise ApiError(400, "INVALID_REPLICATION_DATE", "end date must be after start date")
    return start, end


def _covered(end: dt.datetime, now: dt.datetime) -> str:
    """``latestDateCovered``: the end of the window, never later than now, to the minute."""
    latest = min(end.astimezone(dt.UTC), now).replace(second=0, microsecond=0)
    return format_datetime(latest)


def updated(req: ApiRequest, p: dict[str, str]) -> ApiResponse:
    obj = object_def(req, p["sobject"])
    start, end = _window(req)
    org = req.state.org
    found = org.updated_ids(obj.name, start, end)
    return ok({"ids": found, "latestDateCovered": _covered(end, org.now())})


def deleted(req: ApiRequest, p: dict[str, str]) -> ApiResponse:
    obj = object_def(req, p["sobject"])
    start, end = _window(req)
    org = req.state.org
    rows = org.deleted_records(obj.name, start, end)
    body: dict[str, Any] = {
        "deletedRecords": [{"id": i, "deletedDate": format_datetime(when)} for i, when in rows],
        "earliestDateAvailable": format_datetime(
            (org.now() - dt.timedelta(days=15)).replace(second=0, microsecond=0)
        ),
        "latestDateCovered": _covered(end, org.now()),
    }
    return ok(body)


def register(router: Router) -> None:
    """Add the sObject routes (literal segments before the ones they shadow)."""
    router.add("GET", "sobjects", describe_global)
    router.add("GET", "sobjects/{sobject}", basic_info)
    router.add("POST", "sobjects/{sobject}", create)
    router.add("GET", "sobjects/{sobject}/describe", describe_object)
    router.add("GET", "sobjects/{sobject}/updated", updated)
    router.add("GET", "sobjects/{sobject}/deleted", deleted)
    router.add("GET", "sobjects/{sobject}/{id}", get_record)
    router.add("PATCH", "sobjects/{sobject}/{id}", update_record)
    router.add("DELETE", "sobjects/{sobject}/{id}", delete_record)
    router.add("POST", "sobjects/{sobject}/{id}", create_by_id_field)
    router.add("GET", "sobjects/{sobject}/{field}/{value}", get_by_external_id)
    router.add("PATCH", "sobjects/{sobject}/{field}/{value}", upsert)
    router.add("DELETE", "sobjects/{sobject}/{field}/{value}", delete_by_external_id)
