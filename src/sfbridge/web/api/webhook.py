"""The endpoint Salesforce calls (the Apex callout): persist, enqueue, answer. Fast.

``POST /hooks/salesforce/{token}?caseId=...[&event=...]`` with any (usually empty) body.
One SQL round trip stores the event and queues its job in the same transaction; an unknown
token gets a bare 404 with no hint. What the events mean belongs to the email-cases service.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sfbridge.store import webhooks
from sfbridge.web.auth import deps_of

MAX_BODY = 64 * 1024


async def receive(request: Request) -> Response:
    token = request.path_params["token"]
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse(
            {"error": "too_large", "message": f"Webhook bodies are limited to {MAX_BODY} bytes."},
            status_code=413,
        )
    query = {k: v for k, v in request.query_params.items()}
    text = body.decode("utf-8", errors="replace")
    accepted = await webhooks.accept(
        deps_of(request).db,
        token=token,
        query=query,
        body=text,
        headers={"content-type": request.headers.get("content-type", "")},
    )
    if accepted is None:
        return Response(status_code=404)
    return Response(
        json.dumps({"received": True, "event_id": accepted}),
        status_code=202,
        media_type="application/json",
    )


routes = [Route("/hooks/salesforce/{token}", receive, methods=["POST"])]
