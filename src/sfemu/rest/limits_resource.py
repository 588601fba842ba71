"""The version root (resource list) and ``limits`` (reference 2.2, 2.12)."""

from __future__ import annotations

from sfemu.rest.router import Router
from sfemu.rest.wire import ApiRequest, ApiResponse, ok

_RESOURCES = (
    "tooling",
    "metadata",
    "eclair",
    "folders",
    "prechatForms",
    "contact-tracing",
    "jobs",
    "sobjects",
    "query",
    "queryAll",
    "search",
    "parameterizedSearch",
    "composite",
    "limits",
    "recent",
    "analytics",
)


def resources(req: ApiRequest, _: dict[str, str]) -> ApiResponse:
    body = {name: f"{req.prefix}/{name}" for name in _RESOURCES}
    body["identity"] = f"{req.base_url}/id/{req.state.org.org_id}/{req.user_id}"
    return ok(body)


def limits(req: ApiRequest, _: dict[str, str]) -> ApiResponse:
    return ok(req.state.usage.limits_body())


def register(router: Router) -> None:
    router.add("GET", "", resources)
    router.add("GET", "limits", limits)
