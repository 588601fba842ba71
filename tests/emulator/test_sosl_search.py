"""SOSL against a real org: terms, field groups, RETURNING, phone matching, lag, errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sfemu import sosl
from sfemu.model import ApiError
from sfemu.org import Org
from tests.emulator.query_source import add, make_org, set_clock


@pytest.fixture
def org() -> Org:
    org = make_org()
    acme = add(org, "Account", Name="Acme Corporation", Phone="(415) 555-0100", Industry="Energy")
    add(org, "Account", Name="Globex", Phone="+1 212.555.0199", Description="acme reseller")
    add(org, "Contact", FirstName="Ada", LastName="Lovelace", Email="ada@acme.com", AccountId=acme)
    add(org, "Contact", FirstName="Bob", LastName="Acmeson", MobilePhone="+1 415.555.0100")
    add(org, "Lead", LastName="Lee", Company="Acme Labs", Phone="4155550100")
    add(org, "Lead", LastName="Smith", Company="Initech", Email="jsmith@initech.com")
    return org


def find(org: Org, text: str) -> list[dict[str, Any]]:
    return sosl.run(text, org, user_id=org.admin_user_id)


def summary(records: list[dict[str, Any]], field: str = "Name") -> list[tuple[str, Any]]:
    return [(r["attributes"]["type"], r.get(field)) for r in records]


def test_result_shape(org: Org) -> None:
    records = find(org, "FIND {Globex} RETURNING Account(Id, Name)")
    assert len(records) == 1
    record = records[0]
    assert list(record) == ["attributes", "Id", "Name"]
    assert record["attributes"] == {
        "type": "Account",
        "url": f"/services/data/v59.0/sobjects/Account/{record['Id']}",
    }


def test_name_fields_vs_all_fields(org: Org) -> None:
    named = find(org, "FIND {acme} IN NAME FIELDS RETURNING Account(Name), Lead(Name, Company)")
    assert summary(named) == [("Account", "Acme Corporation"), ("Lead", "Lee")]
    everywhere = find(org, "FIND {acme} IN ALL FIELDS RETURNING Account(Name ORDER BY Name)")
    assert summary(everywhere) == [("Account", "Acme Corporation"), ("Account", "Globex")]


def test_whole_tokens_unless_wildcard(org: Org) -> None:
    assert summary(find(org, "FIND {acme} IN NAME FIELDS RETURNING Contact(Name)")) == []
    wildcard = find(org, "FIND {acme*} IN NAME FIELDS RETURNING Contact(Name)")
    assert summary(wildcard) == [("Contact", "Bob Acmeson")]
    single = find(org, "FIND {Le?} IN NAME FIELDS RETURNING Lead(Name)")
    assert summary(single) == [("Lead", "Lee")]


def test_email_fields(org: Org) -> None:
    records = find(org, "FIND {ada@acme.com} IN EMAIL FIELDS RETURNING Contact(Email), Lead(Email)")
    assert summary(records, "Email") == [("Contact", "ada@acme.com")]
    # Email is not a name field.
    assert find(org, "FIND {ada@acme.com} IN NAME FIELDS RETURNING Contact(Email)") == []


@pytest.mark.parametrize(
    "term",
    ["4155550100", "(415) 555-0100", "415-555-0100", "+1 415 555 0100", "5550100", "14155550100"],
)
def test_phone_search_ignores_formatting(org: Org, term: str) -> None:
    records = find(
        org, f"FIND {{{term}}} IN PHONE FIELDS RETURNING Account(Name), Contact(Name), Lead(Name)"
    )
    assert summary(records) == [
        ("Account", "Acme Corporation"),
        ("Contact", "Bob Acmeson"),
        ("Lead", "Lee"),
    ]


def test_phone_search_needs_seven_digits(org: Org) -> None:
    assert find(org, "FIND {0100} IN PHONE FIELDS RETURNING Account(Name)") == []
    assert find(org, "FIND {55-0199} IN PHONE FIELDS RETURNING Account(Name)") == []
    assert summary(find(org, "FIND {2125550199} IN PHONE FIELDS RETURNING Account(Name)")) == [
        ("Account", "Globex")
    ]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("{Lee OR Smith}", ["Lee", "Smith"]),
        ("{lee or smith}", ["Lee", "Smith"]),
        ("{Acme Labs}", ["Lee"]),
        ('{"labs acme"}', []),
        ('{"acme labs"}', ["Lee"]),
        ("{Acme AND NOT Labs}", []),
        ("{Initech AND NOT Acme}", ["Smith"]),
        ("{(Lee OR Smith) AND Initech}", ["Smith"]),
        ("'Initech'", ["Smith"]),
        (r"{jsmith\@initech.com}", ["Smith"]),
    ],
)
def test_term_operators(org: Org, term: str, expected: list[str]) -> None:
    records = find(org, f"FIND {term} RETURNING Lead(LastName ORDER BY LastName)")
    assert [r["LastName"] for r in records] == expected


def test_returning_where_order_limit(org: Org) -> None:
    records = find(
        org,
        "FIND {acme*} RETURNING Contact(LastName WHERE Email = null), "
        "Account(Name, Phone WHERE Phone != null ORDER BY Name DESC LIMIT 1)",
    )
    assert summary(records, "LastName")[0] == ("Contact", "Acmeson")
    assert [(r["attributes"]["type"], r.get("Name")) for r in records[1:]] == [
        ("Account", "Globex")
    ]


def test_overall_limit(org: Org) -> None:
    records = find(org, "FIND {acme*} RETURNING Account(Name), Contact(Name), Lead(Name) LIMIT 3")
    assert len(records) == 3
    assert [r["attributes"]["type"] for r in records] == ["Account", "Account", "Contact"]


def test_parent_fields_in_returning(org: Org) -> None:
    records = find(org, "FIND {Lovelace} RETURNING Contact(Name, Account.Name)")
    assert records[0]["Account"]["Name"] == "Acme Corporation"


def test_default_returning_is_ids_of_the_usual_objects(org: Org) -> None:
    records = find(org, "FIND {acme}")
    assert {r["attributes"]["type"] for r in records} == {"Account", "Contact", "Lead"}
    assert all(list(r) == ["attributes", "Id"] for r in records)
    bare = find(org, "FIND {Globex} RETURNING Account")
    assert list(bare[0]) == ["attributes", "Id"]


def test_lagging_records_are_not_found(org: Org) -> None:
    org.search_lag_seconds = 60
    add(org, "Account", Name="Fresh Widgets")
    assert find(org, "FIND {Widgets} RETURNING Account(Name)") == []
    set_clock(org, dt.datetime(2024, 3, 15, 12, 1, 1, tzinfo=dt.UTC))
    assert summary(find(org, "FIND {Widgets} RETURNING Account(Name)")) == [
        ("Account", "Fresh Widgets")
    ]


def test_hidden_fields_are_not_searched(org: Org) -> None:
    org.hide_field("Account", "Description", org.admin_user_id)
    records = find(org, "FIND {reseller} RETURNING Account(Name)")
    assert records == []


def test_deleted_records_are_not_found(org: Org) -> None:
    doomed = find(org, "FIND {Globex} RETURNING Account(Id)")[0]["Id"]
    org.delete("Account", doomed, user_id=org.admin_user_id)
    assert find(org, "FIND {Globex} RETURNING Account(Id)") == []


@pytest.mark.parametrize(
    ("text", "code", "needle"),
    [
        ("FIND acme", "MALFORMED_SEARCH", "must be enclosed in braces"),
        ("FIND {acme", "MALFORMED_SEARCH", "no viable alternative"),
        ("FIND {a}", "MALFORMED_SEARCH", "longer than one character"),
        ("FIND {}", "MALFORMED_SEARCH", "No search term found"),
        ("FIND {(acme}", "MALFORMED_SEARCH", "missing ')'"),
        ('FIND {"acme}', "MALFORMED_SEARCH", "unmatched quote"),
        ("FIND {acme OR}", "MALFORMED_SEARCH", "ends with an operator"),
        ("FIND {acme} IN BOGUS FIELDS", "MALFORMED_SEARCH", "unexpected token: BOGUS"),
        ("FIND {acme} RETURNING", "MALFORMED_SEARCH", "unexpected token: <EOF>"),
        ('FIND {acme} RETURNING Account(Name WHERE Name = "x")', "MALFORMED_SEARCH", "no viable"),
        ("FIND {acme} RETURNING Account(Id, Id)", "MALFORMED_SEARCH", "duplicate field selected"),
        (
            "FIND {acme} RETURNING Bacon__c(Id)",
            "INVALID_TYPE",
            "sObject type 'Bacon__c' is not supported",
        ),
        (
            "FIND {acme} RETURNING Account(Bacon__c)",
            "INVALID_FIELD",
            "No such column 'Bacon__c' on entity 'Account'",
        ),
        ("FIND {acme} RETURNING Account(COUNT())", "MALFORMED_SEARCH", "aggregate"),
    ],
)
def test_errors(org: Org, text: str, code: str, needle: str) -> None:
    with pytest.raises(ApiError) as err:
        find(org, text)
    assert err.value.status == 400
    assert err.value.error_code == code
    assert needle in err.value.message
    assert "fields" not in err.value.body()[0]


def test_invalid_field_has_caret(org: Org) -> None:
    with pytest.raises(ApiError) as err:
        find(org, "FIND {acme} RETURNING Account(Bacon__c)")
    assert err.value.message.startswith(
        "\nFIND {acme} RETURNING Account(Bacon__c)\n                              ^\n"
        "ERROR at Row:1:Column:31\n"
    )
