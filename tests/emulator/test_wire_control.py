"""The control plane over real HTTP: key, orgs, schema, users, faults, latency, counters, tokens."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from sfemu.app import create_app
from sfemu.runtime import Emulator
from sfemu.server import serve_in_thread
from sfemu.testing import EmulatedSalesforce


def _control(sf: EmulatedSalesforce, method: str, path: str, body: Any = None) -> httpx.Response:
    return httpx.request(
        method, f"{sf.url}{path}", json=body, headers={"X-Emulator-Key": sf.emulator.control_key}
    )


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Emulator-Key": "wrong"}],
)
def test_control_plane_needs_its_key(sf: EmulatedSalesforce, headers: dict[str, str]) -> None:
    response = httpx.get(f"{sf.url}/_emulator/orgs", headers=headers)
    assert response.status_code == 401


def test_control_plane_never_accepts_a_salesforce_token(sf: EmulatedSalesforce) -> None:
    response = httpx.get(f"{sf.url}/_emulator/orgs", headers=sf.headers)
    assert response.status_code == 401


def test_control_plane_can_be_left_off() -> None:
    emulator = Emulator.with_default_org()
    running = serve_in_thread(emulator, control_plane=False)
    try:
        response = httpx.get(
            f"{running.url}/_emulator/orgs", headers={"X-Emulator-Key": emulator.control_key}
        )
        assert response.status_code == 404
    finally:
        running.stop()


def test_create_app_is_a_starlette_app_without_a_server() -> None:
    app = create_app(Emulator.with_default_org())
    assert any(getattr(r, "path", "") == "/_emulator/orgs" for r in app.routes)


def test_orgs_are_separate(sf: EmulatedSalesforce) -> None:
    created = _control(sf, "POST", "/_emulator/orgs", {"name": "Second"})
    assert created.status_code == 201
    second = created.json()
    assert second["org_id"] != sf.org_id and second["org_id"].startswith("00D")
    assert second["username"] != sf.credentials.username
    listed = _control(sf, "GET", "/_emulator/orgs").json()
    assert {o["org_id"] for o in listed} == {sf.org_id, second["org_id"]}
    token = httpx.post(
        f"{sf.url}/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": second["client_id"],
            "client_secret": second["client_secret"],
            "username": second["username"],
            "password": second["password"],
        },
    )
    assert token.status_code == 200, token.text
    other = {"Authorization": f"Bearer {token.json()['access_token']}"}
    httpx.post(f"{sf.api}/sobjects/Account/", json={"Name": "Only in second"}, headers=other)
    mine = httpx.get(
        f"{sf.api}/query", params={"q": "SELECT COUNT() FROM Account"}, headers=sf.headers
    )
    assert mine.json()["totalSize"] == 0
    theirs = httpx.get(
        f"{sf.api}/query", params={"q": "SELECT COUNT() FROM Account"}, headers=other
    )
    assert theirs.json()["totalSize"] == 1


def test_reset_keeps_credentials_and_drops_data(sf: EmulatedSalesforce) -> None:
    httpx.post(f"{sf.api}/sobjects/Account/", json={"Name": "Temp"}, headers=sf.headers)
    reset = _control(sf, "POST", f"/_emulator/orgs/{sf.org_id}/reset", {})
    assert reset.status_code == 200
    assert reset.json()["client_id"] == sf.credentials.client_id
    count = httpx.get(
        f"{sf.api}/query", params={"q": "SELECT COUNT() FROM Account"}, headers=sf.headers
    )
    assert count.status_code == 200
    assert count.json()["totalSize"] == 0


def test_seed_demo(sf: EmulatedSalesforce) -> None:
    assert sf.control("POST", "/seed", {"name": "demo"}) == {"seed": "demo"}
    count = httpx.get(
        f"{sf.api}/query", params={"q": "SELECT COUNT() FROM Contact"}, headers=sf.headers
    )
    assert count.json()["totalSize"] > 0
    assert _control(sf, "POST", "/_emulator/orgs/default/seed", {"name": "nope"}).status_code == 400


def test_custom_fields_add_and_remove(sf: EmulatedSalesforce) -> None:
    sf.control(
        "POST", "/fields", {"object": "Case", "name": "Ticket__c", "type": "string", "length": 20}
    )
    created = httpx.post(f"{sf.api}/sobjects/Case/", json={"Ticket__c": "T-1"}, headers=sf.headers)
    assert created.status_code == 201
    too_long = httpx.post(
        f"{sf.api}/sobjects/Case/", json={"Ticket__c": "x" * 21}, headers=sf.headers
    )
    assert too_long.json()[0]["errorCode"] == "STRING_TOO_LONG"
    assert (
        _control(
            sf, "DELETE", f"/_emulator/orgs/{sf.org_id}/fields/Case/conversationId__c"
        ).status_code
        == 204
    )
    gone = httpx.get(f"{sf.api}/sobjects/Case/describe", headers=sf.headers).json()
    assert "conversationId__c" not in {f["name"] for f in gone["fields"]}
    bad = _control(
        sf,
        "POST",
        f"/_emulator/orgs/{sf.org_id}/fields",
        {"object": "Case", "name": "x", "type": "blob"},
    )
    assert bad.status_code == 400


def test_users_permissions_and_field_visibility(sf: EmulatedSalesforce) -> None:
    user = sf.control(
        "POST",
        "/users",
        {"username": "rep@example.com", "last_name": "Rep", "password": "pw-123456"},
    )
    granted = sf.control("POST", f"/users/{user['id']}/permissions", {"permission": "ViewAllData"})
    assert "ViewAllData" in granted["permissions"]
    sf.control(
        "POST", "/field-visibility", {"user_id": user["id"], "object": "Case", "field": "Subject"}
    )
    token = sf.new_token(user_id=user["id"])
    described = httpx.get(
        f"{sf.api}/sobjects/Case/describe", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert "Subject" not in {f["name"] for f in described["fields"]}
    users = sf.control("GET", "/users")
    assert "rep@example.com" in {u["Username"] for u in users}


def test_connected_apps(sf: EmulatedSalesforce) -> None:
    app = sf.control("POST", "/apps", {"name": "Other", "callback_urls": ["http://127.0.0.1/cb"]})
    assert app["client_id"].startswith("3MVG9")
    assert len(sf.control("GET", "/apps")) == 2


def test_records_direct_access(sf: EmulatedSalesforce) -> None:
    created = sf.control("POST", "/records/Account", {"Name": "Direct"})
    rows = sf.control("GET", "/records/Account?Name=Direct")
    assert [r["Id"] for r in rows] == [created["id"]]
    sf.control("PATCH", f"/records/Account/{created['id']}", {"Name": "Changed"})
    assert sf.control("GET", f"/records/Account/{created['id']}")["Name"] == "Changed"
    sf.control("DELETE", f"/records/Account/{created['id']}")
    assert sf.control("GET", "/records/Account") == []
    assert len(sf.control("GET", "/records/Account?include_deleted=true")) == 1
    invalid = _control(sf, "POST", f"/_emulator/orgs/{sf.org_id}/records/Account", {})
    assert invalid.status_code == 400
    assert invalid.json()["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_unknown_org_is_404(sf: EmulatedSalesforce) -> None:
    assert _control(sf, "GET", "/_emulator/orgs/00D000000000000AAA").status_code == 404


# -- faults and latency ---------------------------------------------------------------------


def test_fault_for_next_n_requests(sf: EmulatedSalesforce) -> None:
    rule = sf.control("POST", "/faults", {"kind": "unavailable", "count": 2, "path": "limits"})
    statuses = [httpx.get(f"{sf.api}/limits", headers=sf.headers).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    other = httpx.get(f"{sf.api}/sobjects", headers=sf.headers)
    assert other.status_code == 200
    assert rule["id"]
    assert sf.control("GET", "/faults") == []


def test_fault_bodies_and_method_filter(sf: EmulatedSalesforce) -> None:
    sf.control("POST", "/faults", {"kind": "lock", "method": "PATCH"})
    case_id = httpx.post(
        f"{sf.api}/sobjects/Case/", json={"Subject": "x"}, headers=sf.headers
    ).json()["id"]
    locked = httpx.patch(
        f"{sf.api}/sobjects/Case/{case_id}", json={"Subject": "y"}, headers=sf.headers
    )
    assert locked.status_code == 400
    assert locked.json() == [
        {
            "message": f"unable to obtain exclusive access to this record or 1 records: {case_id}",
            "errorCode": "UNABLE_TO_LOCK_ROW",
            "fields": [],
        }
    ]
    assert "sforce-limit-info" in locked.headers
    sf.control("DELETE", "/faults")
    assert (
        httpx.patch(
            f"{sf.api}/sobjects/Case/{case_id}", json={"Subject": "y"}, headers=sf.headers
        ).status_code
        == 204
    )


def test_dropped_connection(sf: EmulatedSalesforce) -> None:
    sf.control("POST", "/faults", {"kind": "drop", "count": 1})
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{sf.api}/limits", headers=sf.headers)
    assert httpx.get(f"{sf.api}/limits", headers=sf.headers).status_code == 200


def test_fault_for_some_seconds(sf: EmulatedSalesforce) -> None:
    sf.control("POST", "/faults", {"kind": "error", "seconds": 0.3})
    failed = httpx.get(f"{sf.api}/limits", headers=sf.headers)
    assert failed.status_code == 500
    assert failed.json()[0]["errorCode"] == "UNKNOWN_EXCEPTION"
    time.sleep(0.35)
    assert httpx.get(f"{sf.api}/limits", headers=sf.headers).status_code == 200


def test_latency(sf: EmulatedSalesforce) -> None:
    assert sf.control("PUT", "/latency", {"fixed_ms": 150}) == {"fixed_ms": 150.0, "jitter_ms": 0.0}
    started = time.perf_counter()
    httpx.get(f"{sf.api}/limits", headers=sf.headers)
    assert time.perf_counter() - started >= 0.15
    bad = _control(sf, "PUT", f"/_emulator/orgs/{sf.org_id}/latency", {"fixed_ms": -5})
    assert bad.status_code == 400


# -- counters and limits ---------------------------------------------------------------------


def test_counters_by_route_and_reset(sf: EmulatedSalesforce) -> None:
    case_id = httpx.post(
        f"{sf.api}/sobjects/Case/", json={"Subject": "x"}, headers=sf.headers
    ).json()["id"]
    httpx.get(f"{sf.api}/sobjects/Case/{case_id}", headers=sf.headers)
    httpx.get(f"{sf.api}/sobjects/Case/{case_id}", headers=sf.headers)
    counters = sf.control("GET", "/counters")
    assert counters["counters"] == {
        "GET sobjects/{sobject}/{id}": 2,
        "POST sobjects/{sobject}": 1,
    }
    assert counters["total"] == 3
    assert counters["statuses"]["GET sobjects/{sobject}/{id} 200"] == 2
    sf.control("DELETE", "/counters")
    assert sf.control("GET", "/counters")["total"] == 0
    assert sf.control("GET", "/limits")["used"] == 3


def test_limits_reset_usage(sf: EmulatedSalesforce) -> None:
    httpx.get(f"{sf.api}/limits", headers=sf.headers)
    assert sf.control("PUT", "/limits", {"reset_usage": True, "daily_limit": 50}) == {
        "daily_limit": 50,
        "used": 0,
        "remaining": 50,
    }


# -- tokens ---------------------------------------------------------------------------------


def test_expire_tokens(sf: EmulatedSalesforce) -> None:
    assert sf.control("POST", "/expire-tokens")["expired"] >= 1
    response = httpx.get(f"{sf.api}/limits", headers=sf.headers)
    assert response.status_code == 401
    assert response.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_revoke_refresh_tokens(sf: EmulatedSalesforce) -> None:
    assert sf.control("POST", "/revoke-refresh-tokens")["revoked"] >= 1
    refreshed = httpx.post(
        f"{sf.url}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": sf.refresh_token,
            "client_id": sf.credentials.client_id,
            "client_secret": sf.credentials.client_secret,
        },
    )
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"


def test_session_timeout(sf: EmulatedSalesforce) -> None:
    assert sf.control("PUT", "/session-timeout", {"seconds": 1}) == {"seconds": 1}
    time.sleep(1.1)
    assert httpx.get(f"{sf.api}/limits", headers=sf.headers).status_code == 401


def test_search_lag_and_auto_approve(sf: EmulatedSalesforce) -> None:
    assert sf.control("PUT", "/search-lag", {"seconds": 2.5}) == {"seconds": 2.5}
    assert sf.emulator.default_state.org.search_lag_seconds == 2.5
    assert sf.control("PUT", "/_emulator/auto-approve", {"enabled": False}) == {"enabled": False}
    assert sf.emulator.auto_approve is False
