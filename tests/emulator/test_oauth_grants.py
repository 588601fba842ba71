"""Token endpoint: every grant's success shape and every error row of reference 1.3."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.emulator.oauth_harness import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    CALLBACK,
    CLIENT_ID,
    CLIENT_SECRET,
    INTEGRATION_USERNAME,
    ORG_ID,
    USER_PASSWORD,
    USER_USERNAME,
    Emulator,
    running_emulator,
)

VERIFIER = "k" * 43 + "Verifier0123456789"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _certificate_pem(key: rsa.RSAPrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sfemu jwt test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with running_emulator() as emulator:
        emulator.configure_app(jwt_public_key_pem=_certificate_pem(KEY))
        yield emulator


@pytest.fixture(autouse=True)
def _reset(emu: Emulator) -> None:
    emu.switches.auto_approve = True
    emu.switches.jwt_requires_approval = False
    emu.org.is_sandbox = False
    emu.configure_app(client_credentials_user_id=emu.people.integration_id)
    emu.clock.offset = dt.timedelta()


def _token(emu: Emulator, data: dict[str, str], **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{emu.base}/services/oauth2/token", data=data, timeout=10, **kwargs)


def _challenge(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


def _code(emu: Emulator, *, pkce: bool = True, scope: str = "api refresh_token") -> str:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": CALLBACK,
        "scope": scope,
        "state": "s1",
    }
    if pkce:
        params |= {"code_challenge": _challenge(VERIFIER), "code_challenge_method": "S256"}
    response = httpx.get(f"{emu.base}/services/oauth2/authorize", params=params, timeout=10)
    assert response.status_code == 302
    return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]


def _assertion(
    *,
    iss: str = CLIENT_ID,
    sub: str = USER_USERNAME,
    aud: str = "https://login.salesforce.com",
    exp_in: float = 180,
    key: rsa.RSAPrivateKey = KEY,
) -> str:
    claims = {"iss": iss, "sub": sub, "aud": aud, "exp": int(time.time() + exp_in)}
    return jwt.encode(claims, key, algorithm="RS256")


def _jwt(assertion: str) -> dict[str, str]:
    return {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}


def _code_form(emu: Emulator, **overrides: str) -> dict[str, str]:
    form = {
        "grant_type": "authorization_code",
        "code": _code(emu),
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": CALLBACK,
        "code_verifier": VERIFIER,
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v != "<omit>"}


def _password_form(**overrides: str) -> dict[str, str]:
    return {
        "grant_type": "password",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "username": USER_USERNAME,
        "password": USER_PASSWORD,
        **overrides,
    }


def _expired_code(emu: Emulator) -> dict[str, str]:
    form = _code_form(emu)
    emu.advance(15 * 60 + 1)
    return form


def _used_code(emu: Emulator) -> dict[str, str]:
    form = _code_form(emu)
    assert _token(emu, form).status_code == 200
    return form


def _no_execution_user(emu: Emulator) -> dict[str, str]:
    emu.configure_app(client_credentials_user_id=None)
    return {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }


def _unapproved_jwt(emu: Emulator) -> dict[str, str]:
    emu.switches.jwt_requires_approval = True
    return _jwt(_assertion(sub=INTEGRATION_USERNAME))


def _sandbox_aud_on_production(emu: Emulator) -> dict[str, str]:
    return _jwt(_assertion(aud="https://test.salesforce.com"))


@dataclass(frozen=True)
class Row:
    name: str
    form: Callable[[Emulator], dict[str, str]]
    error: str
    description: str | None
    headers: dict[str, str] = field(default_factory=dict)


ERROR_ROWS = [
    Row("unknown grant type", lambda e: {"grant_type": "implicit"}, "unsupported_grant_type", "grant type not supported"),
    Row("no grant type", lambda e: {"client_id": CLIENT_ID}, "unsupported_grant_type", "grant type not supported"),
    Row("unknown client", lambda e: _password_form(client_id="3MVGnobody"), "invalid_client_id", "client identifier invalid"),
    Row("no client", lambda e: _password_form(client_id=""), "invalid_client_id", "client identifier invalid"),
    Row("wrong secret", lambda e: _password_form(client_secret="nope"), "invalid_client", "invalid client credentials"),
    Row("missing secret", lambda e: _password_form(client_secret=""), "invalid_client", "invalid client credentials"),
    Row("bad password", lambda e: _password_form(password="wrong"), "invalid_grant", "authentication failure"),
    Row("unknown user", lambda e: _password_form(username="ghost@sfemu.example"), "invalid_grant", "authentication failure"),
    Row("unknown refresh token", lambda e: {"grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": "5Aep861nope"}, "invalid_grant", "expired access/refresh token"),
    Row("refresh with wrong secret", lambda e: {"grant_type": "refresh_token", "client_id": CLIENT_ID, "client_secret": "x", "refresh_token": "5Aep861nope"}, "invalid_client", "invalid client credentials"),
    Row("missing refresh token", lambda e: {"grant_type": "refresh_token", "client_id": CLIENT_ID}, "invalid_request", "refresh_token is required"),
    Row("unknown code", lambda e: _code_form(e, code="aPrxnope=="), "invalid_grant", "invalid authorization code"),
    Row("used code", _used_code, "invalid_grant", "invalid authorization code"),
    Row("expired code", _expired_code, "invalid_grant", "invalid authorization code"),
    Row("missing code", lambda e: _code_form(e, code="<omit>"), "invalid_request", "code is required"),
    Row("PKCE verifier missing", lambda e: _code_form(e, code_verifier="<omit>"), "invalid_grant", "invalid code verifier"),
    Row("PKCE verifier wrong", lambda e: _code_form(e, code_verifier="x" * 50), "invalid_request", "invalid code verifier"),
    Row("redirect_uri differs", lambda e: _code_form(e, redirect_uri="http://127.0.0.1:1/other"), "redirect_uri_mismatch", "redirect_uri must match configuration"),
    Row("code of another client", lambda e: _code_form(e, client_id="3MVGnobody"), "invalid_client_id", "client identifier invalid"),
    Row("no execution user", _no_execution_user, "invalid_grant", "no client credentials user enabled"),
    Row("client credentials bad basic auth", lambda e: {"grant_type": "client_credentials"}, "invalid_client", "invalid client credentials", {"Authorization": "Basic " + base64.b64encode(f"{CLIENT_ID}:bad".encode()).decode()}),
    Row("JWT wrong audience", lambda e: _jwt(_assertion(aud="https://evil.example")), "invalid_grant", "Audience validation failed"),
    Row("JWT sandbox audience on production", _sandbox_aud_on_production, "invalid_grant", "Audience validation failed"),
    Row("JWT expired", lambda e: _jwt(_assertion(exp_in=-5)), "invalid_grant", "expired authorization code"),
    Row("JWT bad signature", lambda e: _jwt(_assertion(key=OTHER_KEY)), "invalid_grant", "invalid assertion"),
    Row("JWT not a JWT", lambda e: _jwt("not-a-jwt"), "invalid_grant", "invalid assertion"),
    Row("JWT missing", lambda e: _jwt(""), "invalid_request", "assertion is required"),
    Row("JWT unknown issuer", lambda e: _jwt(_assertion(iss="3MVGnobody")), "invalid_client_id", "client identifier invalid"),
    Row("JWT unknown subject", lambda e: _jwt(_assertion(sub="ghost@sfemu.example")), "invalid_grant", "user hasn't approved this consumer"),
    Row("JWT user never approved", _unapproved_jwt, "invalid_grant", "user hasn't approved this consumer"),
]  # fmt: skip


@pytest.mark.parametrize("row", ERROR_ROWS, ids=[r.name for r in ERROR_ROWS])
def test_token_errors(emu: Emulator, row: Row) -> None:
    response = _token(emu, row.form(emu), headers=row.headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    assert "no-store" in response.headers["cache-control"]
    assert response.json() == {"error": row.error, "error_description": row.description}


def _assert_success(emu: Emulator, body: dict[str, Any], user_id: str) -> None:
    assert body["id"] == f"{emu.base}/id/{ORG_ID}/{user_id}"
    assert body["instance_url"] == emu.base
    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith(ORG_ID[:15] + "!")
    assert "refresh_token" not in body
    assert emu.tokens.validate(body["access_token"]).user_id == user_id


def test_password_grant(emu: Emulator) -> None:
    response = _token(emu, _password_form(username=ADMIN_USERNAME, password=ADMIN_PASSWORD))
    assert response.status_code == 200
    _assert_success(emu, response.json(), emu.people.admin_id)


def test_client_credentials_runs_as_the_execution_user_with_basic_auth(emu: Emulator) -> None:
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    response = _token(
        emu, {"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert response.status_code == 200
    _assert_success(emu, response.json(), emu.people.integration_id)


@pytest.mark.parametrize(
    ("sandbox", "audience"),
    [
        (False, "https://login.salesforce.com"),
        (False, "https://login.salesforce.com/"),
        (True, "https://test.salesforce.com"),
        (False, "<emulator>"),
        (True, "<emulator>"),
    ],
)
def test_jwt_bearer_audiences(emu: Emulator, sandbox: bool, audience: str) -> None:
    emu.org.is_sandbox = sandbox
    aud = emu.base if audience == "<emulator>" else audience
    response = _token(emu, _jwt(_assertion(aud=aud)))
    assert response.status_code == 200, response.text
    _assert_success(emu, response.json(), emu.people.user_id)


def test_jwt_bearer_after_approval(emu: Emulator) -> None:
    emu.switches.jwt_requires_approval = True
    emu.tokens.codes.approve(CLIENT_ID, emu.people.user_id)
    assert _token(emu, _jwt(_assertion())).status_code == 200


def test_jwt_expiry_follows_the_org_clock(emu: Emulator) -> None:
    assertion = _assertion(exp_in=60)
    emu.advance(120)
    assert _token(emu, _jwt(assertion)).json()["error_description"] == "expired authorization code"


def test_public_pkce_client_needs_no_secret(emu: Emulator) -> None:
    response = _token(emu, _code_form(emu, client_secret="<omit>"))
    assert response.status_code == 200
    assert "refresh_token" in response.json()


def test_code_without_pkce_needs_the_secret(emu: Emulator) -> None:
    form = {
        "grant_type": "authorization_code",
        "code": _code(emu, pkce=False),
        "client_id": CLIENT_ID,
        "redirect_uri": CALLBACK,
    }
    denied = _token(emu, form)
    assert denied.json() == {
        "error": "invalid_client",
        "error_description": "invalid client credentials",
    }
    form["client_secret"] = CLIENT_SECRET
    assert _token(emu, form).status_code == 200


def test_failed_redemption_leaves_the_code_usable(emu: Emulator) -> None:
    form = _code_form(emu, code_verifier="x" * 50)
    assert _token(emu, form).status_code == 400
    form["code_verifier"] = VERIFIER
    assert _token(emu, form).status_code == 200


def test_deactivated_user_cannot_log_in(emu: Emulator) -> None:
    user_id, admin = emu.people.user_id, emu.people.admin_id
    emu.org.update("User", user_id, {"IsActive": False}, user_id=admin)
    try:
        password = _token(emu, _password_form())
        assert password.json()["error_description"] == "authentication failure"
        bearer = _token(emu, _jwt(_assertion()))
        assert bearer.json()["error_description"] == "user hasn't approved this consumer"
    finally:
        emu.org.update("User", user_id, {"IsActive": True}, user_id=admin)
    assert _token(emu, _password_form()).status_code == 200
