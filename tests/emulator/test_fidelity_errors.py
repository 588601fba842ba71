"""Fidelity (issue point 13c): bodies and headers checked against the reference's examples.

Each row quotes ``salesforce-api.md`` (sections 2 and 3): the exact status, JSON body and
headers Salesforce sends, and what sfemu answers for the same request.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from sfemu.testing import EmulatedSalesforce

JSON_TYPE = "application/json;charset=UTF-8"
LIMIT_INFO = re.compile(r"^api-usage=\d+/\d+$")


def _check_headers(response: httpx.Response) -> None:
    assert response.headers["content-type"] == JSON_TYPE
    assert LIMIT_INFO.match(response.headers["sforce-limit-info"])


@pytest.fixture
def account_id(api: httpx.Client) -> str:
    return str(api.post("/sobjects/Account/", json={"Name": "Reference"}).json()["id"])


CASES: list[tuple[str, str, str, Any, int, Any]] = [
    # (label, method, path, body, status, expected body); "{account}" is a live Account id.
    (
        "3.3 MALFORMED_ID",
        "PATCH",
        "/sobjects/Account/001B000001Lp1FxIAB",
        {"Name": "x"},
        400,
        [
            {
                "message": "Record ID: id value of incorrect type: 001B000001Lp1FxIAB",
                "errorCode": "MALFORMED_ID",
                "fields": ["Id"],
            }
        ],
    ),
    (
        "3.3 INVALID_FIELD on write",
        "POST",
        "/sobjects/Account/",
        {"Name": "x", "FavoritePet__c": "Cat"},
        400,
        [
            {
                "message": "No such column 'FavoritePet__c' on sobject of type Account",
                "errorCode": "INVALID_FIELD",
            }
        ],
    ),
    (
        "3.3 REQUIRED_FIELD_MISSING",
        "POST",
        "/sobjects/Contact/",
        {"FirstName": "x"},
        400,
        [
            {
                "message": "Required fields are missing: [LastName]",
                "errorCode": "REQUIRED_FIELD_MISSING",
                "fields": ["LastName"],
            }
        ],
    ),
    (
        "3.3 STRING_TOO_LONG uses the label",
        "POST",
        "/sobjects/Account/",
        {"Name": "x" * 256},
        400,
        [
            {
                "message": f"Account Name: data value too large: {'x' * 256} (max length=255)",
                "errorCode": "STRING_TOO_LONG",
                "fields": ["Name"],
            }
        ],
    ),
    (
        "3.3 ENTITY_IS_DELETED",
        "DELETE",
        "/sobjects/Account/{deleted}",
        None,
        404,
        [{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}],
    ),
    (
        "2.4 unknown object",
        "POST",
        "/sobjects/PlayingCard__c",
        {"Name": "x"},
        404,
        [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}],
    ),
    (
        "2.4 not an id",
        "GET",
        "/sobjects/Account/INVALID ID",
        None,
        404,
        [
            {
                "message": "Provided external ID field does not exist or is not accessible: INVALID ID",
                "errorCode": "NOT_FOUND",
            }
        ],
    ),
    (
        "2.6 query unknown column",
        "GET",
        "/query/?q=SELECT+Bacon__c+FROM+Account+LIMIT+2",
        None,
        400,
        [
            {
                "message": "\nSELECT Bacon__c FROM Account LIMIT 2\n       ^\nERROR at Row:1:Column:8\n"
                "No such column 'Bacon__c' on entity 'Account'. If you are attempting to use a custom "
                "field, be sure to append the '__c' after the custom field name. Please reference your "
                "WSDL or the describe call for the appropriate names.",
                "errorCode": "INVALID_FIELD",
            }
        ],
    ),
    (
        "2.6 missing q",
        "GET",
        "/query/",
        None,
        400,
        [{"message": "A query string has to be specified", "errorCode": "MALFORMED_QUERY"}],
    ),
    (
        "3.3 METHOD_NOT_ALLOWED",
        "PATCH",
        "/limits/",
        {},
        405,
        [
            {
                "message": "HTTP Method 'PATCH' not allowed. Allowed are GET,HEAD",
                "errorCode": "METHOD_NOT_ALLOWED",
            }
        ],
    ),
]


@pytest.mark.parametrize(
    ("label", "method", "path", "body", "status", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_error_bodies_match_the_reference(
    api: httpx.Client,
    account_id: str,
    label: str,
    method: str,
    path: str,
    body: Any,
    status: int,
    expected: Any,
) -> None:
    if "{deleted}" in path:
        api.delete(f"/sobjects/Account/{account_id}")
        path = path.replace("{deleted}", account_id)
    response = api.request(method, path, json=body)
    assert response.status_code == status, label
    _check_headers(response)
    assert response.json() == expected


def test_restricted_picklist_uses_the_label(api: httpx.Client, sf: EmulatedSalesforce) -> None:
    sf.control(
        "POST",
        "/fields",
        {
            "object": "Account",
            "name": "Rating__c",
            "label": "Rating",
            "type": "picklist",
            "picklist": ["Hot", "Cold"],
            "restricted_picklist": True,
        },
    )
    response = api.post("/sobjects/Account/", json={"Name": "x", "Rating__c": "Terrible"})
    assert response.status_code == 400
    assert response.json() == [
        {
            "message": "Rating: bad value for restricted picklist field: Terrible",
            "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "fields": ["Rating__c"],
        }
    ]


def test_create_matches_2_4(api: httpx.Client) -> None:
    response = api.post("/sobjects/Case/", json={"Subject": "Printer down", "Origin": "Phone"})
    assert response.status_code == 201
    _check_headers(response)
    body = response.json()
    assert list(body) == ["id", "success", "errors"]
    assert response.headers["location"] == f"/services/data/v59.0/sobjects/Case/{body['id']}"


def test_retrieve_matches_2_4(api: httpx.Client) -> None:
    case_id = api.post("/sobjects/Case/", json={"Subject": "Printer down"}).json()["id"]
    record = api.get(f"/sobjects/Case/{case_id}").json()
    assert next(iter(record)) == "attributes"
    assert re.fullmatch(r"\d{8}", record["CaseNumber"])
    assert record["ContactId"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", record["CreatedDate"])


def test_upsert_matches_2_5(api: httpx.Client) -> None:
    first = api.patch("/sobjects/Case/conversationId__c/11999", json={"Subject": "x"})
    assert first.status_code == 201
    assert list(first.json()) == ["id", "success", "errors", "created"]
    second = api.patch("/sobjects/Case/conversationId__c/11999", json={"Subject": "y"})
    assert second.status_code == 200
    assert second.json()["created"] is False
    missing = api.patch("/sobjects/Case/Nope__c/1", json={"Subject": "y"})
    assert missing.status_code == 404
    assert missing.json() == [
        {
            "message": "Provided external ID field does not exist or is not accessible: Nope__c",
            "errorCode": "NOT_FOUND",
        }
    ]


def test_query_page_matches_2_6(api: httpx.Client) -> None:
    records = [{"attributes": {"type": "Case"}, "Subject": str(i)} for i in range(200)]
    api.post("/composite/sobjects", json={"records": records})
    api.post("/composite/sobjects", json={"records": records})
    page = api.get(
        "/query/",
        params={"q": "SELECT Id, Subject FROM Case"},
        headers={"Sforce-Query-Options": "batchSize=300"},
    ).json()
    assert list(page) == ["totalSize", "done", "nextRecordsUrl", "records"]
    assert page["totalSize"] == 400 and page["done"] is False
    assert re.fullmatch(
        r"/services/data/v59\.0/query/01g[0-9A-Za-z]{15}-300", page["nextRecordsUrl"]
    )
    first = page["records"][0]
    assert first["attributes"]["type"] == "Case"
    assert first["attributes"]["url"] == f"/services/data/v59.0/sobjects/Case/{first['Id']}"


def test_composite_response_matches_2_8(api: httpx.Client) -> None:
    body = {
        "allOrNone": False,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "refAccount",
                "body": {"Name": "Sample Account"},
            },
        ],
    }
    [entry] = api.post("/composite", json=body).json()["compositeResponse"]
    assert set(entry) == {"body", "httpHeaders", "httpStatusCode", "referenceId"}
    assert entry["body"] == {"id": entry["body"]["id"], "success": True, "errors": []}


def test_limit_info_grows_per_call(api: httpx.Client) -> None:
    seen = [api.get("/limits/").headers["sforce-limit-info"] for _ in range(3)]
    assert seen == ["api-usage=1/15000", "api-usage=2/15000", "api-usage=3/15000"]
    body = api.get("/limits/").json()
    assert body["DailyApiRequests"] == {"Max": 15000, "Remaining": 15000 - 4}
