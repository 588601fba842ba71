"""The client against the real emulator over HTTP: OAuth, identity, refresh, single flight.

One emulator server runs per module on a free loopback port; every test gets a fresh org
(created through the control plane), so tests share nothing but the process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sfbridge.salesforce import oauth
from sfbridge.salesforce.client import SalesforceClient
from sfbridge.salesforce.errors import OAuthFailed, ReconnectNeeded
from sfbridge.salesforce.governor import Governor
from sfbridge.salesforce.recorder import MemoryRecorder
from sfbridge.salesforce.session import (
    ClientCredentialsRenewer,
    JwtBearerRenewer,
    RefreshTokenRenewer,
    SessionManager,
)
from sfbridge.salesforce.tokens import MemoryTokenStorage, TokenSet
from sfemu.testing import EmulatedSalesforce, emulated_salesforce

CALLBACK = "http://127.0.0.1:8000/oauth/callback"


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatedSalesforce]:
    with emulated_salesforce(auto_approve=True) as running:
        yield running


@dataclass
class EmuOrg:
    """One fresh org in the running emulator, and its control plane."""

    url: str
    key: str
    summary: dict[str, Any]
    token_calls: list[str] = field(default_factory=list)

    @property
    def org_id(self) -> str:
        return str(self.summary["org_id"])

    @property
    def app(self) -> oauth.AppCredentials:
        return oauth.AppCredentials(
            client_id=self.summary["client_id"], client_secret=self.summary["client_secret"]
        )

    def control(self, method: str, path: str, body: Any = None) -> Any:
        resp = httpx.request(
            method,
            f"{self.url}/_emulator/orgs/{self.org_id}/{path}",
            json=body,
            headers={"X-Emulator-Key": self.key},
        )
        assert resp.status_code < 300, resp.text
        return resp.json() if resp.content else None


@pytest.fixture
def org(server: EmulatedSalesforce) -> EmuOrg:
    key = server.emulator.control_key
    resp = httpx.post(f"{server.url}/_emulator/orgs", json={}, headers={"X-Emulator-Key": key})
    assert resp.status_code == 201, resp.text
    return EmuOrg(url=server.url, key=key, summary=resp.json())


@pytest.fixture
async def http(org: EmuOrg) -> AsyncIterator[httpx.AsyncClient]:
    """A pooled client that notes every token-endpoint call (our own instrumentation)."""

    async def note(request: httpx.Request) -> None:
        if request.url.path == "/services/oauth2/token":
            org.token_calls.append(parse_qs(request.content.decode())["grant_type"][0])

    async with httpx.AsyncClient(timeout=10.0, event_hooks={"request": [note]}) as client:
        yield client


async def connect(http: httpx.AsyncClient, org: EmuOrg, app: oauth.AppCredentials) -> TokenSet:
    """The web-server flow with PKCE, the browser replaced by following the redirect."""
    login_url = oauth.check_login_url(org.url, allowed_hosts=[urlsplit(org.url).netloc])
    pkce = oauth.new_pkce()
    url = oauth.authorize_url(
        login_url,
        client_id=app.client_id,
        redirect_uri=CALLBACK,
        state="state-123",
        code_challenge=pkce.challenge,
    )
    resp = await http.get(url)
    assert resp.status_code == 302, resp.text
    location = urlsplit(resp.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    query = parse_qs(location.query)
    assert query["state"] == ["state-123"]
    return await oauth.exchange_code(
        http,
        login_url=login_url,
        app=app,
        code=query["code"][0],
        redirect_uri=CALLBACK,
        code_verifier=pkce.verifier,
    )


def make_client(
    http: httpx.AsyncClient, org: EmuOrg, storage: MemoryTokenStorage, app: oauth.AppCredentials
) -> tuple[SalesforceClient, MemoryRecorder]:
    renewer = RefreshTokenRenewer(http=http, login_url=org.url, app=app)
    recorder = MemoryRecorder()
    session = SessionManager(storage=storage, renewer=renewer)
    return SalesforceClient(http, session, governor=Governor(), recorder=recorder), recorder


async def test_web_server_flow_identity_and_first_call(
    http: httpx.AsyncClient, org: EmuOrg
) -> None:
    tokens = await connect(http, org, org.app)
    assert tokens.refresh_token and tokens.instance_url.startswith("http://127.0.0.1:")
    assert "api" in tokens.scope.split()
    who = await oauth.identity(http, tokens, login_url=org.url)
    assert who.org_id == org.org_id == tokens.org_id
    assert who.user_id == org.summary["user_id"]
    assert who.username == org.summary["username"]
    assert who.is_sandbox is None  # a loopback host cannot tell

    client, recorder = make_client(http, org, MemoryTokenStorage(tokens), org.app)
    user = await client.get("User", who.user_id, ["Id", "Username"])
    assert user["Username"] == who.username
    assert isinstance(await client.is_sandbox(), bool)
    assert [(c.method, c.status, c.attempts) for c in recorder.calls] == [
        ("GET", 200, 1),
        ("GET", 200, 1),
    ]
    assert recorder.calls[1].path == "/services/data/v59.0/query/?q=<soql>"


async def test_reused_code_is_refused(http: httpx.AsyncClient, org: EmuOrg) -> None:
    pkce = oauth.new_pkce()
    url = oauth.authorize_url(
        org.url,
        client_id=org.app.client_id,
        redirect_uri=CALLBACK,
        state="s",
        code_challenge=pkce.challenge,
    )
    code = parse_qs(urlsplit((await http.get(url)).headers["location"]).query)["code"][0]

    async def exchange() -> TokenSet:
        return await oauth.exchange_code(
            http,
            login_url=org.url,
            app=org.app,
            code=code,
            redirect_uri=CALLBACK,
            code_verifier=pkce.verifier,
        )

    await exchange()
    with pytest.raises(OAuthFailed) as info:
        await exchange()
    assert info.value.error == "invalid_grant"


async def test_expired_tokens_refresh_transparently(http: httpx.AsyncClient, org: EmuOrg) -> None:
    tokens = await connect(http, org, org.app)
    storage = MemoryTokenStorage(tokens)
    client, recorder = make_client(http, org, storage, org.app)
    await client.limits()
    assert org.control("POST", "expire-tokens")["expired"] >= 1
    org.token_calls.clear()

    limits = await client.limits()
    assert limits["DailyApiRequests"]["Max"] > 0
    assert org.token_calls == ["refresh_token"]
    assert storage.tokens is not None and storage.tokens.access_token != tokens.access_token
    assert storage.tokens.refresh_token == tokens.refresh_token  # no rotation: kept
    assert recorder.calls[-1].attempts == 2 and recorder.calls[-1].status == 200


async def test_fifty_concurrent_calls_with_an_expired_token_refresh_once(
    http: httpx.AsyncClient, org: EmuOrg
) -> None:
    tokens = await connect(http, org, org.app)
    client, _ = make_client(http, org, MemoryTokenStorage(tokens), org.app)
    org.control("POST", "expire-tokens")
    org.token_calls.clear()

    users = await asyncio.gather(
        *(client.get("User", org.summary["user_id"], ["Id"]) for _ in range(50))
    )
    assert {u["Id"] for u in users} == {org.summary["user_id"]}
    assert org.token_calls == ["refresh_token"]
    assert client.session.refresh_count == 1


async def test_rotation_stores_the_new_refresh_token(http: httpx.AsyncClient, org: EmuOrg) -> None:
    made = org.control(
        "POST",
        "apps",
        {"name": "rotating", "callback_urls": [CALLBACK], "refresh_token_rotation": True},
    )
    app = oauth.AppCredentials(client_id=made["client_id"], client_secret=made["client_secret"])
    tokens = await connect(http, org, app)
    storage = MemoryTokenStorage(tokens)
    client, _ = make_client(http, org, storage, app)
    for _ in range(2):
        org.control("POST", "expire-tokens")
        await client.limits()
    assert storage.tokens is not None
    assert storage.tokens.refresh_token not in (None, tokens.refresh_token)
    assert org.token_calls.count("refresh_token") == 2  # the second used the rotated token


async def test_revoked_refresh_token_needs_reconnect_then_reconnects(
    http: httpx.AsyncClient, org: EmuOrg
) -> None:
    tokens = await connect(http, org, org.app)
    storage = MemoryTokenStorage(tokens)
    client, _ = make_client(http, org, storage, org.app)
    org.control("POST", "revoke-refresh-tokens")
    org.control("POST", "expire-tokens")

    with pytest.raises(ReconnectNeeded) as info:
        await client.limits()
    assert "invalid_grant" in info.value.reason
    assert storage.needs_reconnect is not None and "invalid_grant" in storage.needs_reconnect

    await storage.save(await connect(http, org, org.app))  # the admin reconnects
    client.session.forget()
    assert (await client.limits())["DailyApiRequests"]["Max"] > 0
    assert storage.needs_reconnect is None


async def test_daily_keep_alive_refresh(http: httpx.AsyncClient, org: EmuOrg) -> None:
    import datetime as dt

    tokens = await connect(http, org, org.app)
    storage = MemoryTokenStorage(tokens)
    later = tokens.issued_at + dt.timedelta(hours=25)
    session = SessionManager(
        storage=storage,
        renewer=RefreshTokenRenewer(http=http, login_url=org.url, app=org.app),
        clock=lambda: later,
    )
    assert await session.ensure_fresh() is True
    assert org.token_calls == ["authorization_code", "refresh_token"]
    assert storage.tokens is not None and storage.tokens.access_token != tokens.access_token


async def test_revoke_on_disconnect(http: httpx.AsyncClient, org: EmuOrg) -> None:
    tokens = await connect(http, org, org.app)
    assert tokens.refresh_token is not None
    assert await oauth.revoke(http, login_url=org.url, token=tokens.refresh_token) is True
    assert await oauth.revoke(http, login_url=org.url, token=tokens.refresh_token) is False
    with pytest.raises(ReconnectNeeded):
        await oauth.refresh(
            http, login_url=org.url, app=org.app, refresh_token=tokens.refresh_token
        )


async def test_client_credentials_flow_renews_without_refresh_token(
    http: httpx.AsyncClient, org: EmuOrg
) -> None:
    tokens = await oauth.client_credentials(http, login_url=org.url, app=org.app)
    assert tokens.refresh_token is None
    storage = MemoryTokenStorage(tokens)
    session = SessionManager(
        storage=storage, renewer=ClientCredentialsRenewer(http=http, login_url=org.url, app=org.app)
    )
    client = SalesforceClient(http, session, governor=Governor())
    org.control("POST", "expire-tokens")
    assert (await client.limits())["DailyApiRequests"]["Max"] > 0
    assert org.token_calls == ["client_credentials", "client_credentials"]


async def test_jwt_bearer_flow_renews_by_signing_again(
    http: httpx.AsyncClient, org: EmuOrg
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    made = org.control("POST", "apps", {"name": "server", "jwt_public_key_pem": public_pem})
    renewer = JwtBearerRenewer(
        http=http,
        login_url=org.url,
        client_id=made["client_id"],
        username=org.summary["username"],
        private_key_pem=private_pem,
    )
    tokens = await oauth.jwt_bearer(
        http,
        login_url=org.url,
        client_id=made["client_id"],
        username=org.summary["username"],
        private_key_pem=private_pem,
    )
    assert tokens.refresh_token is None and private_pem not in repr(renewer)
    client = SalesforceClient(
        http,
        SessionManager(storage=MemoryTokenStorage(tokens), renewer=renewer),
        governor=Governor(),
    )
    org.control("POST", "expire-tokens")
    assert (await client.limits())["DailyApiRequests"]["Max"] > 0
    jwt_grant = oauth.JWT_BEARER_GRANT
    assert org.token_calls == [jwt_grant, jwt_grant]
