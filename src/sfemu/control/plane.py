"""Control-plane plumbing: the key check, error answers, JSON bodies and the org lookup."""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sfemu.callouts import CalloutError
from sfemu.faults import FaultError
from sfemu.model import ApiError
from sfemu.runtime import Emulator, OrgState
from sfemu.versions import LATEST_API_VERSION

PREFIX = "/_emulator"
KEY_HEADER = "x-emulator-key"
#: Record ``attributes.url`` values are written under the latest API version.
WIRE_PREFIX = f"/services/data/v{LATEST_API_VERSION}"

Endpoint = Callable[[Request], Awaitable[Response]]


class ControlError(Exception):
    """A control-plane request is wrong; answered as ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_response(body: Any, status: int = 200) -> JSONResponse:
    """A JSON answer with ``status``."""
    return JSONResponse(body, status_code=status)


def no_content() -> Response:
    """An empty 204 answer."""
    return Response(status_code=204)


async def read_body(request: Request) -> dict[str, Any]:
    """The request's JSON object body; an empty body reads as ``{}``.

    Raises:
        ControlError: 400 when the body is not JSON or not an object.
    """
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


def need(data: dict[str, Any], key: str) -> Any:
    """``data[key]``, which must be present and neither null nor empty.

    Raises:
        ControlError: 400 naming the missing key.
    """
    if key not in data or data[key] in (None, ""):
        raise ControlError(400, f"'{key}' is required")
    return data[key]


def guarded(emulator: Emulator, handler: Endpoint, *, mutates: bool) -> Endpoint:
    """``handler`` behind the key check, with errors answered as JSON.

    Args:
        emulator: whose control key is checked and whose state is marked dirty.
        handler: the endpoint to guard.
        mutates: mark the emulator dirty (to be saved) after a successful answer.
    """

    async def endpoint(request: Request) -> Response:
        given = request.headers.get(KEY_HEADER, "")
        if not hmac.compare_digest(given.encode(), emulator.control_key.encode()):
            return json_response({"error": f"missing or wrong {KEY_HEADER} header"}, 401)
        try:
            response = await handler(request)
        except ControlError as exc:
            return json_response({"error": exc.message}, exc.status)
        except (FaultError, CalloutError, ValueError, KeyError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)
        except ApiError as exc:
            return json_response(
                {"error": exc.message, "errorCode": exc.error_code, "fields": exc.fields},
                exc.status,
            )
        if mutates and response.status_code < 400:
            emulator.mark_dirty()
        return response

    return endpoint


class Handlers:
    """Base of each noun's endpoints: the emulator and the ``{org}`` path lookup."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def state(self, request: Request) -> OrgState:
        """The org named by the ``{org}`` path parameter (an id or ``default``).

        Raises:
            ControlError: 404 when there is no such org.
        """
        org_id = request.path_params["org"]
        if org_id == "default":
            if self.emulator.default_org_id is None:
                raise ControlError(404, "no default org")
            return self.emulator.default_state
        found = self.emulator.state(org_id)
        if found is None:
            raise ControlError(404, f"no org {org_id}")
        return found
