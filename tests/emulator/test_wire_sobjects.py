"""REST wire behaviour over real HTTP: versions, auth, sObject CRUD, external ids, windows."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest

from sfemu.testing import EmulatedSalesforce

JSON_TYPE = "application/json;charset=UTF-8"


def test_versions_need_no_auth(sf: EmulatedSalesforce) -> None:
    response = httpx.get(f"{sf.url}/services/data/")
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON_TYPE
    versions = response.json()
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in versions
    assert httpx.get(f"{sf.url}/services/data").json() == versions


def test_resource_list_names_the_identity_url(api: httpx.Client, sf: EmulatedSalesforce) -> None:
    body = api.get("/").json()
    assert body["sobjects"] == "/services/data/v59.0/sobjects"
    assert body["query"] == "/services/data/v59.0/query"
    assert body["identity"] == f"{sf.url}/id/{sf.org_id}/{sf.credentials.user_id}"


@pytest.mark.parametrize(
    ("headers", "code", "message"),
    [
        ({}, "INVALID_SESSION_ID", "Session expired or invalid"),
        ({"Authorization": "Bearer nope"}, "INVALID_SESSION_ID", "Session expired or invalid"),
        ({"Authorization": "Basic dXNlcjpwdw=="}, "INVALID_AUTH_HEADER", "INVALID_HEADER_TYPE"),
    ],
)
def test_401_bodies_are_json_arrays(
    sf: EmulatedSalesforce, headers: dict[str, str], code: str, message: str
) -> None:
    response = httpx.get(f"{sf.api}/sobjects", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == JSON_TYPE
    assert response.json() == [{"message": message, "errorCode": code}]


def test_every_api_response_carries_limit_info(api: httpx.Client) -> None:
    first = api.get("/limits/")
    second = api.get("/sobjects/Nope__c/describe")
    assert first.headers["sforce-limit-info"] == "api-usage=1/15000"
    assert second.status_code == 404
    assert second.headers["sforce-limit-info"] == "api-usage=2/15000"


def test_crud_round_trip(api: httpx.Client) -> None:
    created = api.post("/sobjects/Case/", json={"Subject": "Printer down", "Origin": "Phone"})
    assert created.status_code == 201
    body = created.json()
    assert body["success"] is True and body["errors"] == []
    case_id = body["id"]
    assert re.fullmatch(r"500[A-Za-z0-9]{15}", case_id)
    assert created.headers["location"] == f"/services/data/v59.0/sobjects/Case/{case_id}"

    record = api.get(f"/sobjects/Case/{case_id}").json()
    assert record["attributes"] == {
        "type": "Case",
        "url": f"/services/data/v59.0/sobjects/Case/{case_id}",
    }
    assert record["Subject"] == "Printer down"
    assert record["Status"] == "New"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", record["CreatedDate"])

    some = api.get(f"/sobjects/Case/{case_id[:15]}", params={"fields": "Subject,Status"}).json()
    assert set(some) == {"attributes", "Subject", "Status", "Id"}

    updated = api.patch(f"/sobjects/Case/{case_id}", json={"Status": "Closed"})
    assert updated.status_code == 204
    assert updated.content == b""
    assert api.get(f"/sobjects/Case/{case_id}").json()["IsClosed"] is True

    assert api.delete(f"/sobjects/Case/{case_id}").status_code == 204
    again = api.delete(f"/sobjects/Case/{case_id}")
    assert again.status_code == 404
    assert again.json() == [
        {"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}
    ]


def test_json_content_type_is_accepted_on_get_and_delete(api: httpx.Client) -> None:
    case_id = api.post("/sobjects/Case/", json={"Subject": "x"}).json()["id"]
    headers = {"Content-Type": "application/json", "X-PrettyPrint": "1"}
    assert api.get(f"/sobjects/Case/{case_id}", headers=headers).status_code == 200
    assert api.delete(f"/sobjects/Case/{case_id}", headers=headers).status_code == 204


@pytest.mark.parametrize(
    "path",
    [
        "/sobjects",
        "/sobjects/",
        "/sobjects/Case",
        "/sobjects/Case/",
        "/sobjects/Case/describe",
        "/sobjects/Case/describe/",
    ],
)
def test_routes_work_with_and_without_trailing_slash(api: httpx.Client, path: str) -> None:
    assert api.get(path).status_code == 200


def test_latest_alias(sf: EmulatedSalesforce) -> None:
    response = httpx.get(f"{sf.url}/services/data/latest/limits", headers=sf.headers)
    assert response.status_code == 200
    assert "DailyApiRequests" in response.json()


def test_head_has_headers_and_no_body(api: httpx.Client) -> None:
    response = api.head("/limits")
    assert response.status_code == 200
    assert response.content == b""
    assert "sforce-limit-info" in response.headers


def test_basic_info_and_describe(api: httpx.Client) -> None:
    info = api.get("/sobjects/Case/").json()
    assert info["objectDescribe"]["keyPrefix"] == "500"
    described = api.get("/sobjects/Case/describe").json()
    fields = {f["name"]: f for f in described["fields"]}
    assert fields["conversationId__c"]["externalId"] is True
    assert fields["Subject"]["length"] == 255
    everything = api.get("/sobjects").json()
    assert everything["maxBatchSize"] == 200
    assert "Case" in {s["name"] for s in everything["sobjects"]}


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        (
            "GET",
            "/sobjects/Account/INVALID ID",
            404,
            [
                {
                    "message": "Provided external ID field does not exist or is not accessible: INVALID ID",
                    "errorCode": "NOT_FOUND",
                }
            ],
        ),
        (
            "GET",
            "/sobjects/Account/001000000000000AAA",
            404,
            [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}],
        ),
        (
            "POST",
            "/sobjects/PlayingCard__c",
            404,
            [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}],
        ),
        (
            "GET",
            "/nothing/here",
            404,
            [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}],
        ),
        (
            "PUT",
            "/sobjects/Account/001000000000000AAA",
            405,
            [
                {
                    "message": "HTTP Method 'PUT' not allowed. Allowed are DELETE,GET,HEAD,PATCH,POST",
                    "errorCode": "METHOD_NOT_ALLOWED",
                }
            ],
        ),
        (
            "GET",
            "/sobjects/Account/Name/Acme",
            404,
            [
                {
                    "message": "Provided external ID field does not exist or is not accessible: Name",
                    "errorCode": "NOT_FOUND",
                }
            ],
        ),
    ],
)
def test_routing_errors(
    api: httpx.Client, method: str, path: str, status: int, body: list[dict[str, str]]
) -> None:
    response = api.request(method, path, json={"Name": "x"} if method in ("POST", "PUT") else None)
    assert response.status_code == status
    assert response.headers["content-type"] == JSON_TYPE
    assert response.json() == body


@pytest.mark.parametrize("raw", [b"{not json", b'{"Subject": }', b"[1, 2"])
def test_malformed_json_is_a_parser_error(api: httpx.Client, raw: bytes) -> None:
    response = api.post(
        "/sobjects/Case/", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    [error] = response.json()
    assert error["errorCode"] == "JSON_PARSER_ERROR"


def test_array_body_on_create_is_refused(api: httpx.Client) -> None:
    response = api.post("/sobjects/Case/", json=[{"Subject": "x"}])
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_validation_errors_come_from_the_org(api: httpx.Client) -> None:
    response = api.post("/sobjects/Account/", json={"Website": "x"})
    assert response.status_code == 400
    assert response.json() == [
        {
            "message": "Required fields are missing: [Name]",
            "errorCode": "REQUIRED_FIELD_MISSING",
            "fields": ["Name"],
        }
    ]


def test_upsert_creates_then_updates(api: httpx.Client) -> None:
    first = api.patch("/sobjects/Case/conversationId__c/conv-1", json={"Subject": "Hello"})
    assert first.status_code == 201
    body = first.json()
    assert body == {"id": body["id"], "success": True, "errors": [], "created": True}
    assert first.headers["location"].endswith(body["id"])
    second = api.patch("/sobjects/Case/conversationId__c/conv-1", json={"Subject": "Again"})
    assert second.status_code == 200
    assert second.json() == {"id": body["id"], "success": True, "errors": [], "created": False}
    fetched = api.get("/sobjects/Case/conversationId__c/conv-1").json()
    assert fetched["Id"] == body["id"] and fetched["Subject"] == "Again"


def test_upsert_before_v46_answers_204_on_update(sf: EmulatedSalesforce) -> None:
    url = f"{sf.url}/services/data/v45.0/sobjects/Case/conversationId__c/conv-2"
    assert httpx.patch(url, json={"Subject": "a"}, headers=sf.headers).status_code == 201
    second = httpx.patch(url, json={"Subject": "b"}, headers=sf.headers)
    assert second.status_code == 204
    assert second.content == b""


def test_several_external_id_matches_answer_300(api: httpx.Client, sf: EmulatedSalesforce) -> None:
    sf.control("POST", "/fields", {"object": "Account", "name": "Legacy__c", "external_id": True})
    ids = [
        api.post("/sobjects/Account/", json={"Name": f"A{i}", "Legacy__c": "L1"}).json()["id"]
        for i in range(2)
    ]
    expected = sorted(f"/services/data/v59.0/sobjects/Account/{i}" for i in ids)
    upsert = api.patch("/sobjects/Account/Legacy__c/L1", json={"Name": "B"})
    assert upsert.status_code == 300
    assert sorted(upsert.json()) == expected
    get = api.get("/sobjects/Account/Legacy__c/L1")
    assert get.status_code == 300
    assert sorted(get.json()) == expected


def test_delete_by_external_id(api: httpx.Client) -> None:
    api.patch("/sobjects/Case/conversationId__c/gone", json={"Subject": "x"})
    assert api.delete("/sobjects/Case/conversationId__c/gone").status_code == 204
    assert api.get("/sobjects/Case/conversationId__c/gone").status_code == 404


def _stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S%z")


def test_updated_and_deleted_windows(api: httpx.Client) -> None:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    kept = api.post("/sobjects/Case/", json={"Subject": "kept"}).json()["id"]
    gone = api.post("/sobjects/Case/", json={"Subject": "gone"}).json()["id"]
    api.delete(f"/sobjects/Case/{gone}")
    end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    window = {"start": _stamp(start), "end": _stamp(end)}
    updated = api.get("/sobjects/Case/updated/", params=window).json()
    assert updated["ids"] == [kept]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000\+0000", updated["latestDateCovered"])
    deleted = api.get("/sobjects/Case/deleted/", params=window).json()
    assert [d["id"] for d in deleted["deletedRecords"]] == [gone]
    assert set(deleted) == {"deletedRecords", "earliestDateAvailable", "latestDateCovered"}
    missing = api.get("/sobjects/Case/updated/", params={"start": _stamp(start)})
    assert missing.status_code == 400
