"""composite, composite/batch, sObject Collections and Tree over real HTTP (reference 2.8-2.11)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sfemu.testing import EmulatedSalesforce

V = "/services/data/v59.0"
HALTED = [
    {
        "errorCode": "PROCESSING_HALTED",
        "message": "The transaction was rolled back since another operation in the same "
        "transaction failed.",
    }
]
ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was "
    "using AllOrNone header",
    "fields": [],
}


def _count(api: httpx.Client, obj: str) -> int:
    query = f"SELECT COUNT() FROM {obj}"  # noqa: S608 - SOQL against the emulator
    return int(api.get("/query", params={"q": query}).json()["totalSize"])


def _usage(response: httpx.Response) -> int:
    return int(response.headers["sforce-limit-info"].split("=")[1].split("/")[0])


# -- composite ------------------------------------------------------------------------------


def test_composite_references_in_url_and_body(api: httpx.Client) -> None:
    body = {
        "allOrNone": False,
        "compositeRequest": [
            {
                "method": "POST",
                "url": f"{V}/sobjects/Account",
                "referenceId": "refAccount",
                "body": {"Name": "Sample Account"},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Contact",
                "referenceId": "refContact",
                "body": {"LastName": "Sample", "AccountId": "@{refAccount.id}"},
            },
            {
                "method": "GET",
                "url": f"{V}/query/?q=SELECT+Id,AccountId+FROM+Contact",
                "referenceId": "refQ",
            },
            {
                "method": "GET",
                "url": f"{V}/sobjects/Contact/@{{refQ.records[0].Id}}?fields=AccountId",
                "referenceId": "refGet",
            },
        ],
    }
    response = api.post("/composite", json=body)
    assert response.status_code == 200
    results = response.json()["compositeResponse"]
    assert [r["referenceId"] for r in results] == ["refAccount", "refContact", "refQ", "refGet"]
    account = results[0]
    assert account["httpStatusCode"] == 201
    assert account["httpHeaders"] == {"Location": f"{V}/sobjects/Account/{account['body']['id']}"}
    assert results[1]["httpStatusCode"] == 201
    assert results[3]["body"]["AccountId"] == account["body"]["id"]
    assert _usage(response) == 1


def test_composite_all_or_none_rolls_back(api: httpx.Client) -> None:
    body = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": f"{V}/sobjects/Account",
                "referenceId": "a",
                "body": {"Name": "Kept?"},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Contact",
                "referenceId": "c",
                "body": {"FirstName": "No last name"},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Account",
                "referenceId": "b",
                "body": {"Name": "Never"},
            },
        ],
    }
    results = api.post("/composite", json=body).json()["compositeResponse"]
    assert results[0] == {
        "body": HALTED,
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": "a",
    }
    assert results[1]["httpStatusCode"] == 400
    assert results[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert results[2]["body"] == HALTED
    assert _count(api, "Account") == 0


def test_composite_without_all_or_none_skips_only_dependents(api: httpx.Client) -> None:
    body = {
        "compositeRequest": [
            {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "bad", "body": {}},
            {
                "method": "POST",
                "url": f"{V}/sobjects/Contact",
                "referenceId": "dep",
                "body": {"LastName": "x", "AccountId": "@{bad.id}"},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Account",
                "referenceId": "ok",
                "body": {"Name": "Independent"},
            },
        ],
    }
    results = api.post("/composite", json=body).json()["compositeResponse"]
    assert [r["httpStatusCode"] for r in results] == [400, 400, 201]
    assert results[1]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert "bad" in results[1]["body"][0]["message"]
    assert _count(api, "Account") == 1


def _subrequests(count: int, url: str) -> list[dict[str, Any]]:
    return [{"method": "GET", "url": url, "referenceId": f"r{i}"} for i in range(count)]


@pytest.mark.parametrize(
    "subrequests",
    [
        _subrequests(26, f"{V}/limits"),
        _subrequests(6, f"{V}/query?q=SELECT+Id+FROM+Account"),
        [],
        [{"method": "GET", "url": f"{V}/limits"}],
        [
            {"method": "GET", "url": f"{V}/limits", "referenceId": "x"},
            {"method": "GET", "url": f"{V}/limits", "referenceId": "x"},
        ],
    ],
)
def test_composite_envelope_errors(api: httpx.Client, subrequests: list[dict[str, Any]]) -> None:
    response = api.post("/composite", json={"compositeRequest": subrequests})
    assert response.status_code == 400
    assert isinstance(response.json(), list)


def test_composite_accepts_25(api: httpx.Client) -> None:
    response = api.post("/composite", json={"compositeRequest": _subrequests(25, f"{V}/limits")})
    assert response.status_code == 200
    assert len(response.json()["compositeResponse"]) == 25


# -- batch ----------------------------------------------------------------------------------


def test_batch_counts_each_subrequest_and_halts(api: httpx.Client) -> None:
    account = api.post("/sobjects/Account/", json={"Name": "Before"}).json()["id"]
    before = _usage(api.get("/limits"))
    body = {
        "haltOnError": True,
        "batchRequests": [
            {
                "method": "PATCH",
                "url": f"v59.0/sobjects/account/{account}",
                "richInput": {"Name": "After"},
            },
            {"method": "GET", "url": f"v59.0/sobjects/account/{account}?fields=Name"},
            {"method": "POST", "url": "v59.0/sobjects/Contact", "richInput": {}},
            {"method": "GET", "url": "v59.0/limits"},
        ],
    }
    response = api.post("/composite/batch", json=body)
    assert _usage(response) == before + 4
    result = response.json()
    assert result["hasErrors"] is True
    assert [r["statusCode"] for r in result["results"]] == [204, 200, 400, 412]
    assert result["results"][0]["result"] is None
    assert result["results"][1]["result"]["Name"] == "After"
    assert result["results"][3]["result"] == [
        {"errorCode": "BATCH_PROCESSING_HALTED", "message": "Batch processing halted per request"}
    ]


def test_batch_without_halt_runs_everything(api: httpx.Client) -> None:
    body = {
        "batchRequests": [
            {"method": "POST", "url": "v59.0/sobjects/Contact", "richInput": {}},
            {"method": "POST", "url": "v59.0/sobjects/Account", "richInput": {"Name": "x"}},
        ]
    }
    result = api.post("/composite/batch/", json=body).json()
    assert [r["statusCode"] for r in result["results"]] == [400, 201]
    assert _count(api, "Account") == 1


@pytest.mark.parametrize(
    ("path", "key", "count", "code", "message"),
    [
        ("/composite", "compositeRequest", 0, "JSON_PARSER_ERROR", "compositeRequest: the list"),
        ("/composite", "compositeRequest", None, "JSON_PARSER_ERROR", "compositeRequest: the"),
        ("/composite", "compositeRequest", 26, "LIMIT_EXCEEDED", "a composite request can"),
        ("/composite/batch", "batchRequests", 0, "JSON_PARSER_ERROR", "batchRequests: the list"),
        ("/composite/batch", "batchRequests", None, "JSON_PARSER_ERROR", "batchRequests: the"),
        ("/composite/batch", "batchRequests", 26, "LIMIT_EXCEEDED", "a batch request can"),
    ],
)
def test_subrequest_list_missing_empty_or_over_25(
    api: httpx.Client, path: str, key: str, count: int | None, code: str, message: str
) -> None:
    body = {} if count is None else {key: _subrequests(count, f"{V}/limits")}
    response = api.post(path, json=body)
    assert response.status_code == 400
    [error] = response.json()
    assert error["errorCode"] == code
    assert message in error["message"]


# -- collections ----------------------------------------------------------------------------


def test_collections_create_update_retrieve_delete(api: httpx.Client) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": f"A{i}"} for i in range(3)]
    records.append({"attributes": {"type": "Contact"}, "LastName": "Mixed types"})
    created = api.post("/composite/sobjects", json={"records": records})
    assert created.status_code == 200
    results = created.json()
    assert all(r["success"] and r["errors"] == [] for r in results)
    ids = [r["id"] for r in results[:3]]
    assert _usage(created) == 1

    changes = [
        {"attributes": {"type": "Account"}, "Id": i, "Name": f"B{n}"} for n, i in enumerate(ids)
    ]
    assert all(
        r["success"] for r in api.patch("/composite/sobjects", json={"records": changes}).json()
    )

    fetched = api.get(
        "/composite/sobjects/Account",
        params={"ids": ",".join([*ids, "001000000000000AAA"]), "fields": "Id,Name"},
    ).json()
    assert [r["Name"] for r in fetched[:3]] == ["B0", "B1", "B2"]
    assert fetched[3] is None
    posted = api.post(
        "/composite/sobjects/Account", json={"ids": ids[:1], "fields": ["Name"]}
    ).json()
    assert posted[0]["Name"] == "B0"

    deleted = api.delete("/composite/sobjects", params={"ids": ",".join(ids)}).json()
    assert [r["id"] for r in deleted] == ids and all(r["success"] for r in deleted)


def test_collections_partial_failure_uses_status_code_key(api: httpx.Client) -> None:
    records = [
        {"attributes": {"type": "Account"}, "Name": "Good"},
        {"attributes": {"type": "Account"}},
    ]
    results = api.post("/composite/sobjects", json={"allOrNone": False, "records": records}).json()
    assert results[0]["success"] is True
    assert results[1] == {
        "success": False,
        "errors": [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [Name]",
                "fields": ["Name"],
            }
        ],
    }
    assert _count(api, "Account") == 1


def test_collections_all_or_none_rolls_back(api: httpx.Client) -> None:
    records = [
        {"attributes": {"type": "Account"}, "Name": "Good"},
        {"attributes": {"type": "Account"}},
        {"attributes": {"type": "Account"}, "Name": "Also good"},
    ]
    results = api.post("/composite/sobjects", json={"allOrNone": True, "records": records}).json()
    assert results[0] == {"success": False, "errors": [ROLLED_BACK]}
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert results[2] == {"success": False, "errors": [ROLLED_BACK]}
    assert _count(api, "Account") == 0


def test_collections_upsert(api: httpx.Client) -> None:
    records = [
        {"attributes": {"type": "Case"}, "conversationId__c": "c-1", "Subject": "one"},
        {"attributes": {"type": "Case"}, "conversationId__c": "c-2", "Subject": "two"},
    ]
    first = api.patch(
        "/composite/sobjects/Case/conversationId__c", json={"records": records}
    ).json()
    assert [r["created"] for r in first] == [True, True]
    records[0]["Subject"] = "one again"
    second = api.patch(
        "/composite/sobjects/Case/conversationId__c", json={"records": records}
    ).json()
    assert [r["created"] for r in second] == [False, False]
    assert [r["id"] for r in second] == [r["id"] for r in first]


def test_collections_limit_of_200(api: httpx.Client) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": str(i)} for i in range(201)]
    response = api.post("/composite/sobjects", json={"records": records})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_collections_missing_type(api: httpx.Client) -> None:
    results = api.post("/composite/sobjects", json={"records": [{"Name": "x"}]}).json()
    assert results[0]["success"] is False
    assert results[0]["errors"][0]["statusCode"] == "INVALID_TYPE"


# -- tree -----------------------------------------------------------------------------------


def test_tree_creates_parents_and_children(api: httpx.Client) -> None:
    body = {
        "records": [
            {
                "attributes": {"type": "Account", "referenceId": "ref1"},
                "Name": "SampleAccount",
                "Contacts": {
                    "records": [
                        {
                            "attributes": {"type": "Contact", "referenceId": "ref2"},
                            "LastName": "Smith",
                        }
                    ]
                },
            }
        ]
    }
    response = api.post("/composite/tree/Account", json=body)
    assert response.status_code == 201
    result = response.json()
    assert result["hasErrors"] is False
    refs = {r["referenceId"]: r["id"] for r in result["results"]}
    contact = api.get(f"/sobjects/Contact/{refs['ref2']}").json()
    assert contact["AccountId"] == refs["ref1"]


def test_tree_error_saves_nothing(api: httpx.Client) -> None:
    body = {
        "records": [
            {
                "attributes": {"type": "Account", "referenceId": "ref1"},
                "Name": "A",
                "Contacts": {
                    "records": [{"attributes": {"type": "Contact", "referenceId": "ref2"}}]
                },
            }
        ]
    }
    response = api.post("/composite/tree/Account/", json=body)
    assert response.status_code == 400
    result = response.json()
    assert result["hasErrors"] is True
    assert result["results"][0]["referenceId"] == "ref2"
    assert result["results"][0]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert _count(api, "Account") == 0


def test_limits_exhausted(api: httpx.Client, sf: EmulatedSalesforce) -> None:
    sf.control("PUT", "/limits", {"daily_limit": 3})
    assert api.get("/limits").status_code == 200
    api.get("/limits")
    api.get("/limits")
    refused = api.get("/limits")
    assert refused.status_code == 403
    assert refused.json() == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert refused.headers["sforce-limit-info"] == "api-usage=3/3"


def test_composite_subrequest_headers_and_body_references(api: httpx.Client) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": f"N{i:03d}"} for i in range(200)]
    api.post("/composite/sobjects", json={"records": records})
    api.post("/composite/sobjects", json={"records": records})
    body = {
        "compositeRequest": [
            {
                "method": "GET",
                "url": f"{V}/query?q=SELECT+Id+FROM+Account",
                "referenceId": "q",
                "httpHeaders": {"Sforce-Query-Options": "batchSize=200"},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Contact",
                "referenceId": "c",
                "body": {"LastName": "Ref", "AccountId": "@{q.records[0].Id}"},
            },
        ]
    }
    [query, contact] = api.post("/composite", json=body).json()["compositeResponse"]
    assert len(query["body"]["records"]) == 200
    assert query["body"]["nextRecordsUrl"].endswith("-200")
    assert contact["httpStatusCode"] == 201


def test_unmatched_routes_are_counted(api: httpx.Client, sf: EmulatedSalesforce) -> None:
    api.get("/nothing")
    assert sf.control("GET", "/counters")["counters"] == {"GET (unmatched)": 1}


def test_version_root_refuses_writes(sf: EmulatedSalesforce) -> None:
    response = httpx.post(f"{sf.url}/services/data/", json={})
    assert response.status_code == 405
    assert response.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"
