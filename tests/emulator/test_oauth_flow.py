"""Fidelity 13b: the web server flow with PKCE, driven by authlib against a real server.

Then refresh (with and without rotation), revoke, and the old tokens failing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from tests.emulator.oauth_harness import (
    CALLBACK,
    CLIENT_ID,
    CLIENT_SECRET,
    ORG_ID,
    USER_PASSWORD,
    USER_USERNAME,
    Emulator,
    running_emulator,
)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with running_emulator() as emulator:
        yield emulator


def _client(emu: Emulator, scope: str = "api refresh_token openid") -> OAuth2Session:
    return OAuth2Session(
        CLIENT_ID,
        CLIENT_SECRET,
        scope=scope,
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
    )


def _expected_signature(identity: str, issued_at: str) -> str:
    mac = hmac.new(CLIENT_SECRET.encode(), (identity + issued_at).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def _authorize_auto(emu: Emulator, client: OAuth2Session, verifier: str) -> str:
    """Authorize with auto-approve on; return the callback URL the browser is sent to."""
    url, state = client.create_authorization_url(
        f"{emu.base}/services/oauth2/authorize", code_verifier=verifier
    )
    response = requests.get(url, allow_redirects=False, timeout=10)
    assert response.status_code == 302
    location: str = response.headers["location"]
    assert location.startswith(CALLBACK + "?")
    assert parse_qs(urlsplit(location).query)["state"] == [state]
    return location


def _signed_in(
    emu: Emulator, scope: str = "api refresh_token openid"
) -> tuple[OAuth2Session, dict[str, Any]]:
    """An authlib session through the auto-approved web server flow, and the token it got."""
    client = _client(emu, scope)
    verifier = generate_token(64)
    token = client.fetch_token(
        f"{emu.base}/services/oauth2/token",
        authorization_response=_authorize_auto(emu, client, verifier),
        code_verifier=verifier,
    )
    return client, token


def _refresh_by_hand(
    emu: Emulator, refresh_token: str, *, client_secret: str | None = CLIENT_SECRET
) -> requests.Response:
    """A refresh_token grant posted with requests (to see the raw answer, not authlib's)."""
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": CLIENT_ID}
    if client_secret is not None:
        data["client_secret"] = client_secret
    return requests.post(f"{emu.base}/services/oauth2/token", data=data, timeout=10)


def _protected(emu: Emulator, access_token: str) -> requests.Response:
    return requests.get(
        f"{emu.base}/protected", headers={"Authorization": f"Bearer {access_token}"}, timeout=10
    )


def test_web_server_flow_with_pkce_end_to_end(emu: Emulator) -> None:
    client = _client(emu)
    verifier = generate_token(64)
    callback = _authorize_auto(emu, client, verifier)
    query = parse_qs(urlsplit(callback).query)
    assert "%3D%3D" in callback and query["code"][0].endswith(
        "=="
    )  # encoded on the wire, decoded by the client

    token = client.fetch_token(
        f"{emu.base}/services/oauth2/token", authorization_response=callback, code_verifier=verifier
    )

    assert list(token)[:9] == [
        "access_token",
        "refresh_token",
        "signature",
        "scope",
        "id_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    ]
    assert token["access_token"].startswith(ORG_ID[:15] + "!")
    assert token["instance_url"] == emu.base
    assert token["id"] == f"{emu.base}/id/{ORG_ID}/{emu.people.admin_id}"
    assert token["token_type"] == "Bearer"
    assert re.fullmatch(r"\d{13}", token["issued_at"])
    assert token["scope"] == "api openid refresh_token"
    assert token["signature"] == _expected_signature(token["id"], token["issued_at"])
    assert "expires_in" not in {k for k in token if k != "expires_at"}

    claims = jwt.decode(token["id_token"], CLIENT_SECRET, algorithms=["HS256"], audience=CLIENT_ID)
    assert claims["sub"] == token["id"] and claims["iss"] == emu.base
    digest = hashlib.sha256(token["access_token"].encode()).digest()[:16]
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    ok = _protected(emu, token["access_token"])
    assert ok.status_code == 200 and ok.json() == {"user_id": emu.people.admin_id, "org_id": ORG_ID}

    # The code is single use.
    again = requests.post(
        f"{emu.base}/services/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": parse_qs(urlsplit(callback).query)["code"][0],
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        timeout=10,
    )
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": "invalid authorization code",
    }


def test_refresh_without_rotation_keeps_the_refresh_token(emu: Emulator) -> None:
    client, first = _signed_in(emu)
    raw = _refresh_by_hand(emu, first["refresh_token"])
    assert raw.status_code == 200
    body = raw.json()
    assert "refresh_token" not in body
    assert body["access_token"] != first["access_token"]
    assert body["signature"] == _expected_signature(body["id"], body["issued_at"])
    assert "id_token" in body  # openid was granted

    # authlib keeps the refresh token it had; refreshing again works.
    second = client.refresh_token(f"{emu.base}/services/oauth2/token")
    assert second["refresh_token"] == first["refresh_token"]
    for access_token in (first["access_token"], body["access_token"], second["access_token"]):
        assert _protected(emu, access_token).status_code == 200


def test_refresh_with_rotation_retires_the_old_refresh_token(emu: Emulator) -> None:
    emu.configure_app(refresh_token_rotation=True)
    client, first = _signed_in(emu)
    rotated = client.refresh_token(f"{emu.base}/services/oauth2/token")
    assert rotated["refresh_token"] != first["refresh_token"]

    stale = _refresh_by_hand(emu, first["refresh_token"])
    assert stale.status_code == 400
    assert stale.json() == {
        "error": "invalid_grant",
        "error_description": "expired access/refresh token",
    }
    # The access token minted before rotation still works, and so does the new one.
    assert _protected(emu, first["access_token"]).status_code == 200
    assert _protected(emu, rotated["access_token"]).status_code == 200
    # Revoking the new refresh token takes every access token of the family along.
    client.revoke_token(f"{emu.base}/services/oauth2/revoke", token=rotated["refresh_token"])
    assert _protected(emu, first["access_token"]).status_code == 401


def test_revoke_refresh_token_kills_its_access_tokens(emu: Emulator) -> None:
    client, token = _signed_in(emu)
    refreshed = client.refresh_token(f"{emu.base}/services/oauth2/token")

    revoked = client.revoke_token(
        f"{emu.base}/services/oauth2/revoke",
        token=token["refresh_token"],
        token_type_hint="refresh_token",
    )
    assert revoked.status_code == 200

    for access_token in (token["access_token"], refreshed["access_token"]):
        dead = _protected(emu, access_token)
        assert dead.status_code == 401
        assert dead.json() == [
            {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
        ]
    again = requests.post(
        f"{emu.base}/services/oauth2/revoke", data={"token": token["refresh_token"]}, timeout=10
    )
    assert again.status_code == 400 and again.json() == {"error": "invalid_token"}
    refresh = _refresh_by_hand(emu, token["refresh_token"], client_secret=None)
    assert refresh.json()["error_description"] == "expired access/refresh token"


def test_revoke_access_token_by_get_leaves_others(emu: Emulator) -> None:
    client, token = _signed_in(emu)
    refreshed = client.refresh_token(f"{emu.base}/services/oauth2/token")
    gone = requests.get(
        f"{emu.base}/services/oauth2/revoke", params={"token": token["access_token"]}, timeout=10
    )
    assert gone.status_code == 200
    assert _protected(emu, token["access_token"]).status_code == 401
    assert _protected(emu, refreshed["access_token"]).status_code == 200


def test_refresh_token_only_with_refresh_scope(emu: Emulator) -> None:
    _, token = _signed_in(emu, scope="api")
    assert "refresh_token" not in token and "id_token" not in token
    assert token["scope"] == "api"


class _Forms(HTMLParser):
    """Collects every form's action and its named inputs (buttons are left to the test)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((values.get("action", ""), {}))
        elif tag == "input" and "name" in values and self.forms:
            self.forms[-1][1].setdefault(values["name"], values.get("value", ""))


def _form(html: str) -> tuple[str, dict[str, str]]:
    parser = _Forms()
    parser.feed(html)
    assert len(parser.forms) == 1
    return parser.forms[0]


def _login_and_decide(emu: Emulator, client: OAuth2Session, verifier: str, decision: str) -> str:
    emu.switches.auto_approve = False
    url, state = client.create_authorization_url(
        f"{emu.base}/services/oauth2/authorize", code_verifier=verifier
    )
    assert "code_challenge_method=S256" in url
    browser = requests.Session()
    page = browser.get(url, timeout=10)
    assert page.status_code == 200 and "Log in to sfemu" in page.text
    action, fields = _form(page.text)
    fields.update(username=USER_USERNAME, password="wrong")
    retry = browser.post(emu.base + action, data=fields, timeout=10)
    assert "Please check your username and password" in retry.text
    action, fields = _form(retry.text)
    fields.update(username=USER_USERNAME, password=USER_PASSWORD)
    approve = browser.post(emu.base + action, data=fields, timeout=10)
    assert "Allow access?" in approve.text and "sfbridge" in approve.text
    action, fields = _form(approve.text)
    fields["decision"] = decision
    done = browser.post(emu.base + action, data=fields, allow_redirects=False, timeout=10)
    assert done.status_code == 302
    location: str = done.headers["location"]
    assert parse_qs(urlsplit(location).query)["state"] == [state]
    return location


def test_login_and_approve_pages(emu: Emulator) -> None:
    client = _client(emu)
    verifier = generate_token(64)
    callback = _login_and_decide(emu, client, verifier, "allow")
    token = client.fetch_token(
        f"{emu.base}/services/oauth2/token", authorization_response=callback, code_verifier=verifier
    )
    assert token["id"].endswith(f"/{emu.people.user_id}")
    assert emu.tokens.codes.approved(CLIENT_ID, emu.people.user_id)


def test_deny_redirects_with_access_denied(emu: Emulator) -> None:
    client = _client(emu)
    callback = _login_and_decide(emu, client, generate_token(64), "deny")
    query = parse_qs(urlsplit(callback).query)
    assert query["error"] == ["access_denied"]
    assert query["error_description"] == ["end-user denied authorization"]
    assert "code" not in query


def test_access_token_expires_with_the_org_clock(emu: Emulator) -> None:
    client, token = _signed_in(emu)
    emu.advance(emu.org.session_timeout_seconds - 5)
    assert _protected(emu, token["access_token"]).status_code == 200
    emu.advance(10)
    assert _protected(emu, token["access_token"]).status_code == 401
    # The refresh token outlives the session: a new access token works.
    fresh = client.refresh_token(f"{emu.base}/services/oauth2/token")
    assert _protected(emu, fresh["access_token"]).status_code == 200
