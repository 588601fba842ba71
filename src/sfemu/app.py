"""The emulator's ASGI app: REST API, OAuth server and control plane.

``create_app(emulator)`` returns a Starlette app. The REST API under ``/services/data`` is a
lean ASGI endpoint (it is the hot path): authenticate, count, inject faults and latency,
then run the route through :class:`sfemu.rest.dispatch.RestApi`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from sfemu import control
from sfemu.callouts import drain
from sfemu.faults import ConnectionDropped
from sfemu.limits import limit_exceeded
from sfemu.model import ApiError
from sfemu.oauth import oauth_routes
from sfemu.rest.composite import batch_cost
from sfemu.rest.dispatch import RestApi
from sfemu.rest.wire import (
    CONTENT_TYPE,
    ApiRequest,
    ApiResponse,
    dumps,
    parse_json,
    parse_version,
    versions,
)
from sfemu.runtime import Emulator, OrgState

log = logging.getLogger("sfemu")

_BODY_METHODS = frozenset({"POST", "PATCH", "PUT"})
_JSON_HEADER = (b"content-type", CONTENT_TYPE.encode())

#: Called with the ASGI scope of a request to drop; True when the socket was closed.
Dropper = Callable[[Scope], bool]


def _error_body(error: ApiError) -> bytes:
    return dumps(error.body())


class DataApi:
    """ASGI endpoint for everything under ``/services/data``."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.api = RestApi()
        self.dropper: Dropper | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        parts = raw_path.decode("latin-1").split("/")
        # ['', 'services', 'data', 'v59.0', ...]
        rest = parts[3:]
        if rest and rest[-1] == "":
            rest.pop()
        method: str = scope["method"]
        if not rest:
            if method not in ("GET", "HEAD"):
                await _send(send, 405, _error_body(_not_allowed(method)), method=method)
                return
            await _send(send, 200, dumps(versions()), method=method)
            return
        version = parse_version(rest[0])
        if version is None:
            error = ApiError(404, "NOT_FOUND", "The requested resource does not exist")
            await _send(send, 404, _error_body(error), method=method)
            return
        headers = _headers(scope)
        try:
            session = self.emulator.tokens.validate(_bearer(headers))
            state = self.emulator.orgs.get(session.org_id)
            if state is None:
                raise ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
        except ApiError as exc:
            await _send(send, exc.status, _error_body(exc), method=method)
            return
        segments = tuple(unquote(s) for s in rest[1:])
        body_bytes = await _read_body(receive) if method in _BODY_METHODS else b""
        try:
            await self._handle(
                scope, send, state, session.user_id, method, version, headers, segments, body_bytes
            )
        except ConnectionDropped:
            raise
        except Exception:
            log.exception("sfemu: unexpected error on %s %s", method, scope["path"])
            error = ApiError(
                500,
                "UNKNOWN_EXCEPTION",
                "An unexpected error occurred. Please include this ErrorId if you contact "
                "support: sfemu-internal",
            )
            await _send(send, 500, _error_body(error), method=method)

    async def _handle(
        self,
        scope: Scope,
        send: Send,
        state: OrgState,
        user_id: str,
        method: str,
        version: str,
        headers: dict[str, str],
        segments: tuple[str, ...],
        body_bytes: bytes,
    ) -> None:
        usage = state.usage
        path: str = scope["path"]
        try:
            match = self.api.resolve(method, list(segments))
            route = f"{method} {match.template}" if match.template else f"{method} /"
        except ApiError as exc:
            match = None
            route = f"{method} (unmatched)"
            early: ApiError | None = exc
        else:
            early = None
        body: Any = None
        if early is None and body_bytes:
            try:
                body = parse_json(body_bytes)
            except ApiError as exc:
                early = exc
        cost = batch_cost(body) if match is not None and match.template == "composite/batch" else 1
        if usage.used() + cost > usage.limit:
            error = limit_exceeded()
            usage.record_status(route, 403)
            await _send(send, 403, _error_body(error), usage.snapshot().header(), method=method)
            return
        usage.spend(route, cost)
        limit_info = usage.snapshot().header()
        if state.faults:
            rule = state.faults.pick(method, path)
            if rule is not None:
                usage.record_status(route, 0 if rule.kind == "drop" else 1)
                if rule.kind == "drop":
                    await self._drop(scope)
                    return
                error = rule.error(path)
                await _send(send, error.status, _error_body(error), limit_info, method=method)
                return
        if state.latency:
            await asyncio.sleep(state.latency.seconds())
        if early is not None:
            usage.record_status(route, early.status)
            await _send(send, early.status, _error_body(early), limit_info, method=method)
            return
        assert match is not None
        request = ApiRequest(
            method=method,
            path="/".join(segments),
            segments=segments,
            params=dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)),
            headers=headers,
            body=body,
            version=version,
            state=state,
            user_id=user_id,
            base_url=self.emulator.public_url or _base_url(scope, headers),
            dispatch=self.api,
        )
        with self.emulator.deferring() as pending:
            try:
                response = match.handler(request, match.params)
            except ApiError as exc:
                response = ApiResponse(status=exc.status, body=exc.body())
        usage.record_status(route, response.status)
        await _send(
            send,
            response.status,
            None if response.body is None and response.status == 204 else dumps(response.body),
            limit_info,
            response.headers,
            method=method,
        )
        if pending:
            self.emulator.release(pending)

    async def _drop(self, scope: Scope) -> None:
        if self.dropper is not None and self.dropper(scope):
            # Let the transport report the loss before the server looks at the cycle.
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            return
        raise ConnectionDropped("connection dropped by an sfemu fault rule")


