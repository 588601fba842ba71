"""Test harness for the OAuth server: real orgs, a directory and a uvicorn server on loopback.

The app served is the OAuth routes plus ``/protected``, a stand-in for an API route that
checks its bearer token with ``TokenStore.validate``.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sfemu import ids
from sfemu.apps import ConnectedApp
from sfemu.model import ApiError
from sfemu.oauth import oauth_routes
from sfemu.oauth_directory import OrgView
from sfemu.org import Org
from sfemu.tokens import TokenStore

ORG_ID = ids.to18("00D5g000004XyZa")
OTHER_ORG_ID = ids.to18("00D5g000007OtHe")
CLIENT_ID = "3MVG9emulatorConsumerKey"
CLIENT_SECRET = "E7F1C0DE5EC12E7000000000000000000000000000000000000000000000000A"
CALLBACK = "http://127.0.0.1:1/callback"
ADMIN_USERNAME = "admin@oauth.sfemu.example"
ADMIN_PASSWORD = "admin-pass-1"
USER_USERNAME = "rene.rep@oauth.sfemu.example"
USER_PASSWORD = "rep-pass-1"
INTEGRATION_USERNAME = "integration@oauth.sfemu.example"


class MovableClock:
    """The org clock tests move forward (and back)."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


@dataclass(frozen=True, kw_only=True)
class People:
    admin_id: str
    user_id: str
    integration_id: str


def make_org(
    *, org_id: str = ORG_ID, clock: MovableClock | None = None, prefix: str = ""
) -> tuple[Org, People]:
    """A real ``sfemu.org.Org`` with the test app, its admin, a rep and an integration user."""
    org = Org.default(
        org_id=org_id,
        clock=clock or MovableClock(),
        admin_username=prefix + ADMIN_USERNAME,
        admin_password=ADMIN_PASSWORD,
        client_id=prefix + CLIENT_ID,
        client_secret=CLIENT_SECRET,
        callback_urls=(CALLBACK,),
    )
    user_id = org.create_user(
        prefix + USER_USERNAME,
        email=USER_USERNAME,
        first_name="Rene",
        last_name="Rep",
        time_zone="Europe/Paris",
    )
    org.set_password(user_id, USER_PASSWORD)
    integration_id = org.create_user(
        prefix + INTEGRATION_USERNAME, email=INTEGRATION_USERNAME, last_name="Integration"
    )
    app = org.apps[prefix + CLIENT_ID]
    org.apps[app.client_id] = replace(app, client_credentials_user_id=integration_id)
    people = People(admin_id=org.admin_user_id, user_id=user_id, integration_id=integration_id)
    return org, people


@dataclass
class Directory:
    orgs: list[Org]

    def org_for_client(self, client_id: str) -> OrgView | None:
        return next((o for o in self.orgs if client_id in o.apps), None)

    def org(self, org_id: str) -> OrgView | None:
        return next((o for o in self.orgs if o.org_id[:15] == org_id[:15]), None)

    def org_for_username(self, username: str) -> OrgView | None:
        return next((o for o in self.orgs if o.user_by_username(username)), None)


@dataclass
class Switches:
    auto_approve: bool = True
    jwt_requires_approval: bool = False


def build_app(directory: Directory, tokens: TokenStore, switches: Switches) -> Starlette:
    async def protected(request: Request) -> JSONResponse:
        header = request.headers.get("authorization", "")
        try:
            session = tokens.validate(header.removeprefix("Bearer ").strip())
        except ApiError as error:
            return JSONResponse(error.body(), status_code=error.status)
        return JSONResponse({"user_id": session.user_id, "org_id": session.org_id})

    routes = oauth_routes(
        directory,
        tokens,
        auto_approve=lambda: switches.auto_approve,
        jwt_requires_approval=lambda: switches.jwt_requires_approval,
    )
    return Starlette(routes=[*routes, Route("/protected", protected)])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(app: Starlette) -> Iterator[str]:
    """Run ``app`` under uvicorn on a free loopback port; yield its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Emulator:
    """What a test gets: the org, the store, the switches and the server's base URL."""

    org: Org
    clock: MovableClock
    people: People
    directory: Directory
    tokens: TokenStore
    switches: Switches
    base: str

    @property
    def app(self) -> ConnectedApp:
        return self.org.apps[CLIENT_ID]

    def configure_app(self, **changes: Any) -> None:
        """Change the test app (connected apps are frozen values)."""
        self.org.apps[CLIENT_ID] = replace(self.app, **changes)

    def advance(self, seconds: float) -> None:
        """Move the org clock."""
        self.clock.offset += dt.timedelta(seconds=seconds)


@contextmanager
def running_emulator() -> Iterator[Emulator]:
    clock = MovableClock()
    org, people = make_org(clock=clock)
    directory = Directory([org])
    tokens = TokenStore()
    switches = Switches()
    with serve(build_app(directory, tokens, switches)) as base:
        yield Emulator(
            org=org,
            clock=clock,
            people=people,
            directory=directory,
            tokens=tokens,
            switches=switches,
            base=base,
        )
