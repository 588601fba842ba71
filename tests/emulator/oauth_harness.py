"""Test harness for the OAuth server: an org directory and a real uvicorn server on loopback.

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
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sfemu.model import ApiError, Record
from sfemu.oauth import oauth_routes
from sfemu.oauth_directory import ConnectedAppView, OrgView
from sfemu.tokens import TokenStore

ORG_ID = "00D5g000004XyZaEAK"
ADMIN_ID = "0055g00000AdmInAAA"
USER_ID = "0055g00000UsEr1AAA"
INTEGRATION_ID = "0055g00000InTegAAA"
CLIENT_ID = "3MVG9emulatorConsumerKey"
CLIENT_SECRET = "E7F1C0DE5EC12E7000000000000000000000000000000000000000000000000A"
CALLBACK = "http://127.0.0.1:1/callback"
ADMIN_USERNAME = "admin@sfemu.example"
ADMIN_PASSWORD = "admin-pass-1"
USER_USERNAME = "rep@sfemu.example"
USER_PASSWORD = "rep-pass-1"


@dataclass(kw_only=True)
class App:
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    name: str = "sfbridge test app"
    callback_urls: tuple[str, ...] = (CALLBACK,)
    scopes: tuple[str, ...] = ("api", "refresh_token", "openid", "id")
    refresh_token_rotation: bool = False
    jwt_public_key_pem: str | None = None
    client_credentials_user_id: str | None = INTEGRATION_ID


def _user(user_id: str, username: str, first: str, last: str, **extra: Any) -> Record:
    return {
        "Id": user_id,
        "Username": username,
        "FirstName": first,
        "LastName": last,
        "Name": f"{first} {last}",
        "Email": username,
        "IsActive": True,
        "TimeZoneSidKey": "Europe/Paris",
        "LanguageLocaleKey": "en_US",
        "LocaleSidKey": "en_GB",
        "UserType": "Standard",
        "Alias": first[:5].lower(),
        **extra,
    }


@dataclass(kw_only=True)
class Org:
    """A small org with the surface the OAuth server reads (``sfemu.oauth_directory``)."""

    org_id: str = ORG_ID
    is_sandbox: bool = False
    session_timeout_seconds: int = 7200
    apps: dict[str, App] = field(default_factory=lambda: {CLIENT_ID: App()})
    users: dict[str, Record] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    admin_user_id: str = ADMIN_ID
    clock_offset: dt.timedelta = dt.timedelta()

    def __post_init__(self) -> None:
        if not self.users:
            self.add_user(_user(ADMIN_ID, ADMIN_USERNAME, "Ada", "Admin"), ADMIN_PASSWORD)
            self.add_user(_user(USER_ID, USER_USERNAME, "Rene", "Rep"), USER_PASSWORD)
            self.add_user(
                _user(INTEGRATION_ID, "integration@sfemu.example", "Int", "Egration"), "x"
            )

    def add_user(self, user: Record, password: str) -> None:
        self.users[user["Id"]] = user
        self.passwords[user["Username"].lower()] = password

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.clock_offset

    def advance(self, seconds: float) -> None:
        self.clock_offset += dt.timedelta(seconds=seconds)

    def user_by_username(self, username: str) -> Record | None:
        return next(
            (u for u in self.users.values() if u["Username"].lower() == username.lower()), None
        )

    def check_password(self, username: str, password: str) -> str | None:
        user = self.user_by_username(username)
        if user is None or self.passwords.get(username.lower()) != password:
            return None
        return str(user["Id"])

    def get(self, record_id: str, *, include_deleted: bool = False) -> Record | None:
        return next((u for u in self.users.values() if u["Id"][:15] == record_id[:15]), None)


@dataclass
class Directory:
    orgs: list[Org]

    def org_for_client(self, client_id: str) -> OrgView | None:
        return next((o for o in self.orgs if client_id in o.apps), None)

    def org(self, org_id: str) -> OrgView | None:
        return next((o for o in self.orgs if o.org_id[:15] == org_id[:15]), None)

    def org_for_username(self, username: str) -> OrgView | None:
        return next((o for o in self.orgs if o.user_by_username(username)), None)


def _typed_app(app: App) -> ConnectedAppView:
    return app  # mypy proves the harness app has the shape the server reads


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
    directory: Directory
    tokens: TokenStore
    switches: Switches
    base: str

    @property
    def app(self) -> App:
        return self.org.apps[CLIENT_ID]


@contextmanager
def running_emulator() -> Iterator[Emulator]:
    org = Org()
    directory = Directory([org])
    tokens = TokenStore()
    switches = Switches()
    with serve(build_app(directory, tokens, switches)) as base:
        yield Emulator(org=org, directory=directory, tokens=tokens, switches=switches, base=base)
