"""Build the FastAPI application around a process's :class:`~sfbridge.deps.Deps`."""

from __future__ import annotations

from fastapi import FastAPI

from sfbridge import __version__
from sfbridge.deps import Deps
from sfbridge.web import errors, pages
from sfbridge.web.api import connection, email, health, ops, webhook, workspaces

DESCRIPTION = """
sfbridge connects customer conversations to Salesforce.

Authenticate every `/api/v1` call with `Authorization: Bearer sfb_...`: an admin key (printed by
`sfbridge serve` on first start) or a workspace key. Errors are
`{"error": <code>, "message": <what to fix>}`.
"""


def create_app(deps: Deps) -> FastAPI:
    """The whole HTTP surface: JSON API, Salesforce webhook, OAuth callback, admin pages."""
    app = FastAPI(
        title="sfbridge",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.deps = deps
    errors.install(app)
    app.router.routes.extend(webhook.routes)  # hot path: plain Starlette route, no validation layer
    for router in (
        health.router,
        workspaces.router,
        connection.router,
        ops.router,
        email.router,
    ):
        app.include_router(router)
    pages.install(app)
    return app
