"""Parameterized search: the GET query-string form and the POST JSON body."""

from __future__ import annotations

from typing import Any

import pytest

from sfemu import sosl
from sfemu.model import ApiError
from sfemu.org import Org
from tests.emulator.query_source import add, make_org


@pytest.fixture
def org() -> Org:
    org = make_org()
    add(org, "Account", Name="Acme", Phone="(415) 555-0100")
    add(org, "Account", Name="Acme Two")
    add(org, "Contact", LastName="Acme", Email="c@acme.com")
    add(org, "Lead", LastName="Lee", Company="Acme Labs")
    return org


def search(org: Org, params: dict[str, Any]) -> list[dict[str, Any]]:
    return sosl.run_parameterized(params, org, user_id=org.admin_user_id)


def test_get_form(org: Org) -> None:
    records = search(
        org,
        {
            "q": "Acme",
            "sobject": "Account",
            "Account.fields": "id,name",
            "Account.limit": "1",
            "Account.orderBy": "Name DESC",
        },
    )
    assert [(list(r), r["Name"]) for r in records] == [(["attributes", "Id", "Name"], "Acme Two")]


def test_get_form_with_several_objects_and_where(org: Org) -> None:
    records = search(
        org,
        {
            "q": "acme",
            "sobject": ["Account", "Contact"],
            "fields": "Name",
            "Account.where": "Phone != null",
        },
    )
    assert [(r["attributes"]["type"], r["Name"]) for r in records] == [
        ("Account", "Acme"),
        ("Contact", "Acme"),
    ]


def test_post_body(org: Org) -> None:
    body = {
        "q": "Acme",
        "fields": ["Id", "Name"],
        "sobjects": [
            {"name": "Account", "where": "Name != 'Acme'"},
            {"name": "Lead", "fields": ["Company"]},
        ],
        "in": "ALL",
        "overallLimit": 100,
        "defaultLimit": 10,
    }
    records = search(org, body)
    assert [(r["attributes"]["type"], r.get("Name"), r.get("Company")) for r in records] == [
        ("Account", "Acme Two", None),
        ("Lead", None, "Acme Labs"),
    ]


def test_in_and_limits(org: Org) -> None:
    phone = search(org, {"q": "4155550100", "in": "phone", "sobject": "Account", "fields": "Name"})
    assert [r["Name"] for r in phone] == ["Acme"]
    capped = search(org, {"q": "acme", "overallLimit": 2})
    assert len(capped) == 2
    per_object = search(org, {"q": "acme", "sobject": "Account", "defaultLimit": "1"})
    assert len(per_object) == 1


def test_defaults_search_the_usual_objects_for_ids(org: Org) -> None:
    records = search(org, {"q": "acme"})
    assert {r["attributes"]["type"] for r in records} == {"Account", "Contact", "Lead"}
    assert all(list(r) == ["attributes", "Id"] for r in records)


def test_braces_in_q_are_plain_text(org: Org) -> None:
    add(org, "Account", Name="Curly Braces Inc")
    records = search(org, {"q": "{curly}", "sobject": "Account", "fields": "Name"})
    assert [r["Name"] for r in records] == ["Curly Braces Inc"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "MALFORMED_SEARCH"),
        ({"q": "  "}, "MALFORMED_SEARCH"),
        ({"q": "acme", "overallLimit": "many"}, "MALFORMED_SEARCH"),
        ({"q": "acme", "sobject": "Bacon__c"}, "INVALID_TYPE"),
        ({"q": "acme", "sobject": "Account", "Account.fields": "Bacon__c"}, "INVALID_FIELD"),
        ({"q": "acme", "in": "NOWHERE"}, "MALFORMED_SEARCH"),
    ],
)
def test_errors(org: Org, params: dict[str, Any], code: str) -> None:
    with pytest.raises(ApiError) as err:
        search(org, params)
    assert (err.value.status, err.value.error_code) == (400, code)


def test_to_sosl_builds_a_statement(org: Org) -> None:
    text = sosl.to_sosl(
        {"q": "a}b", "sobject": "Account", "Account.fields": "Id, Name", "Account.limit": 5}, org
    )
    assert text == r"FIND {a\}b} IN ALL FIELDS RETURNING Account(Id, Name LIMIT 5)"
