"""Running API requests through the routes, for HTTP requests and subrequests alike."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from sfemu.model import ApiError
from sfemu.rest import composite, limits_resource, query, search, sobjects
from sfemu.rest.router import Match, Router
from sfemu.rest.wire import ApiRequest, ApiResponse, error_response, parse_version


def build_router() -> Router:
    """Every REST route under ``/services/data/vNN.0/``."""
    router = Router()
    limits_resource.register(router)
    sobjects.register(router)
    query.register(router)
    search.register(router)
    composite.register(router)
    return router


class RestApi:
    """The REST API as a function of :class:`ApiRequest` (no HTTP here)."""

    def __init__(self) -> None:
        self.router = build_router()

    def resolve(self, method: str, segments: list[str]) -> Match:
        return self.router.resolve(method, segments)

    def __call__(self, request: ApiRequest) -> ApiResponse:
        """Run one request; API errors become error responses."""
        try:
            match = self.router.resolve(request.method, list(request.segments))
            return match.handler(request, match.params)
        except ApiError as exc:
            return error_response(exc)

    def subrequest(
        self,
        parent: ApiRequest,
        *,
        method: str,
        url: str,
        body: Any,
        headers: Mapping[str, str] | None = None,
        relative: bool = False,
    ) -> ApiResponse:
        """Run a composite/batch subrequest given by its URL.

        Args:
            parent: the enclosing request (org, user, version).
            method: the subrequest's HTTP method.
            url: ``/services/data/vNN.0/...`` (composite) or ``vNN.0/...`` (batch,
                ``relative=True``; the full form is accepted too).
            body: the subrequest body (already parsed JSON) or None.
            headers: extra request headers (``httpHeaders``).
            relative: the URL may start at the version segment.
        """
        parts = urlsplit(url)
        raw = [s for s in parts.path.split("/")]
        if raw and raw[0] == "":
            raw = raw[1:]
        if len(raw) >= 2 and raw[0] == "services" and raw[1] == "data":
            raw = raw[2:]
        elif not relative:
            return error_response(_bad_url(url))
        version = parse_version(raw[0]) if raw else None
        if version is None:
            return error_response(_bad_url(url))
        segments = tuple(unquote(s) for s in raw[1:])
        if segments and segments[-1] == "":
            segments = segments[:-1]
        merged = dict(parent.headers)
        for name, value in (headers or {}).items():
            merged[name.lower()] = value
        request = dataclasses.replace(
            parent,
            method=method.upper(),
            path="/".join(raw[1:]).rstrip("/"),
            segments=segments,
            params=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=merged,
            body=body,
            version=version,
        )
        return self(request)


def _bad_url(url: str) -> ApiError:
    return ApiError(400, "INVALID_INPUT", f"Subrequest URL is invalid: {url}")
