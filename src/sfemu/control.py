"""The control plane under ``/_emulator/``: JSON routes a test or a demo drives sfemu with.

Every route needs the header ``X-Emulator-Key`` (printed at start); Salesforce access tokens
are never accepted here. ``{org}`` is an org id (15 or 18 characters) or ``default``.
docs/emulator.md lists every route with its body.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any, get_args

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sfemu.apps import DEFAULT_SCOPES
from sfemu.callouts import CalloutError
from sfemu.faults import FaultError, Latency
from sfemu.model import ApiError, FieldDef, FieldType, PicklistValue
from sfemu.rest.shape import wire_record
from sfemu.runtime import Emulator, OrgState

PREFIX = "/_emulator"
KEY_HEADER = "x-emulator-key"
_WIRE_PREFIX = "/services/data/v62.0"

Endpoint = Callable[[Request], Awaitable[Response]]


class ControlError(Exception):
    """A control-plane request is wrong; answered as ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ControlError(400, f"body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ControlError(400, "body must be a JSON object")
    return data


def _need(data: dict[str, Any], key: str) -> Any:
    if key not in data or data[key] in (None, ""):
        raise ControlError(400, f"'{key}' is required")
    return data[key]


class ControlPlane:
    """The control-plane endpoints bound to one emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    # -- plumbing ----------------------------------------------------------------------

    def wrap(self, handler: Endpoint, *, mutates: bool) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            given = request.headers.get(KEY_HEADER, "")
            if not hmac.compare_digest(given.encode(), self.emulator.control_key.encode()):
                return _json({"error": f"missing or wrong {KEY_HEADER} header"}, 401)
            try:
                response = await handler(request)
            except ControlError as exc:
                return _json({"error": exc.message}, exc.status)
            except (FaultError, CalloutError, ValueError, KeyError, TypeError) as exc:
                return _json({"error": str(exc)}, 400)
            except ApiError as exc:
                return _json(
                    {"error": exc.message, "errorCode": exc.error_code, "fields": exc.fields},
                    exc.status,
                )
            if mutates and response.status_code < 400:
                self.emulator.mark_dirty()
            return response

        return endpoint

    def state(self, request: Request) -> OrgState:
        org_id = request.path_params["org"]
        if org_id == "default":
            if self.emulator.default_org_id is None:
                raise ControlError(404, "no default org")
            return self.emulator.default_state
        found = self.emulator.state(org_id)
        if found is None:
            raise ControlError(404, f"no org {org_id}")
        return found

    def summary(self, request: Request, state: OrgState) -> dict[str, Any]:
        base = str(request.base_url).rstrip("/")
        org = state.org
        return {
            "org_id": state.org_id,
            "name": getattr(org, "name", None),
            "default": state.org_id == self.emulator.default_org_id,
            "instance_url": self.emulator.public_url or base,
            "login_url": self.emulator.public_url or base,
            **state.credentials.to_dict(),
        }

    # -- emulator-wide -----------------------------------------------------------------

    async def info(self, request: Request) -> Response:
        return _json(
            {
                "default_org_id": self.emulator.default_org_id,
                "orgs": sorted(self.emulator.orgs),
                "auto_approve": self.emulator.auto_approve,
                "persistent": self.emulator.data_path is not None,
            }
        )

    async def auto_approve(self, request: Request) -> Response:
        if request.method == "PUT":
            data = await _body(request)
            self.emulator.auto_approve = bool(_need(data, "enabled"))
        return _json({"enabled": self.emulator.auto_approve})

    async def list_orgs(self, request: Request) -> Response:
        return _json([self.summary(request, s) for s in self.emulator.orgs.values()])

    async def create_org(self, request: Request) -> Response:
        data = await _body(request)
        state = self.emulator.create_org(seed=data.get("seed"), name=data.get("name"))
        return _json(self.summary(request, state), 201)

    async def get_org(self, request: Request) -> Response:
        return _json(self.summary(request, self.state(request)))

    async def reset_org(self, request: Request) -> Response:
        data = await _body(request)
        state = self.emulator.reset_org(self.state(request).org_id, seed=data.get("seed"))
        return _json(self.summary(request, state))

    async def seed(self, request: Request) -> Response:
        from sfemu import seeds

        data = await _body(request)
        state = self.state(request)
        try:
            seeds.apply_seed(state.org, str(_need(data, "name")))
        except ValueError as exc:
            raise ControlError(400, str(exc)) from exc
        return _json({"seed": data["name"]}, 201)

    # -- schema ------------------------------------------------------------------------

    async def add_field(self, request: Request) -> Response:
        data = await _body(request)
        state = self.state(request)
        obj = str(_need(data, "object"))
        field = state.org.add_custom_field(obj, field_from_json(data))
        return _json({"object": obj, "field": field.name, "type": field.type}, 201)

    async def remove_field(self, request: Request) -> Response:
        state = self.state(request)
        state.org.remove_field(request.path_params["object"], request.path_params["field"])
        return Response(status_code=204)

    async def field_visibility(self, request: Request) -> Response:
        data = await _body(request)
        state = self.state(request)
        visible = bool(data.get("visible", False))
        args = (str(_need(data, "object")), str(_need(data, "field")), str(_need(data, "user_id")))
        if visible:
            state.org.show_field(*args)
        else:
            state.org.hide_field(*args)
        return _json({"visible": visible})

    # -- users and apps ----------------------------------------------------------------

    async def users(self, request: Request) -> Response:
        state = self.state(request)
        if request.method == "GET":
            rows = [wire_record(_WIRE_PREFIX, "User", r) for r in state.org.rows("User")]
            return _json(rows)
        data = await _body(request)
        password = data.pop("password", None)
        username = str(_need(data, "username"))
        user_id = state.org.create_user(
            username,
            email=str(data.get("email") or username),
            first_name=data.get("first_name"),
            last_name=str(_need(data, "last_name")),
            permissions=data.get("permissions") or ["ApiEnabled"],
            time_zone=str(data.get("time_zone") or "America/Los_Angeles"),
            is_active=bool(data.get("is_active", True)),
            profile=str(data.get("profile") or "Standard User"),
        )
        if password:
            state.org.set_password(user_id, str(password))
        return _json({"id": user_id, "username": username}, 201)

    async def grant(self, request: Request) -> Response:
        data = await _body(request)
        state = self.state(request)
        permission = str(_need(data, "permission"))
        granted = bool(data.get("granted", True))
        user_id = request.path_params["user"]
        if granted:
            state.org.grant(user_id, permission)
        else:
            state.org.revoke(user_id, permission)
        return _json(
            {
                "permission": permission,
                "granted": granted,
                "permissions": sorted(state.org.permissions(user_id)),
            }
        )

    async def apps(self, request: Request) -> Response:
        state = self.state(request)
        if request.method == "GET":
            return _json([app.to_dict() for app in state.org.apps.values()])
        data = await _body(request)
        app = state.org.create_connected_app(
            str(_need(data, "name")),
            callback_urls=list(data.get("callback_urls") or []),
            scopes=list(data.get("scopes") or DEFAULT_SCOPES),
            client_id=data.get("client_id"),
            client_secret=data.get("client_secret"),
            refresh_token_rotation=bool(data.get("refresh_token_rotation", False)),
            jwt_public_key_pem=data.get("jwt_public_key_pem"),
            client_credentials_user_id=data.get("client_credentials_user_id"),
        )
        return _json(app.to_dict(), 201)

    # -- callouts ----------------------------------------------------------------------

    async def callouts(self, request: Request) -> Response:
        book = self.state(request).callouts
        if request.method == "GET":
            return _json([rule.to_dict() for rule in book.rules.values()])
        if request.method == "DELETE":
            book.clear()
            return Response(status_code=204)
        rule = book.add(await _body(request))
        return _json(rule.to_dict(), 201)

    async def callout(self, request: Request) -> Response:
        if not self.state(request).callouts.remove(request.path_params["rule"]):
            raise ControlError(404, "no such callout rule")
        return Response(status_code=204)

    async def callout_log(self, request: Request) -> Response:
        book = self.state(request).callouts
        if request.method == "DELETE":
            book.log.clear()
            return Response(status_code=204)
        return _json([attempt.to_dict() for attempt in book.log])

    # -- faults, latency, limits, counters ---------------------------------------------

    async def faults(self, request: Request) -> Response:
        faults = self.state(request).faults
        if request.method == "GET":
            return _json(
                [{**r.to_dict(), "fired": faults.fired.get(r.id, 0)} for r in faults.rules()]
            )
        if request.method == "DELETE":
            faults.clear()
            return Response(status_code=204)
        rule = faults.add(await _body(request))
        return _json(rule.to_dict(), 201)

    async def fault(self, request: Request) -> Response:
        if not self.state(request).faults.remove(request.path_params["rule"]):
            raise ControlError(404, "no such fault rule")
        return Response(status_code=204)

    async def latency(self, request: Request) -> Response:
        state = self.state(request)
        if request.method == "PUT":
            data = await _body(request)
            state.latency = Latency(
                fixed_ms=float(data.get("fixed_ms", 0)), jitter_ms=float(data.get("jitter_ms", 0))
            )
        return _json(state.latency.to_dict())

    async def limits(self, request: Request) -> Response:
        state = self.state(request)
        if request.method == "PUT":
            data = await _body(request)
            if "daily_limit" in data:
                limit = int(data["daily_limit"])
                if limit < 0:
                    raise ControlError(400, "daily_limit must be >= 0")
                state.usage.limit = limit
            if data.get("reset_usage"):
                state.usage.reset_usage()
        snapshot = state.usage.snapshot()
        return _json(
            {"daily_limit": snapshot.limit, "used": snapshot.used, "remaining": snapshot.remaining}
        )

    async def counters(self, request: Request) -> Response:
        usage = self.state(request).usage
        if request.method == "DELETE":
            usage.reset_counters()
            return Response(status_code=204)
        return _json(usage.to_dict())

    # -- sessions ----------------------------------------------------------------------

    async def expire_tokens(self, request: Request) -> Response:
        count = self.emulator.tokens.expire_all(self.state(request).org_id)
        return _json({"expired": count})

    async def revoke_refresh_tokens(self, request: Request) -> Response:
        count = self.emulator.tokens.revoke_refresh_tokens(self.state(request).org_id)
        return _json({"revoked": count})

    async def session_timeout(self, request: Request) -> Response:
        state = self.state(request)
        if request.method == "PUT":
            data = await _body(request)
            seconds = int(_need(data, "seconds"))
            if seconds <= 0:
                raise ControlError(400, "seconds must be > 0")
            state.org.session_timeout_seconds = seconds
        return _json({"seconds": state.org.session_timeout_seconds})

    async def search_lag(self, request: Request) -> Response:
        state = self.state(request)
        if request.method == "PUT":
            data = await _body(request)
            seconds = float(_need(data, "seconds"))
            if seconds < 0:
                raise ControlError(400, "seconds must be >= 0")
            state.org.search_lag_seconds = seconds
        return _json({"seconds": state.org.search_lag_seconds})

    # -- records -----------------------------------------------------------------------

    async def records(self, request: Request) -> Response:
        state = self.state(request)
        org = state.org
        obj = org.object(request.path_params["object"])
        if obj is None:
            raise ControlError(404, f"no object {request.path_params['object']}")
        if request.method == "POST":
            data = await _body(request)
            user_id = str(data.pop("_user_id", org.admin_user_id))
            record_id = org.create(obj.name, data, user_id=user_id)
            return _json({"id": record_id}, 201)
        include_deleted = request.query_params.get("include_deleted") == "true"
        filters = {
            k: v for k, v in request.query_params.items() if k not in {"include_deleted", "limit"}
        }
        rows = []
        for row in org.rows(obj.name, include_deleted=include_deleted):
            if all(str(row.get(k)) == v for k, v in filters.items()):
                rows.append(wire_record(_WIRE_PREFIX, obj.name, row))
        limit = request.query_params.get("limit")
        if limit is not None:
            rows = rows[: int(limit)]
        return _json(rows)

    async def record(self, request: Request) -> Response:
        state = self.state(request)
        org = state.org
        obj = org.object(request.path_params["object"])
        if obj is None:
            raise ControlError(404, f"no object {request.path_params['object']}")
        record_id = request.path_params["id"]
        if request.method == "GET":
            row = org.get(record_id, include_deleted=True)
            if row is None:
                raise ControlError(404, f"no record {record_id}")
            return _json(wire_record(_WIRE_PREFIX, obj.name, row))
        if request.method == "DELETE":
            org.delete(obj.name, record_id, user_id=org.admin_user_id)
            return Response(status_code=204)
        data = await _body(request)
        user_id = str(data.pop("_user_id", org.admin_user_id))
        org.update(obj.name, record_id, data, user_id=user_id)
        return Response(status_code=204)


_FIELD_OPTIONS = {
    "length": int,
    "nillable": bool,
    "unique": bool,
    "external_id": bool,
    "id_lookup": bool,
    "case_sensitive": bool,
    "restricted_picklist": bool,
}


def field_from_json(data: dict[str, Any]) -> FieldDef:
    """A custom field definition from control-plane JSON.

    Keys: ``name`` (ending in ``__c``), ``type`` (default ``string``), ``label``, ``length``
    (default 255 for text), ``unique``, ``external_id``, ``nillable``, ``picklist`` (values),
    ``restricted_picklist``, ``reference_to`` (for ``reference``), ``relationship_name``.
    """
    name = str(_need(data, "name"))
    kind = str(data.get("type") or "string")
    if kind not in get_args(FieldType):
        raise ControlError(400, f"type must be one of {', '.join(get_args(FieldType))}")
    options: dict[str, Any] = {k: cast(data[k]) for k, cast in _FIELD_OPTIONS.items() if k in data}
    if "length" not in options and kind in ("string", "email", "phone", "url", "picklist"):
        options["length"] = 255
    if kind == "textarea" and "length" not in options:
        options["length"] = 32768
    if options.get("external_id"):
        options.setdefault("id_lookup", True)
    picklist = tuple(PicklistValue(value=str(v), label=str(v)) for v in data.get("picklist") or ())
    reference_to = tuple(str(v) for v in data.get("reference_to") or ())
    search_group: Any = {"email": "email", "phone": "phone"}.get(kind)
    if kind in ("string", "textarea") and search_group is None:
        search_group = "text"
    return FieldDef(
        name=name,
        label=str(data.get("label") or name.removesuffix("__c").replace("_", " ")),
        type=kind,  # type: ignore[arg-type]  # checked against FieldType above
        custom=True,
        picklist=picklist,
        reference_to=reference_to,
        relationship_name=data.get("relationship_name")
        or (name.removesuffix("__c") + "__r" if reference_to else None),
        search_group=search_group,
        **options,
    )


def control_routes(emulator: Emulator) -> list[BaseRoute]:
    """The control plane's routes (mounted only when the control plane is on)."""
    cp = ControlPlane(emulator)
    org = PREFIX + "/orgs/{org}"
    table: list[tuple[str, Endpoint, list[str], bool]] = [
        (PREFIX, cp.info, ["GET"], False),
        (PREFIX + "/auto-approve", cp.auto_approve, ["GET", "PUT"], True),
        (PREFIX + "/orgs", cp.list_orgs, ["GET"], False),
        (PREFIX + "/orgs", cp.create_org, ["POST"], True),
        (org, cp.get_org, ["GET"], False),
        (org + "/reset", cp.reset_org, ["POST"], True),
        (org + "/seed", cp.seed, ["POST"], True),
        (org + "/fields", cp.add_field, ["POST"], True),
        (org + "/fields/{object}/{field}", cp.remove_field, ["DELETE"], True),
        (org + "/field-visibility", cp.field_visibility, ["POST"], True),
        (org + "/users", cp.users, ["GET", "POST"], True),
        (org + "/users/{user}/permissions", cp.grant, ["POST"], True),
        (org + "/apps", cp.apps, ["GET", "POST"], True),
        (org + "/callouts", cp.callouts, ["GET", "POST", "DELETE"], True),
        (org + "/callouts/log", cp.callout_log, ["GET", "DELETE"], False),
        (org + "/callouts/{rule}", cp.callout, ["DELETE"], True),
        (org + "/faults", cp.faults, ["GET", "POST", "DELETE"], False),
        (org + "/faults/{rule}", cp.fault, ["DELETE"], False),
        (org + "/latency", cp.latency, ["GET", "PUT"], True),
        (org + "/limits", cp.limits, ["GET", "PUT"], True),
        (org + "/counters", cp.counters, ["GET", "DELETE"], False),
        (org + "/expire-tokens", cp.expire_tokens, ["POST"], True),
        (org + "/revoke-refresh-tokens", cp.revoke_refresh_tokens, ["POST"], True),
        (org + "/session-timeout", cp.session_timeout, ["GET", "PUT"], True),
        (org + "/search-lag", cp.search_lag, ["GET", "PUT"], True),
        (org + "/records/{object}", cp.records, ["GET", "POST"], True),
        (org + "/records/{object}/{id}", cp.record, ["GET", "PATCH", "DELETE"], True),
    ]
    return [
        Route(path, cp.wrap(handler, mutates=mutates), methods=methods)
        for path, handler, methods, mutates in table
    ]
