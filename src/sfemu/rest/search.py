"""``search`` (SOSL) and ``parameterizedSearch`` (reference 2.7)."""

from __future__ import annotations

from sfemu import sosl
from sfemu.model import ApiError
from sfemu.rest.router import Router
from sfemu.rest.wire import ApiRequest, ApiResponse, ok, require_object


def search(req: ApiRequest, _: dict[str, str]) -> ApiResponse:
    text = req.params.get("q")
    if text is None or not text.strip():
        raise ApiError(
            400,
            "MALFORMED_SEARCH",
            "No search term found. The search term must be enclosed in braces.",
        )
    records = sosl.run(text, req.state.org, user_id=req.user_id, version=req.version)
    return ok({"searchRecords": records})


def parameterized_get(req: ApiRequest, _: dict[str, str]) -> ApiResponse:
    records = sosl.run_parameterized(
        dict(req.params), req.state.org, user_id=req.user_id, version=req.version
    )
    return ok({"searchRecords": records})


def parameterized_post(req: ApiRequest, _: dict[str, str]) -> ApiResponse:
    body = require_object(req.body, "ParameterizedSearchRequest")
    records = sosl.run_parameterized(body, req.state.org, user_id=req.user_id, version=req.version)
    return ok({"searchRecords": records})


def register(router: Router) -> None:
    router.add("GET", "search", search)
    router.add("GET", "parameterizedSearch", parameterized_get)
    router.add("POST", "parameterizedSearch", parameterized_post)
