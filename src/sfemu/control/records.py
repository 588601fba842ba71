"""Control-plane endpoints for records: list, filter, create, read, update, delete.

Writes act as the org's admin unless the body names ``_user_id``. No API call is counted,
so a test can arrange and inspect state without spending the org's limits.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sfemu.control.plane import (
    WIRE_PREFIX,
    ControlError,
    Handlers,
    json_response,
    no_content,
    read_body,
)
from sfemu.model import ObjectDef
from sfemu.org import Org
from sfemu.rest.shape import wire_record


class RecordHandlers(Handlers):
    """An object's records (``/records/{object}``) and one record (``/records/{object}/{id}``)."""

    def _object(self, request: Request) -> tuple[Org, ObjectDef]:
        org = self.state(request).org
        obj = org.object(request.path_params["object"])
        if obj is None:
            raise ControlError(404, f"no object {request.path_params['object']}")
        return org, obj

    async def records(self, request: Request) -> Response:
        org, obj = self._object(request)
        if request.method == "POST":
            data = await read_body(request)
            user_id = str(data.pop("_user_id", org.admin_user_id))
            record_id = org.create(obj.name, data, user_id=user_id)
            return json_response({"id": record_id}, 201)
        include_deleted = request.query_params.get("include_deleted") == "true"
        filters = {
            k: v for k, v in request.query_params.items() if k not in {"include_deleted", "limit"}
        }
        rows = []
        for row in org.rows(obj.name, include_deleted=include_deleted):
            if all(str(row.get(k)) == v for k, v in filters.items()):
                rows.append(wire_record(WIRE_PREFIX, obj.name, row))
        limit = request.query_params.get("limit")
        if limit is not None:
            rows = rows[: int(limit)]
        return json_response(rows)

    async def record(self, request: Request) -> Response:
        org, obj = self._object(request)
        record_id = request.path_params["id"]
        if request.method == "GET":
            row = org.get(record_id, include_deleted=True)
            if row is None:
                raise ControlError(404, f"no record {record_id}")
            return json_response(wire_record(WIRE_PREFIX, obj.name, row))
        if request.method == "DELETE":
            org.delete(obj.name, record_id, user_id=org.admin_user_id)
            return no_content()
        data = await read_body(request)
        user_id = str(data.pop("_user_id", org.admin_user_id))
        org.update(obj.name, record_id, data, user_id=user_id)
        return no_content()
