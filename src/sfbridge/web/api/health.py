"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from sfbridge.errors import StoreError
from sfbridge.web import metrics
from sfbridge.web.auth import deps_of

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive (it answers HTTP)."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(request: Request) -> JSONResponse:
    """Ready to take traffic: started, and the database answers."""
    deps = deps_of(request)
    checks = {"started": deps.ready, "database": False}
    try:
        async with deps.db.transaction() as tx:
            checks["database"] = await tx.fetch_value("ping") == 1
    except StoreError:
        checks["database"] = False
    ok = all(checks.values())
    return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)


@router.get("/metrics", response_class=PlainTextResponse)
async def prometheus(request: Request) -> PlainTextResponse:
    """Prometheus text format: jobs by queue and status, Salesforce calls, API usage."""
    body = await metrics.render(deps_of(request))
    return PlainTextResponse(body, media_type="text/plain; version=0.0.4; charset=utf-8")
