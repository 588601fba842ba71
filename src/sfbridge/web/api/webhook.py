"""The endpoint Salesforce calls (the Apex callout): persist, enqueue, answer. Fast.

``POST /hooks/salesforce/{token}?caseId=...[&event=...]`` with any (usually empty) body.
The event and its job are committed in one transaction before the 202; concurrent calls share
that transaction (group commit, see :class:`~sfbridge.store.webhooks.WebhookIntake`). An
unknown token gets a bare 404 with no hint. What the events mean belongs to the email-cases
service.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sfbridge.store import webhooks
from sfbridge.web.auth import deps_of

MAX_BODY = 64 * 1024


def intake_of(request: Request) -> webhooks.WebhookIntake:
    """The app's group-commit intake, made on first use (one per app and event loop)."""
    state = request.app.state
    intake: webhooks.WebhookIntake | None = getattr(state, "webhook_intake", None)
    if intake is None:
        intake = state.webhook_intake = webhooks.WebhookIntake(deps_of(request).db)
    return intake


async def receive(request: Request) -> Response:
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse(
            {"error": "too_large", "message": f"Webhook bodies are limited to {MAX_BODY} bytes."},
            status_code=413,
        )
    accepted = await intake_of(request).accept(
        webhooks.WebhookCall(
            token=request.path_params["token"],
            query=dict(request.query_params),
            body=body.decode("utf-8", errors="replace"),
            headers={"content-type": request.headers.get("content-type", "")},
        )
    )
    if accepted is None:
        return Response(status_code=404)
    return Response(
        b'{"received":true,"event_id":%d}' % accepted,
        status_code=202,
        media_type="application/json",
    )


routes = [Route("/hooks/salesforce/{token}", receive, methods=["POST"])]
