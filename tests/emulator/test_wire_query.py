"""query / queryAll paging over real HTTP (reference 2.6)."""

from __future__ import annotations

import re

import httpx
import pytest

from sfemu.testing import EmulatedSalesforce


def _create_accounts(api: httpx.Client, count: int) -> list[str]:
    ids: list[str] = []
    for start in range(0, count, 200):
        records = [
            {"attributes": {"type": "Account"}, "Name": f"Acct {n:05d}"}
            for n in range(start, min(start + 200, count))
        ]
        response = api.post("/composite/sobjects", json={"allOrNone": True, "records": records})
        assert response.status_code == 200
        ids.extend(r["id"] for r in response.json())
    return ids


def test_paging_with_batch_size(api: httpx.Client, sf: EmulatedSalesforce) -> None:
    _create_accounts(api, 450)
    first = api.get(
        "/query/",
        params={"q": "SELECT Id, Name FROM Account ORDER BY Name"},
        headers={"Sforce-Query-Options": "batchSize=200"},
    ).json()
    assert first["totalSize"] == 450 and first["done"] is False
    assert len(first["records"]) == 200
    assert re.fullmatch(
        r"/services/data/v59\.0/query/01g[A-Za-z0-9]{15}-200", first["nextRecordsUrl"]
    )
    second = httpx.get(f"{sf.url}{first['nextRecordsUrl']}", headers=sf.headers).json()
    assert second["nextRecordsUrl"].endswith("-400") and second["done"] is False
    third = httpx.get(f"{sf.url}{second['nextRecordsUrl']}", headers=sf.headers).json()
    assert third["done"] is True and "nextRecordsUrl" not in third
    names = [r["Name"] for page in (first, second, third) for r in page["records"]]
    assert names == [f"Acct {n:05d}" for n in range(450)]


def test_default_batch_is_2000(api: httpx.Client) -> None:
    _create_accounts(api, 2001)
    first = api.get("/query", params={"q": "SELECT Id FROM Account"}).json()
    assert len(first["records"]) == 2000
    assert first["nextRecordsUrl"].endswith("-2000")


def test_query_all_returns_deleted_rows(api: httpx.Client) -> None:
    [kept, gone] = _create_accounts(api, 2)
    api.delete(f"/sobjects/Account/{gone}")
    q = {"q": "SELECT Id, IsDeleted FROM Account"}
    assert [r["Id"] for r in api.get("/query/", params=q).json()["records"]] == [kept]
    rows = api.get("/queryAll/", params=q).json()["records"]
    assert {(r["Id"], r["IsDeleted"]) for r in rows} == {(kept, False), (gone, True)}


def test_count_query(api: httpx.Client) -> None:
    _create_accounts(api, 3)
    body = api.get("/query", params={"q": "SELECT COUNT() FROM Account"}).json()
    assert body == {"totalSize": 3, "done": True, "records": []}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "A query string has to be specified"),
        ({"q": ""}, "SOQL statements cannot be empty or null"),
    ],
)
def test_missing_or_empty_query(api: httpx.Client, params: dict[str, str], message: str) -> None:
    response = api.get("/query/", params=params)
    assert response.status_code == 400
    assert response.json() == [{"message": message, "errorCode": "MALFORMED_QUERY"}]


def test_unknown_locator(api: httpx.Client) -> None:
    response = api.get("/query/01gAAAAAAAAAAAAAAA-2000")
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_query_errors_pass_through(api: httpx.Client) -> None:
    response = api.get("/query/", params={"q": "SELECT Bacon__c FROM Account LIMIT 2"})
    assert response.status_code == 400
    [error] = response.json()
    assert error["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Bacon__c' on entity 'Account'" in error["message"]
    assert "fields" not in error
