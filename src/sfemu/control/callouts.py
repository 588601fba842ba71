"""Control-plane endpoints for an org's Apex-like outbound callouts: rules and the attempt log."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sfemu.control.plane import ControlError, Handlers, json_response, no_content, read_body


class CalloutHandlers(Handlers):
    """Callout rules (add, list, remove, clear) and the log of attempts."""

    async def callouts(self, request: Request) -> Response:
        book = self.state(request).callouts
        if request.method == "GET":
            return json_response([rule.to_dict() for rule in book.rules.values()])
        if request.method == "DELETE":
            book.clear()
            return no_content()
        rule = book.add(await read_body(request))
        return json_response(rule.to_dict(), 201)

    async def callout(self, request: Request) -> Response:
        if not self.state(request).callouts.remove(request.path_params["rule"]):
            raise ControlError(404, "no such callout rule")
        return no_content()

    async def callout_log(self, request: Request) -> Response:
        book = self.state(request).callouts
        if request.method == "DELETE":
            book.log.clear()
            return no_content()
        return json_response([attempt.to_dict() for attempt in book.log])
