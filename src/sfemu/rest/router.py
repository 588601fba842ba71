"""A small segment router for the REST API, shared by HTTP requests and composite subrequests.

Templates are slash-separated; ``{name}`` matches one segment. Routes are tried in the order
they were added, so literal routes go before the ones they shadow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sfemu.model import ApiError
from sfemu.rest.wire import ApiRequest, ApiResponse, not_found

Handler = Callable[[ApiRequest, dict[str, str]], ApiResponse]


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """A resolved route: the handler, its path parameters and the template (for counters)."""

    handler: Handler
    params: dict[str, str]
    template: str


@dataclass(slots=True)
class _Route:
    template: str
    segments: tuple[str, ...]
    handlers: dict[str, Handler]


def method_not_allowed(method: str, allowed: list[str]) -> ApiError:
    """405 as Salesforce words it: ``HTTP Method 'PATCH' not allowed. Allowed are GET,HEAD``."""
    return ApiError(
        405,
        "METHOD_NOT_ALLOWED",
        f"HTTP Method '{method}' not allowed. Allowed are {','.join(allowed)}",
    )


class Router:
    """Routes keyed by segment count for a cheap lookup."""

    def __init__(self) -> None:
        self._by_length: dict[int, list[_Route]] = {}
        self._index: dict[str, _Route] = {}

    def add(self, methods: str, template: str, handler: Handler) -> None:
        """Register ``handler`` for each method in ``methods`` (``"GET POST"``) on ``template``."""
        route = self._index.get(template)
        if route is None:
            segments = tuple(template.split("/")) if template else ()
            route = _Route(template=template, segments=segments, handlers={})
            self._index[template] = route
            self._by_length.setdefault(len(segments), []).append(route)
        for method in methods.split():
            route.handlers[method] = handler

    def resolve(self, method: str, segments: list[str]) -> Match:
        """Find the handler for a method and decoded path segments.

        Raises:
            ApiError: 404 ``NOT_FOUND`` for an unknown path, 405 ``METHOD_NOT_ALLOWED``.
        """
        for route in self._by_length.get(len(segments), ()):
            params: dict[str, str] = {}
            for pattern, actual in zip(route.segments, segments, strict=True):
                if pattern[:1] == "{":
                    params[pattern[1:-1]] = actual
                elif pattern != actual:
                    break
            else:
                handler = route.handlers.get(method)
                if handler is None and method == "HEAD":
                    handler = route.handlers.get("GET")
                if handler is None:
                    allowed = sorted(route.handlers)
                    if "GET" in allowed:
                        allowed = sorted([*allowed, "HEAD"])
                    raise method_not_allowed(method, allowed)
                return Match(handler=handler, params=params, template=route.template)
        raise not_found()
