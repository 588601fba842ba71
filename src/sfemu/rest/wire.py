"""The wire types of the REST layer: one API request in, one API response out.

Handlers are plain synchronous functions ``(ApiRequest, params) -> ApiResponse`` so that the
composite resources can run subrequests through the same code without HTTP.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sfemu.model import ApiError, format_datetime
from sfemu.versions import LATEST_API_VERSION, LATEST_VERSION, OLDEST_VERSION

if TYPE_CHECKING:
    from sfemu.runtime import OrgState

CONTENT_TYPE = "application/json;charset=UTF-8"


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiRequest:
    """One REST API request, already authenticated.

    ``path`` is relative to ``/services/data/vNN.0/`` with no leading or trailing slash
    (``sobjects/Case/500...``); ``version`` is ``"59.0"``.
    """

    method: str
    path: str
    #: ``path`` split on ``/`` and percent-decoded.
    segments: tuple[str, ...]
    params: Mapping[str, str]
    headers: Mapping[str, str]
    body: Any
    version: str
    state: OrgState
    user_id: str
    base_url: str
    #: Runs a subrequest (composite, batch) through the same routes.
    dispatch: Dispatcher

    @property
    def prefix(self) -> str:
        """``/services/data/v59.0``: the start of URLs in response bodies."""
        return f"/services/data/v{self.version}"

    @property
    def version_number(self) -> float:
        return float(self.version)


class Dispatcher(Protocol):
    """Runs requests through the REST routes (``sfemu.rest.dispatch.RestApi``)."""

    def __call__(self, request: ApiRequest) -> ApiResponse: ...

    def subrequest(
        self,
        parent: ApiRequest,
        *,
        method: str,
        url: str,
        body: Any,
        headers: Mapping[str, str] | None = None,
        relative: bool = False,
    ) -> ApiResponse: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiResponse:
    """A response before serialisation; ``body`` None means an empty body."""

    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


def ok(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> ApiResponse:
    return ApiResponse(status=status, body=body, headers=headers or {})


def no_content() -> ApiResponse:
    return ApiResponse(status=204)


def error_response(error: ApiError) -> ApiResponse:
    return ApiResponse(status=error.status, body=error.body())


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")


def json_parser_error(message: str) -> ApiError:
    return ApiError(400, "JSON_PARSER_ERROR", message)


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(body: Any) -> bytes:
    """JSON bytes as Salesforce sends them (dates in wire format, UTF-8, compact)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_default).encode()


def parse_json(raw: bytes) -> Any:
    """Parse a request body, mapping failures to ``400 JSON_PARSER_ERROR``.

    Returns:
        The parsed value, or None for an empty body.
    """
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except UnicodeDecodeError as exc:
        raise json_parser_error(f"Invalid UTF-8 start byte 0x{raw[exc.start]:02x}") from exc
    except json.JSONDecodeError as exc:
        char = exc.doc[exc.pos] if exc.pos < len(exc.doc) else "EOF"
        raise json_parser_error(
            f"Unexpected character ('{char}' (code {ord(char) if len(char) == 1 else -1})): "
            f"{exc.msg} at [line:{exc.lineno}, column:{exc.colno}]"
        ) from exc


def require_object(body: Any, what: str = "SObject") -> dict[str, Any]:
    """The body as a JSON object, else ``400 JSON_PARSER_ERROR`` as Salesforce words it."""
    if isinstance(body, dict):
        return body
    token = (
        "START_ARRAY"
        if isinstance(body, list)
        else "VALUE_NULL"
        if body is None
        else "VALUE_STRING"
        if isinstance(body, str)
        else "VALUE_NUMBER_INT"
    )
    raise json_parser_error(f"Cannot deserialize instance of {what} from {token} value")


def version_label(number: int) -> str:
    """The release name of an API version: 59 -> ``Winter '24``."""
    offset = number - 59
    season = ("Winter", "Spring", "Summer")[offset % 3]
    return f"{season} '{24 + offset // 3:02d}"


def versions(base: str = "") -> list[dict[str, str]]:
    """The ``GET /services/data/`` body, oldest first."""
    return [
        {"label": version_label(n), "url": f"{base}/services/data/v{n}.0", "version": f"{n}.0"}
        for n in range(OLDEST_VERSION, LATEST_VERSION + 1)
    ]


def parse_version(segment: str) -> str | None:
    """``v59.0`` -> ``"59.0"``, ``latest`` -> the newest; None when not a known version."""
    if segment == "latest":
        return LATEST_API_VERSION
    if len(segment) < 4 or segment[0] != "v" or not segment.endswith(".0"):
        return None
    digits = segment[1:-2]
    if not digits.isdigit() or not OLDEST_VERSION <= int(digits) <= LATEST_VERSION:
        return None
    return segment[1:]


def flag(value: Any) -> bool:
    """A boolean from JSON or a query string (``"true"``/``"false"``)."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)
