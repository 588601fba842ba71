"""search and parameterizedSearch over real HTTP (reference 2.7)."""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture
def people(api: httpx.Client) -> dict[str, str]:
    contact = api.post(
        "/sobjects/Contact/",
        json={"FirstName": "Rose", "LastName": "Gonzalez", "Phone": "(415) 555-0100"},
    )
    lead = api.post(
        "/sobjects/Lead/", json={"LastName": "Boxer", "Company": "Acme", "Phone": "+1 415.555.0100"}
    )
    return {"contact": contact.json()["id"], "lead": lead.json()["id"]}


def test_sosl_search(api: httpx.Client, people: dict[str, str]) -> None:
    q = "FIND {4155550100} IN PHONE FIELDS RETURNING Contact(Id, Name), Lead(Id, Name)"
    body = api.get("/search/", params={"q": q}).json()
    assert [(r["attributes"]["type"], r["Id"]) for r in body["searchRecords"]] == [
        ("Contact", people["contact"]),
        ("Lead", people["lead"]),
    ]


def test_parameterized_search_get(api: httpx.Client, people: dict[str, str]) -> None:
    params = {
        "q": "Gonzalez",
        "sobject": "Contact",
        "Contact.fields": "Id,Name",
        "Contact.limit": "10",
    }
    body = api.get("/parameterizedSearch/", params=params).json()
    assert [r["Id"] for r in body["searchRecords"]] == [people["contact"]]


def test_parameterized_search_post(api: httpx.Client, people: dict[str, str]) -> None:
    request = {"q": "Acme", "fields": ["Id", "Name"], "sobjects": [{"name": "Lead"}], "in": "ALL"}
    body = api.post("/parameterizedSearch", json=request).json()
    assert [r["Id"] for r in body["searchRecords"]] == [people["lead"]]


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "FIND"}])
def test_malformed_search(api: httpx.Client, params: dict[str, str]) -> None:
    response = api.get("/search", params=params)
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "MALFORMED_SEARCH"
