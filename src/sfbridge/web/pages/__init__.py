"""Admin pages: server-rendered Jinja2 and one CSS file, no front-end build.

Sign in with an API key; every form posts to the same services as the JSON API.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from sfbridge.web.pages import account, conversations, mail, operations, setup
from sfbridge.web.pages.common import WEB, install_handlers


def install(app: FastAPI) -> None:
    """Mount the admin pages and their static files on ``app``."""
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    install_handlers(app)
    for module in (account, conversations, mail, setup, operations):
        app.include_router(module.router)
