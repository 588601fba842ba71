"""Identity URL, userinfo, revoke errors and the authorize endpoint's error handling."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sfemu.rest.wire import parse_version
from tests.emulator.oauth_harness import (
    CALLBACK,
    CLIENT_ID,
    ORG_ID,
    USER_USERNAME,
    Emulator,
    running_emulator,
)


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with running_emulator() as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _reset(emu: Emulator) -> None:
    emu.switches.auto_approve = True


def _access_token(emu: Emulator) -> str:
    user_id = emu.people.user_id
    return emu.tokens.issue(org_id=ORG_ID, user_id=user_id, client_id=CLIENT_ID).access_token


def _get(emu: Emulator, path: str, token: str | None, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(emu.base + path, headers=headers, params=params, timeout=10)


IDENTITY_KEYS = {
    "id", "asserted_user", "user_id", "organization_id", "username", "nick_name",
    "display_name", "email", "email_verified", "first_name", "last_name", "timezone", "photos",
    "addr_street", "addr_city", "addr_state", "addr_country", "addr_zip", "mobile_phone",
    "mobile_phone_verified", "is_lightning_login_user", "status", "urls", "active", "user_type",
    "language", "locale", "utcOffset", "last_modified_date", "is_app_installed",
}  # fmt: skip
URL_KEYS = {
    "enterprise", "metadata", "partner", "rest", "sobjects", "search", "query", "recent",
    "tooling_soap", "tooling_rest", "profile", "feeds", "groups", "users", "feed_items",
    "feed_elements", "custom_domain",
}  # fmt: skip


def test_identity_of_the_token_user(emu: Emulator) -> None:
    response = _get(emu, f"/id/{ORG_ID}/{emu.people.user_id}", _access_token(emu))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == IDENTITY_KEYS
    assert set(body["urls"]) == URL_KEYS
    assert body["id"] == f"{emu.base}/id/{ORG_ID}/{emu.people.user_id}"
    assert body["asserted_user"] is True
    assert body["username"] == USER_USERNAME
    assert body["display_name"] == "Rene Rep"
    assert body["user_type"] == "STANDARD"
    assert body["urls"]["rest"] == f"{emu.base}/services/data/v{{version}}/"
    assert body["urls"]["partner"] == f"{emu.base}/services/Soap/u/{{version}}/{ORG_ID}"
    assert body["utcOffset"] in (3_600_000, 7_200_000)  # Europe/Paris, winter or summer


def test_identity_with_15_char_ids_and_version(emu: Emulator) -> None:
    response = _get(
        emu, f"/id/{ORG_ID[:15]}/{emu.people.admin_id[:15]}", _access_token(emu), version="58.0"
    )
    body = response.json()
    assert body["user_id"] == emu.people.admin_id
    assert body["asserted_user"] is False  # another user's identity, same org
    assert body["urls"]["rest"] == f"{emu.base}/services/data/v58.0/"
    latest = _get(
        emu, f"/id/{ORG_ID}/{emu.people.user_id}", _access_token(emu), version="latest"
    ).json()
    assert latest["urls"]["sobjects"] == f"{emu.base}/services/data/v62.0/sobjects/"


def test_identity_latest_is_the_rest_latest(emu: Emulator) -> None:
    body = _get(
        emu, f"/id/{ORG_ID}/{emu.people.user_id}", _access_token(emu), version="latest"
    ).json()
    assert body["urls"]["rest"] == f"{emu.base}/services/data/v{parse_version('latest')}/"


def test_identity_accepts_oauth_token_parameter(emu: Emulator) -> None:
    response = _get(emu, f"/id/{ORG_ID}/{emu.people.user_id}", None, oauth_token=_access_token(emu))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "token", "params", "status", "text"),
    [
        (f"/id/{ORG_ID}/{{user}}", None, {}, 403, "Missing_OAuth_Token"),
        (f"/id/{ORG_ID}/{{user}}", "00D!bogus", {}, 403, "Bad_OAuth_Token"),
        ("/id/00D5g000009ZZZZEAK/{user}", "<valid>", {}, 403, "Wrong_Org"),
        (f"/id/{ORG_ID}/0055g00000NoOneAAA", "<valid>", {}, 404, "Bad_Id"),
        (f"/id/{ORG_ID}/{{user}}", "<valid>", {"version": "banana"}, 406, "Invalid_Version"),
        ("/services/oauth2/userinfo", None, {}, 403, "Missing_OAuth_Token"),
        ("/services/oauth2/userinfo", "00D!bogus", {}, 403, "Bad_OAuth_Token"),
    ],
)
def test_identity_refusals(
    emu: Emulator, path: str, token: str | None, params: dict[str, str], status: int, text: str
) -> None:
    if token == "<valid>":
        token = _access_token(emu)
    response = _get(emu, path.format(user=emu.people.user_id), token, **params)
    assert (response.status_code, response.text) == (status, text)


def test_identity_refuses_an_expired_token(emu: Emulator) -> None:
    token = _access_token(emu)
    emu.advance(emu.org.session_timeout_seconds)
    try:
        assert _get(emu, f"/id/{ORG_ID}/{emu.people.user_id}", token).text == "Bad_OAuth_Token"
    finally:
        emu.advance(-emu.org.session_timeout_seconds)


def test_userinfo(emu: Emulator) -> None:
    response = _get(emu, "/services/oauth2/userinfo", _access_token(emu))
    assert response.status_code == 200
    body = response.json()
    assert body["sub"] == f"{emu.base}/id/{ORG_ID}/{emu.people.user_id}"
    assert body["preferred_username"] == USER_USERNAME
    assert (body["given_name"], body["family_name"], body["name"]) == ("Rene", "Rep", "Rene Rep")
    assert body["zoneinfo"] == "Europe/Paris"
    assert body["organization_id"] == ORG_ID
    assert body["is_salesforce_integration_user"] is False
    for key in ("email_verified", "photos", "profile", "picture", "address", "urls", "active"):
        assert key in body
    assert "updated_at" in body and "utcOffset" in body and "is_app_installed" in body


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"token": "5Aep861unknown"}, "invalid_token"),
        ({}, "invalid_token"),
        ({"token": "x", "token_type_hint": "id_token"}, "unsupported_token_type"),
    ],
)
def test_revoke_errors(emu: Emulator, data: dict[str, str], error: str) -> None:
    response = httpx.post(f"{emu.base}/services/oauth2/revoke", data=data, timeout=10)
    assert response.status_code == 400
    assert response.json() == {"error": error}


def _authorize(emu: Emulator, **overrides: str) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": CALLBACK,
        "state": "xyz",
        **overrides,
    }
    return httpx.get(f"{emu.base}/services/oauth2/authorize", params=params, timeout=10)


@pytest.mark.parametrize(
    ("overrides", "text"),
    [
        ({"client_id": "3MVGnobody"}, "invalid_client_id"),
        ({"client_id": ""}, "invalid_client_id"),
        ({"redirect_uri": "https://attacker.example/cb"}, "redirect_uri_mismatch"),
        ({"redirect_uri": CALLBACK + "/"}, "redirect_uri_mismatch"),
    ],
)
def test_authorize_shows_an_error_page_instead_of_redirecting(
    emu: Emulator, overrides: dict[str, str], text: str
) -> None:
    response = _authorize(emu, **overrides)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert text in response.text


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge": "abc", "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": "S256"}, "invalid_request"),
        ({"scope": "api chatter_api"}, "invalid_scope"),
    ],
)
def test_authorize_redirects_request_errors(
    emu: Emulator, overrides: dict[str, str], error: str
) -> None:
    response = _authorize(emu, **overrides)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["error"] == [error] and query["state"] == ["xyz"]
    assert "error_description" in query and "code" not in query


@pytest.mark.parametrize(
    "scope", ["api", "api id profile email", "refresh_token", "offline_access"]
)
def test_authorize_accepts_granted_scopes(emu: Emulator, scope: str) -> None:
    response = _authorize(emu, scope=scope)
    assert "code" in parse_qs(urlsplit(response.headers["location"]).query)


def test_authorize_keeps_an_existing_query_on_the_callback(emu: Emulator) -> None:
    emu.configure_app(callback_urls=(*emu.app.callback_urls, "http://127.0.0.1:1/cb?tenant=7"))
    response = _authorize(emu, redirect_uri="http://127.0.0.1:1/cb?tenant=7")
    location = response.headers["location"]
    assert location.startswith("http://127.0.0.1:1/cb?tenant=7&code=")


def test_immediate_without_auto_approve_fails(emu: Emulator) -> None:
    emu.switches.auto_approve = False
    response = _authorize(emu, immediate="true")
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["error"] == ["immediate_unsuccessful"]


def test_approve_with_a_stale_ticket_is_refused(emu: Emulator) -> None:
    response = httpx.post(
        f"{emu.base}/services/oauth2/authorize",
        data={"step": "approve", "ticket": "forged", "decision": "allow"},
        timeout=10,
    )
    assert response.status_code == 400 and "start again" in response.text


def test_identity_accepts_the_oauth_scheme(emu: Emulator) -> None:
    response = httpx.get(
        f"{emu.base}/id/{ORG_ID}/{emu.people.user_id}",
        headers={"Authorization": f"OAuth {_access_token(emu)}"},
        timeout=10,
    )
    assert response.status_code == 200


def test_identity_of_a_deactivated_user(emu: Emulator) -> None:
    token = _access_token(emu)
    integration = emu.people.integration_id
    emu.org.update("User", integration, {"IsActive": False}, user_id=emu.people.admin_id)
    try:
        response = _get(emu, f"/id/{ORG_ID}/{integration}", token)
        assert (response.status_code, response.text) == (404, "Inactive")
    finally:
        emu.org.update("User", integration, {"IsActive": True}, user_id=emu.people.admin_id)
