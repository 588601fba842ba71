"""Pure OAuth pieces: login-URL policy, PKCE, authorize URL, signatures, JWT, token parsing."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sfbridge.salesforce import oauth
from sfbridge.salesforce.errors import InvalidLoginUrl, OAuthFailed
from sfbridge.salesforce.tokens import TokenSet, token_set_from_response


@pytest.mark.parametrize(
    ("url", "allowed", "demo", "expected"),
    [
        ("https://login.salesforce.com", (), False, "https://login.salesforce.com"),
        ("https://login.salesforce.com/", (), False, "https://login.salesforce.com"),
        ("  HTTPS://Login.Salesforce.com  ", (), False, "https://login.salesforce.com"),
        ("https://test.salesforce.com", (), False, "https://test.salesforce.com"),
        ("https://acme.my.salesforce.com", (), False, "https://acme.my.salesforce.com"),
        (
            "https://acme--uat.sandbox.my.salesforce.com",
            (),
            False,
            "https://acme--uat.sandbox.my.salesforce.com",
        ),
        ("https://login.salesforce.com:443", (), False, "https://login.salesforce.com"),
        ("http://127.0.0.1:8765", ("127.0.0.1:8765",), False, "http://127.0.0.1:8765"),
        ("http://127.0.0.1:8765", ("127.0.0.1",), False, "http://127.0.0.1:8765"),
        ("http://localhost:9000/", (), True, "http://localhost:9000"),
        (
            "https://sf.internal.example",
            ("SF.internal.example",),
            False,
            "https://sf.internal.example",
        ),
    ],
)
def test_login_url_accepted(url: str, allowed: tuple[str, ...], demo: bool, expected: str) -> None:
    assert oauth.check_login_url(url, allowed_hosts=allowed, demo=demo) == expected


@pytest.mark.parametrize(
    ("url", "allowed", "message"),
    [
        ("http://login.salesforce.com", (), "https"),
        ("https://login.salesforce.com:8443", (), "port"),
        ("https://evil.example", (), "not a Salesforce login host"),
        ("https://login.salesforce.com.evil.example", (), "not a Salesforce login host"),
        ("https://my.salesforce.com", (), "not a Salesforce login host"),
        ("https://a.b.my.salesforce.com", (), "not a Salesforce login host"),
        ("https://evil.example/.my.salesforce.com", (), "path"),
        ("https://user:pw@login.salesforce.com", (), "credentials"),
        ("https://login.salesforce.com/services/oauth2/authorize", (), "path"),
        ("https://login.salesforce.com?x=1", (), "query"),
        ("ftp://login.salesforce.com", (), "http"),
        ("login.salesforce.com", (), "http"),
        ("", (), "http"),
        ("http://127.0.0.1:8765", ("127.0.0.1:9999",), "not a Salesforce login host"),
    ],
)
def test_login_url_refused(url: str, allowed: tuple[str, ...], message: str) -> None:
    with pytest.raises(InvalidLoginUrl, match=message):
        oauth.check_login_url(url, allowed_hosts=allowed)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://test.salesforce.com", True),
        ("https://acme--uat.sandbox.my.salesforce.com", True),
        ("https://test.salesforce.com/id/00D/005", True),
        ("https://login.salesforce.com", False),
        ("https://acme.my.salesforce.com", False),
        ("http://127.0.0.1:8765", None),
    ],
)
def test_sandbox_from_login_url(url: str, expected: bool | None) -> None:
    assert oauth.sandbox_from_login_url(url) is expected


def test_pkce_rfc7636_vector_and_fresh_pairs() -> None:
    assert (
        oauth.pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    a, b = oauth.new_pkce(), oauth.new_pkce()
    assert a.verifier != b.verifier
    assert 43 <= len(a.verifier) <= 128
    assert a.challenge == oauth.pkce_challenge(a.verifier)
    assert a.verifier not in repr(a)


def test_authorize_url() -> None:
    url = oauth.authorize_url(
        "https://acme.my.salesforce.com/",
        client_id="3MVG9",
        redirect_uri="https://bridge.example/oauth/callback",
        state="st&te",
        code_challenge="chal",
    )
    parts = urlsplit(url)
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}"
        == "https://acme.my.salesforce.com/services/oauth2/authorize"
    )
    assert parse_qs(parts.query) == {
        "response_type": ["code"],
        "client_id": ["3MVG9"],
        "redirect_uri": ["https://bridge.example/oauth/callback"],
        "state": ["st&te"],
        "scope": ["api refresh_token id"],
        "code_challenge": ["chal"],
        "code_challenge_method": ["S256"],
    }
    with_prompt = oauth.authorize_url(
        "https://x.my.salesforce.com",
        client_id="c",
        redirect_uri="r",
        state="s",
        code_challenge="c",
        scopes=("api",),
        prompt="login consent",
    )
    assert parse_qs(urlsplit(with_prompt).query)["prompt"] == ["login consent"]


def _signed(body: dict[str, Any], secret: str) -> dict[str, Any]:
    msg = (body["id"] + body["issued_at"]).encode()
    sig = base64.b64encode(hmac.new(secret.encode(), msg, hashlib.sha256).digest()).decode()
    return {**body, "signature": sig}


BODY = {
    "access_token": "00Dx!AR8",
    "refresh_token": "5Aep861",
    "instance_url": "https://acme.my.salesforce.com/",
    "id": "https://login.salesforce.com/id/00Dx0000000BV7zEAG/005x00000012Q9PAAU",
    "token_type": "Bearer",
    "issued_at": "1278448384422",
    "scope": "api refresh_token id",
}


@pytest.mark.parametrize(
    ("body", "secret", "valid"),
    [
        (_signed(BODY, "s3cret"), "s3cret", True),
        (_signed(BODY, "s3cret"), "other", False),
        (
            {**_signed(BODY, "s3cret"), "id": "https://login.salesforce.com/id/00DEVIL/005EVIL"},
            "s3cret",
            False,
        ),
        (BODY, "s3cret", True),  # no signature in this flow
        (_signed(BODY, "s3cret"), "", True),  # public client: nothing to check with
    ],
)
def test_token_signature(body: dict[str, Any], secret: str, valid: bool) -> None:
    assert oauth.token_signature_valid(body, secret) is valid


def test_token_set_from_response() -> None:
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    tokens = token_set_from_response(BODY, now=now)
    assert tokens.instance_url == "https://acme.my.salesforce.com"
    assert tokens.issued_at == dt.datetime(2010, 7, 6, 20, 33, 4, 422000, tzinfo=dt.UTC)
    assert tokens.org_id == "00Dx0000000BV7zEAG"
    assert tokens.user_id == "005x00000012Q9PAAU"
    assert tokens.refresh_token == "5Aep861"
    no_issued = token_set_from_response({**BODY, "issued_at": None, "refresh_token": ""}, now=now)
    assert no_issued.issued_at == now and no_issued.refresh_token is None
    with pytest.raises(OAuthFailed):
        token_set_from_response({"instance_url": "https://x"}, now=now)


def test_token_set_hides_secrets_and_round_trips() -> None:
    tokens = token_set_from_response(BODY, now=dt.datetime.now(dt.UTC))
    text = repr(tokens)
    assert "00Dx!AR8" not in text and "5Aep861" not in text and "acme" in text
    assert TokenSet.from_dict(tokens.to_dict()) == tokens


@pytest.mark.parametrize(
    ("new_refresh", "old_refresh", "kept"),
    [("new", "old", "new"), (None, "old", "old"), (None, None, None), ("new", None, "new")],
)
def test_rotation_safe_merge(
    new_refresh: str | None, old_refresh: str | None, kept: str | None
) -> None:
    at = dt.datetime.now(dt.UTC)
    old = TokenSet(
        access_token="a1", refresh_token=old_refresh, instance_url="https://x", issued_at=at
    )
    new = TokenSet(
        access_token="a2", refresh_token=new_refresh, instance_url="https://x", issued_at=at
    )
    assert new.with_refresh_token_of(old).refresh_token == kept


def test_identity_url_parts_absent() -> None:
    tokens = TokenSet(access_token="a", instance_url="https://x", issued_at=dt.datetime.now(dt.UTC))
    assert tokens.org_id is None and tokens.user_id is None


def test_jwt_assertion_is_rs256_with_salesforce_claims() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    token = oauth.jwt_assertion(
        client_id="3MVG9",
        username="int@acme.com",
        audience="https://login.salesforce.com",
        private_key_pem=pem,
        now=now,
    )
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(
        token,
        key.public_key(),
        algorithms=["RS256"],
        audience="https://login.salesforce.com",
        options={"verify_exp": False},
    )
    assert claims == {
        "iss": "3MVG9",
        "sub": "int@acme.com",
        "aud": "https://login.salesforce.com",
        "exp": int(now.timestamp()) + 180,
    }


def test_app_credentials_hide_secret() -> None:
    app = oauth.AppCredentials(client_id="3MVG9", client_secret="very-secret")
    assert "very-secret" not in repr(app)
