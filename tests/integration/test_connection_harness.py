"""Shared parts of the connection tests: sfbridge served by uvicorn on loopback, sfemu on
loopback, a workspace with an API key, and a "browser" that follows the OAuth redirects.

Imported by the other ``test_connection_*`` files; it holds smoke tests of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sfbridge.compose import build_deps
from sfbridge.deps import Deps
from sfbridge.secrets import SecretBox
from sfbridge.services import refresh
from sfbridge.services.email import tasks as email_tasks
from sfbridge.settings import Settings
from sfbridge.store import apikeys, workspaces
from sfbridge.store.db import Database
from sfbridge.web.app import create_app
from sfemu.testing import EmulatedSalesforce, emulated_salesforce

BOX = SecretBox(bytes(range(32)))
TOKEN_PATH = "/services/oauth2/token"


@dataclass(frozen=True, kw_only=True, slots=True)
class RsaPair:
    """A throw-away RSA key: the private PEM for sfbridge, the public PEM for the app."""

    private_pem: str
    public_pem: str


def rsa_pair() -> RsaPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return RsaPair(private_pem=private, public_pem=public)


@dataclass
class TokenCalls:
    """Every token-endpoint call our HTTP client made, by grant type (our instrumentation)."""

    grants: list[str] = field(default_factory=list)

    async def note(self, request: httpx.Request) -> None:
        if request.url.path == TOKEN_PATH:
            self.grants.append(parse_qs(request.content.decode())["grant_type"][0])


@dataclass
class Bridge:
    """sfbridge served over HTTP, one workspace with a key, and the emulator."""

    deps: Deps
    url: str
    api: httpx.AsyncClient  #: authenticated as the workspace's key
    workspace_id: str
    sf: EmulatedSalesforce
    calls: TokenCalls

    @property
    def base(self) -> str:
        return f"/api/v1/workspaces/{self.workspace_id}/connection"

    @property
    def callback(self) -> str:
        return f"{self.url}/oauth/callback"

    def new_app(self, **extra: Any) -> dict[str, Any]:
        """A connected app at sfemu whose callback is this sfbridge's redirect URI."""
        body = {"name": "sfbridge-tests", "callback_urls": [self.callback], **extra}
        made = self.sf.control("POST", "/apps", body)
        assert isinstance(made, dict)
        return made

    async def connection(self) -> dict[str, Any]:
        resp = await self.api.get(self.base)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert isinstance(body, dict)
        return body

    async def save_web_server(self, app: dict[str, Any]) -> dict[str, Any]:
        resp = await self.api.put(
            self.base,
            json={
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "login_url": self.sf.url,
            },
        )
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert isinstance(body, dict)
        return body

    async def sign_in(self) -> httpx.Response:
        """Connect, then let a browser follow sfemu's consent (auto-approved) to our callback."""
        resp = await self.api.post(f"{self.base}/connect")
        assert resp.status_code == 200, resp.text
        outcome = resp.json()
        assert outcome["flow"] == "web_server" and outcome["authorize_url"]
        async with httpx.AsyncClient(timeout=30) as browser:
            at_sf = await browser.get(outcome["authorize_url"])
            assert at_sf.status_code == 302, at_sf.text
            location = at_sf.headers["location"]
            assert location.startswith(self.callback + "?")
            return await browser.get(location)

    async def client(self) -> Any:
        return await self.deps.access.client(self.workspace_id)


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def served(app: Any, sock: socket.socket) -> AsyncIterator[None]:
    """Serve an ASGI app with uvicorn on an already bound socket, in this event loop."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def bridge_for(
    db: Database, sf: EmulatedSalesforce, *, name: str = "Acme"
) -> AsyncIterator[Bridge]:
    """sfbridge on a fresh loopback port, sfemu allow-listed as a login host."""
    sock = free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    calls = TokenCalls()
    async with httpx.AsyncClient(timeout=30, event_hooks={"request": [calls.note]}) as http:
        deps = build_deps(
            Settings(public_url=url),
            db=db,
            http=http,
            box=BOX,
            extra_login_hosts=[urlsplit(sf.url).netloc],
            registrars=[email_tasks.register, refresh.register],
        )
        async with db.transaction() as tx:
            ws = await workspaces.create(tx, name=name)
            key = await apikeys.create_workspace_key(tx, ws.id)
        async with (
            deps.jobs.open_async(pool=db.pool),
            served(create_app(deps), sock),
            httpx.AsyncClient(
                base_url=url,
                timeout=30,
                headers={"Authorization": f"Bearer {key.token.reveal()}"},
            ) as api,
        ):
            yield Bridge(deps=deps, url=url, api=api, workspace_id=ws.id, sf=sf, calls=calls)


@pytest.fixture(name="sf")
def sf_fixture() -> Iterator[EmulatedSalesforce]:
    """A fresh sfemu server (auto-approving the consent screen) per test."""
    with emulated_salesforce(auto_approve=True) as running:
        yield running


@pytest.fixture(name="bridge")
async def bridge_fixture(db: Database, sf: EmulatedSalesforce) -> AsyncIterator[Bridge]:
    async with bridge_for(db, sf) as running:
        yield running


async def test_the_redirect_uri_is_derived_from_the_public_url(bridge: Bridge) -> None:
    conn = await bridge.connection()
    assert conn["status"] == "not_configured"
    assert conn["flow"] == "web_server"
    assert conn["redirect_uri"] == bridge.callback


async def test_a_browser_sign_in_connects_the_workspace(bridge: Bridge) -> None:
    app = bridge.new_app()
    saved = await bridge.save_web_server(app)
    assert saved["status"] == "credentials_saved" and saved["has_client_secret"]
    back = await bridge.sign_in()
    assert back.status_code == 303
    assert back.headers["location"] == f"/admin/workspaces/{bridge.workspace_id}?connected=1"
    conn = await bridge.connection()
    assert conn["status"] == "connected"
    assert conn["org_id"] == bridge.sf.org_id
    assert conn["username"] == bridge.sf.credentials.username
    assert conn["webhook_url"].startswith(f"{bridge.url}/hooks/salesforce/")
    assert bridge.calls.grants == ["authorization_code"]