def _not_allowed(method: str) -> ApiError:
    return ApiError(
        405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are GET,HEAD"
    )


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _bearer(headers: dict[str, str]) -> str:
    value = headers.get("authorization")
    if not value:
        raise ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
    scheme, _, token = value.partition(" ")
    if scheme.lower() not in ("bearer", "oauth") or not token.strip():
        raise ApiError(401, "INVALID_AUTH_HEADER", "INVALID_HEADER_TYPE")
    return token.strip()


def _base_url(scope: Scope, headers: dict[str, str]) -> str:
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _send(
    send: Send,
    status: int,
    body: bytes | None,
    limit_info: str | None = None,
    extra: Any = None,
    *,
    method: str = "GET",
) -> None:
    headers: list[tuple[bytes, bytes]] = []
    if body is not None:
        headers.append(_JSON_HEADER)
    if limit_info is not None:
        headers.append((b"sforce-limit-info", limit_info.encode()))
    if extra:
        headers.extend((k.encode("latin-1"), str(v).encode("latin-1")) for k, v in extra.items())
    payload = body or b""
    headers.append((b"content-length", str(0 if status == 204 else len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send(
        {
            "type": "http.response.body",
            "body": b"" if method == "HEAD" or status == 204 else payload,
        }
    )


def create_app(emulator: Emulator, *, control_plane: bool = True) -> Starlette:
    """The emulator's ASGI app.

    Args:
        emulator: the state to serve.
        control_plane: mount ``/_emulator/`` (off for servers bound to public addresses).

    Returns:
        A Starlette app; ``app.state.data_api`` is the REST endpoint (servers set its
        ``dropper`` to close sockets for ``drop`` faults).
    """
    data_api = DataApi(emulator)
    routes: list[BaseRoute] = [
        Route("/services/data", data_api, methods=None),
        Route("/services/data/{rest:path}", data_api, methods=None),
    ]
    routes.extend(
        oauth_routes(
            emulator,
            emulator.tokens,
            auto_approve=lambda: emulator.auto_approve,
            jwt_requires_approval=lambda: emulator.jwt_requires_approval,
        )
    )
    if control_plane:
        routes.extend(control.control_routes(emulator))

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        emulator.attach(asyncio.get_running_loop())
        try:
            yield
        finally:
            await drain(emulator.tasks)
            emulator.attach(None)
            emulator.flush()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.data_api = data_api
    app.state.emulator = emulator
    return app
