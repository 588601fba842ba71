"""Fidelity (issue point 13a): simple-salesforce, unchanged, against sfemu over HTTPS.

The client only speaks https and keeps ``host:port`` of ``instance_url``; we trust the
emulator's throw-away CA with ``REQUESTS_CA_BUNDLE`` (requests lets that variable override a
session's ``verify``, so setting the variable is the dependable way).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from simple_salesforce.api import Salesforce, SFType
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from sfemu.testing import EmulatedSalesforce


def _type(client: Salesforce, name: str) -> SFType:
    """``client.Case`` with its static type narrowed (the attribute is dynamic)."""
    found = client.__getattr__(name)
    assert isinstance(found, SFType)
    return found


def _content(error: SalesforceError) -> Any:
    """The parsed JSON body simple-salesforce attaches to its exceptions."""
    content: Any = error.content
    return content


def _restful(client: Salesforce, path: str, body: Any) -> Any:
    result = client.restful(path, method="POST", json=body)
    assert result is not None
    return result


@pytest.fixture
def client(sf_tls: EmulatedSalesforce, monkeypatch: pytest.MonkeyPatch) -> Iterator[Salesforce]:
    assert sf_tls.ca_path is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sf_tls.ca_path))
    session = requests.Session()
    yield Salesforce(session_id=sf_tls.access_token, instance_url=sf_tls.url, session=session)
    session.close()


def test_crud(client: Salesforce) -> None:
    cases = _type(client, "Case")
    created = cases.create({"Subject": "Printer down", "Origin": "Phone"})
    assert created["success"] is True
    case_id = created["id"]
    assert cases.get(case_id)["Subject"] == "Printer down"
    assert cases.update(case_id, {"Status": "Working"}) == 204
    assert cases.get(case_id)["Status"] == "Working"
    assert cases.delete(case_id) == 204
    assert cases.api_usage["api-usage"].used == 5
    client.query("SELECT Id FROM Case")
    usage = client.api_usage["api-usage"]
    assert (usage.used, usage.total) == (6, 15000)


def test_get_by_custom_id_and_upsert(client: Salesforce) -> None:
    assert _type(client, "Case").upsert("conversationId__c/conv-9", {"Subject": "first"}) == 201
    assert _type(client, "Case").upsert("conversationId__c/conv-9", {"Subject": "second"}) == 200
    fetched = _type(client, "Case").get_by_custom_id("conversationId__c", "conv-9")
    assert fetched["Subject"] == "second"


def test_query_and_query_all_over_2000_records(client: Salesforce) -> None:
    for start in range(0, 2100, 200):
        records = [
            {"attributes": {"type": "Account"}, "Name": f"A{n:04d}"}
            for n in range(start, min(start + 200, 2100))
        ]
        results = _restful(client, "composite/sobjects", {"allOrNone": True, "records": records})
        assert all(r["success"] for r in results)
    first = client.query("SELECT Id, Name FROM Account")
    assert first["totalSize"] == 2100 and first["done"] is False and len(first["records"]) == 2000
    everything = client.query_all("SELECT Id, Name FROM Account ORDER BY Name")
    assert everything["totalSize"] == 2100
    assert [r["Name"] for r in everything["records"]] == [f"A{n:04d}" for n in range(2100)]


def test_search(client: Salesforce) -> None:
    _type(client, "Contact").create(
        {"LastName": "Gonzalez", "FirstName": "Rose", "Phone": "(415) 555-0100"}
    )
    found = client.search("FIND {4155550100} IN PHONE FIELDS RETURNING Contact(Id, Name)")
    assert [r["Name"] for r in found["searchRecords"]] == ["Rose Gonzalez"]


def test_describe_metadata_and_limits(client: Salesforce) -> None:
    described = client.describe()
    assert described is not None
    assert "Case" in {o["name"] for o in described["sobjects"]}
    assert _type(client, "Case").metadata()["objectDescribe"]["name"] == "Case"
    fields = {f["name"] for f in _type(client, "Case").describe()["fields"]}
    assert {"Subject", "Status", "CaseNumber", "Case_From__c"} <= fields
    assert client.limits()["DailyApiRequests"]["Max"] == 15000


def test_composite_sobjects_through_restful(client: Salesforce) -> None:
    body = {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Case"}, "Subject": "a"},
            {"attributes": {"type": "Account"}},
        ],
    }
    results = _restful(client, "composite/sobjects", body)
    assert results[0]["success"] is True
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"


def test_300_is_more_than_one_record(client: Salesforce, sf_tls: EmulatedSalesforce) -> None:
    sf_tls.control(
        "POST", "/fields", {"object": "Account", "name": "Legacy__c", "external_id": True}
    )
    _type(client, "Account").create({"Name": "a", "Legacy__c": "dup"})
    _type(client, "Account").create({"Name": "b", "Legacy__c": "dup"})
    with pytest.raises(SalesforceMoreThanOneRecord) as caught:
        _type(client, "Account").upsert("Legacy__c/dup", {"Name": "c"})
    assert caught.value.status == 300
    assert len(_content(caught.value)) == 2


def test_400_is_malformed_request(client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        _type(client, "Account").create({"Website": "no name"})
    assert _content(caught.value) == [
        {
            "message": "Required fields are missing: [Name]",
            "errorCode": "REQUIRED_FIELD_MISSING",
            "fields": ["Name"],
        }
    ]
    with pytest.raises(SalesforceMalformedRequest):
        client.query("SELEKT Id FROM Account")


def test_401_is_expired_session(client: Salesforce, sf_tls: EmulatedSalesforce) -> None:
    sf_tls.control("POST", "/expire-tokens")
    with pytest.raises(SalesforceExpiredSession) as caught:
        client.limits()
    assert _content(caught.value) == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_403_is_refused_request(client: Salesforce, sf_tls: EmulatedSalesforce) -> None:
    sf_tls.control("PUT", "/limits", {"daily_limit": 1})
    client.limits()
    with pytest.raises(SalesforceRefusedRequest) as caught:
        client.limits()
    assert _content(caught.value) == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]


def test_404_is_resource_not_found(client: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound) as caught:
        _type(client, "Case").get("500000000000000AAA")
    assert _content(caught.value) == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]
    with pytest.raises(SalesforceResourceNotFound):
        _type(client, "Case").get_by_custom_id("conversationId__c", "missing")


def test_updated_deleted_and_is_sandbox(client: Salesforce) -> None:
    cases = _type(client, "Case")
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    kept = cases.create({"Subject": "kept"})["id"]
    gone = cases.create({"Subject": "gone"})["id"]
    cases.delete(gone)
    end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    assert cases.updated(start, end)["ids"] == [kept]
    assert [d["id"] for d in cases.deleted(start, end)["deletedRecords"]] == [gone]
    assert client.is_sandbox() is False
