"""Control-plane endpoints for an org's setup: custom fields, users, permissions, apps."""

from __future__ import annotations

from typing import Any, get_args

from starlette.requests import Request
from starlette.responses import Response

from sfemu.apps import DEFAULT_SCOPES
from sfemu.control.plane import (
    WIRE_PREFIX,
    ControlError,
    Handlers,
    json_response,
    need,
    no_content,
    read_body,
)
from sfemu.model import FieldDef, FieldType, PicklistValue
from sfemu.rest.shape import wire_record


class SetupHandlers(Handlers):
    """Custom fields and their visibility, users and their permissions, connected apps."""

    # -- schema ------------------------------------------------------------------------

    async def add_field(self, request: Request) -> Response:
        data = await read_body(request)
        state = self.state(request)
        obj = str(need(data, "object"))
        field = state.org.add_custom_field(obj, field_from_json(data))
        return json_response({"object": obj, "field": field.name, "type": field.type}, 201)

    async def remove_field(self, request: Request) -> Response:
        state = self.state(request)
        state.org.remove_field(request.path_params["object"], request.path_params["field"])
        return no_content()

    async def field_visibility(self, request: Request) -> Response:
        data = await read_body(request)
        state = self.state(request)
        visible = bool(data.get("visible", False))
        args = (str(need(data, "object")), str(need(data, "field")), str(need(data, "user_id")))
        if visible:
            state.org.show_field(*args)
        else:
            state.org.hide_field(*args)
        return json_response({"visible": visible})

    # -- users and apps ----------------------------------------------------------------

    async def users(self, request: Request) -> Response:
        state = self.state(request)
        if request.method == "GET":
            rows = [wire_record(WIRE_PREFIX, "User", r) for r in state.org.rows("User")]
            return json_response(rows)
        data = await read_body(request)
        password = data.pop("password", None)
        username = str(need(data, "username"))
        user_id = state.org.create_user(
            username,
            email=str(data.get("email") or username),
            first_name=data.get("first_name"),
            last_name=str(need(data, "last_name")),
            permissions=data.get("permissions") or ["ApiEnabled"],
            time_zone=str(data.get("time_zone") or "America/Los_Angeles"),
            is_active=bool(data.get("is_active", True)),
            profile=str(data.get("profile") or "Standard User"),
        )
        if password:
            state.org.set_password(user_id, str(password))
        return json_response({"id": user_id, "username": username}, 201)

    async def grant(self, request: Request) -> Response:
        data = await read_body(request)
        state = self.state(request)
        permission = str(need(data, "permission"))
        granted = bool(data.get("granted", True))
        user_id = request.path_params["user"]
        if granted:
            state.org.grant(user_id, permission)
        else:
            state.org.revoke(user_id, permission)
        return json_response(
            {
                "permission": permission,
                "granted": granted,
                "permissions": sorted(state.org.permissions(user_id)),
            }
        )

    async def apps(self, request: Request) -> Response:
        state = self.state(request)
        if request.method == "GET":
            return json_response([app.to_dict() for app in state.org.apps.values()])
        data = await read_body(request)
        app = state.org.create_connected_app(
            str(need(data, "name")),
            callback_urls=list(data.get("callback_urls") or []),
            scopes=list(data.get("scopes") or DEFAULT_SCOPES),
            client_id=data.get("client_id"),
            client_secret=data.get("client_secret"),
            refresh_token_rotation=bool(data.get("refresh_token_rotation", False)),
            jwt_public_key_pem=data.get("jwt_public_key_pem"),
            client_credentials_user_id=data.get("client_credentials_user_id"),
        )
        return json_response(app.to_dict(), 201)


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

    Raises:
        ControlError: 400 when ``name`` is missing or ``type`` is unknown.
    """
    name = str(need(data, "name"))
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
