"""Control-plane endpoints for what API traffic meets: faults, latency, limits, counters."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sfemu.control.plane import ControlError, Handlers, json_response, no_content, read_body
from sfemu.faults import Latency


class TrafficHandlers(Handlers):
    """Fault rules, added latency, the daily API limit and the call counters of an org."""

    async def faults(self, request: Request) -> Response:
        faults = self.state(request).faults
        if request.method == "GET":
            return json_response(
                [{**r.to_dict(), "fired": faults.fired.get(r.id, 0)} for r in faults.rules()]
            )
        if request.method == "DELETE":
            faults.clear()
            return no_content()
        rule = faults.add(await read_body(request))
        return json_response(rule.to_dict(), 201)

    async def fault(self, request: Request) -> Response:
        if not self.state(request).faults.remove(request.path_params["rule"]):
            raise ControlError(404, "no such fault rule")
        return no_content()

    async def latency(self, request: Request) -> Response:
        state = self.state(request)
        if request.method == "PUT":
            data = await read_body(request)
            state.latency = Latency(
                fixed_ms=float(data.get("fixed_ms", 0)), jitter_ms=float(data.get("jitter_ms", 0))
            )
        return json_response(state.latency.to_dict())

    async def limits(self, request: Request) -> Response:
        state = self.state(request)
        if request.method == "PUT":
            data = await read_body(request)
            if "daily_limit" in data:
                limit = int(data["daily_limit"])
                if limit < 0:
                    raise ControlError(400, "daily_limit must be >= 0")
                state.usage.limit = limit
            if data.get("reset_usage"):
                state.usage.reset_usage()
        snapshot = state.usage.snapshot()
        return json_response(
            {"daily_limit": snapshot.limit, "used": snapshot.used, "remaining": snapshot.remaining}
        )

    async def counters(self, request: Request) -> Response:
        usage = self.state(request).usage
        if request.method == "DELETE":
            usage.reset_counters()
            return no_content()
        return json_response(usage.to_dict())
