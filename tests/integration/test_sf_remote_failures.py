"""Remote failures the emulator does not produce, through httpx.MockTransport or a closed port.

Everything the emulator can produce (401, 403 limits, 503 and lock faults, dropped
connections, paging, collections) is tested against it in ``test_sf_emulator_*.py``.
"""

from __future__ import annotations

import datetime as dt
import random
import socket
from collections.abc import Callable

import httpx
import pytest

from sfbridge.salesforce import oauth
from sfbridge.salesforce.client import SalesforceClient
from sfbridge.salesforce.errors import (
    OAuthFailed,
    ServerUnavailable,
    TransportFailure,
    UnexpectedResponse,
    ValidationFailed,
)
from sfbridge.salesforce.governor import Governor
from sfbridge.salesforce.recorder import MemoryRecorder
from sfbridge.salesforce.retry import RetryPolicy
from sfbridge.salesforce.session import RefreshTokenRenewer, SessionManager
from sfbridge.salesforce.tokens import MemoryTokenStorage, TokenSet

INSTANCE = "https://acme.my.salesforce.com"
LOGIN = "https://login.salesforce.com"
SECRET_ACCESS = "00D000000000001!SECRET-ACCESS"
SECRET_REFRESH = "5Aep-SECRET-REFRESH"


def _tokens(instance: str = INSTANCE) -> TokenSet:
    return TokenSet(
        access_token=SECRET_ACCESS,
        refresh_token=SECRET_REFRESH,
        instance_url=instance,
        id_url=f"{LOGIN}/id/00D000000000001AAA/005000000000001AAA",
        issued_at=dt.datetime.now(dt.UTC),
    )


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def _client(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    storage: MemoryTokenStorage | None = None,
    max_attempts: int = 4,
) -> tuple[SalesforceClient, FakeSleep, MemoryRecorder, MemoryTokenStorage]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    storage = storage or MemoryTokenStorage(_tokens())
    renewer = RefreshTokenRenewer(
        http=http, login_url=LOGIN, app=oauth.AppCredentials(client_id="cid", client_secret="cs")
    )
    sleep = FakeSleep()
    recorder = MemoryRecorder()
    client = SalesforceClient(
        http,
        SessionManager(storage=storage, renewer=renewer),
        governor=Governor(),
        recorder=recorder,
        retry=RetryPolicy(max_attempts=max_attempts, base_delay=0.5),
        sleep=sleep,
        rng=random.Random(1),
    )
    return client, sleep, recorder, storage


async def test_html_503_from_the_edge_is_retried_for_a_get() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) < 3:
            return httpx.Response(503, text="<html>Service Unavailable</html>")
        return httpx.Response(200, json={"DailyApiRequests": {"Max": 15000, "Remaining": 14000}})

    client, sleep, recorder, _ = _client(handler)
    limits = await client.limits()
    assert limits["DailyApiRequests"]["Max"] == 15000
    assert len(calls) == 3
    assert len(sleep.delays) == 2
    assert 0 <= sleep.delays[0] <= 0.5 and 0 <= sleep.delays[1] <= 1.0
    [call] = recorder.calls
    assert (call.method, call.path, call.status, call.attempts) == (
        "GET",
        "/services/data/v59.0/limits/",
        200,
        3,
    )


async def test_retry_budget_runs_out() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="bad gateway")

    client, sleep, recorder, _ = _client(handler, max_attempts=3)
    with pytest.raises(ServerUnavailable) as info:
        await client.get("Case", "5005g00000AbCdEAAV")
    assert info.value.status == 502
    assert len(sleep.delays) == 2
    assert recorder.calls[0].attempts == 3 and recorder.calls[0].status == 502


async def test_token_endpoint_outage_is_not_a_dead_grant() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/services/oauth2/token":
            return httpx.Response(503, text="maintenance")
        return httpx.Response(
            401, json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
        )

    client, _, recorder, storage = _client(handler)
    with pytest.raises(ServerUnavailable):
        await client.limits()
    assert storage.needs_reconnect is None
    assert storage.tokens is not None and storage.tokens.refresh_token == SECRET_REFRESH
    assert recorder.calls[0].status == 401


async def test_tampered_identity_url_in_token_response_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "access_token": "a",
                "instance_url": INSTANCE,
                "id": f"{LOGIN}/id/00DEVIL/005EVIL",
                "issued_at": "1700000000000",
                "signature": "bm90IHRoZSByaWdodCBzaWduYXR1cmU=",
            },
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(OAuthFailed) as info:
            await oauth.exchange_code(
                http,
                login_url=LOGIN,
                app=oauth.AppCredentials(client_id="cid", client_secret="cs"),
                code="c",
                redirect_uri="https://bridge.example/cb",
                code_verifier="v",
            )
    assert info.value.error == "invalid_signature"


async def test_collections_result_count_mismatch_is_unexpected() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[{"id": "00T000000000001AAA", "success": True}])

    client, _, _, _ = _client(handler)
    with pytest.raises(UnexpectedResponse, match="1 results for 2 records"):
        await client.collections_create("Task", [{"Subject": "a"}, {"Subject": "b"}])


async def test_secrets_never_reach_errors_or_records() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, json=[{"message": "bad value", "errorCode": "INVALID_FIELD", "fields": ["X"]}]
        )

    client, _, recorder, _ = _client(handler)
    with pytest.raises(ValidationFailed) as info:
        await client.create("Case", {"Subject": "s"})
    text = f"{info.value} {info.value!r} {info.value.__dict__} {recorder.calls}"
    assert SECRET_ACCESS not in text and SECRET_REFRESH not in text


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_refused_connection_retries_even_a_create() -> None:
    """A real closed loopback port: the request never left, so a POST may be resent."""
    port = _closed_port()
    async with httpx.AsyncClient(timeout=2.0) as http:
        storage = MemoryTokenStorage(_tokens(instance=f"http://127.0.0.1:{port}"))
        renewer = RefreshTokenRenewer(
            http=http, login_url=LOGIN, app=oauth.AppCredentials(client_id="cid")
        )
        sleep = FakeSleep()
        recorder = MemoryRecorder()
        client = SalesforceClient(
            http,
            SessionManager(storage=storage, renewer=renewer),
            governor=Governor(),
            recorder=recorder,
            retry=RetryPolicy(max_attempts=3),
            sleep=sleep,
        )
        with pytest.raises(TransportFailure) as info:
            await client.create("Case", {"Subject": "s"})
    assert info.value.sent is False
    assert len(sleep.delays) == 2
    assert recorder.calls[0].attempts == 3 and recorder.calls[0].status is None
