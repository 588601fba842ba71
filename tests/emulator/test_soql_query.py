"""SOQL against a real org: selection, relationships, filters, ordering, paging, aggregates."""

# ruff: noqa: S608  # SOQL statements are built from literals here; there is no SQL.

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sfemu import soql
from sfemu.model import ApiError
from sfemu.org import Org
from tests.emulator.query_source import add, make_org, set_clock


@pytest.fixture
def org() -> Org:
    org = make_org()
    acme = add(
        org,
        "Account",
        Name="Acme",
        Phone="(415) 555-0100",
        AnnualRevenue=5e6,
        Ext__c="A-1",
        Type="Customer",
        AccountNumber="100",
    )
    globex = add(org, "Account", Name="globex", AnnualRevenue=1e6, Ext__c="A-2", AccountNumber="2")
    add(org, "Account", Name="Initech", Type="Prospect", AccountNumber="abc")
    add(org, "Account", Name="Zeta", Type="Prospect")
    ada = add(
        org, "Contact", FirstName="Ada", LastName="Lovelace", Email="ada@acme.com", AccountId=acme
    )
    add(org, "Contact", FirstName="Bob", LastName="Stone", Email="bob@acme.com", AccountId=acme)
    add(org, "Contact", LastName="Orphan")
    add(org, "Task", Subject="Call", WhoId=ada, WhatId=globex)
    lead = add(org, "Lead", LastName="Lee", Company="Umbrella")
    add(org, "Task", Subject="Email", WhoId=lead)
    add(
        org,
        "Opportunity",
        Name="Big deal",
        Amount=1000.0,
        StageName="Prospecting",
        CloseDate="2024-03-20",
        AccountId=acme,
    )
    return org


def q(org: Org, text: str, **kw: Any) -> soql.QueryResult:
    return soql.run(text, org, user_id=org.admin_user_id, **kw)


def names(result: soql.QueryResult, field: str = "Name") -> list[Any]:
    return [r[field] for r in result.records]


def test_records_carry_attributes_and_canonical_casing(org: Org) -> None:
    result = q(org, "select id, NAME, annualrevenue from account where name = 'ACME'")
    assert result.object_name == "Account"
    assert result.total_size == 1
    record = result.records[0]
    assert list(record) == ["attributes", "Id", "Name", "AnnualRevenue"]
    assert record["attributes"] == {
        "type": "Account",
        "url": f"/services/data/v59.0/sobjects/Account/{record['Id']}",
    }
    assert record["Name"] == "Acme"


def test_version_goes_into_urls(org: Org) -> None:
    result = q(org, "SELECT Id FROM Account LIMIT 1", version="52.0")
    assert result.records[0]["attributes"]["url"].startswith(
        "/services/data/v52.0/sobjects/Account/"
    )


def test_datetime_values_use_wire_format(org: Org) -> None:
    result = q(org, "SELECT CreatedDate FROM Account LIMIT 1")
    assert result.records[0]["CreatedDate"] == "2024-03-15T12:00:00.000+0000"
    opp = q(org, "SELECT CloseDate FROM Opportunity")
    assert opp.records[0]["CloseDate"] == "2024-03-20"


def test_parent_fields_nest_and_merge(org: Org) -> None:
    result = q(
        org,
        "SELECT Name, Account.Name, Account.Phone, Account.Owner.Name FROM Contact ORDER BY LastName",
    )
    ada = result.records[0]
    assert list(ada) == ["attributes", "Name", "Account"]
    account = ada["Account"]
    assert account["attributes"]["type"] == "Account"
    assert account["Name"] == "Acme"
    assert account["Phone"] == "(415) 555-0100"
    assert account["Owner"]["Name"] == "Admin User"
    assert account["Owner"]["attributes"]["type"] == "User"
    orphan = result.records[1]
    assert orphan["Name"] == "Orphan"
    assert orphan["Account"] is None


def test_polymorphic_parent_resolves_type_from_id(org: Org) -> None:
    result = q(org, "SELECT Subject, Who.Name, What.Name, What.Type FROM Task ORDER BY Subject")
    call, email = result.records
    assert call["Who"]["attributes"]["type"] == "Contact"
    assert call["Who"]["Name"] == "Ada Lovelace"
    assert call["What"] == {
        "attributes": call["What"]["attributes"],
        "Name": "globex",
        "Type": "Account",
    }
    assert email["Who"]["attributes"]["type"] == "Lead"
    assert email["What"] is None


def test_filter_on_polymorphic_type(org: Org) -> None:
    result = q(org, "SELECT Subject FROM Task WHERE Who.Type = 'Lead'")
    assert names(result, "Subject") == ["Email"]


def test_child_subquery(org: Org) -> None:
    result = q(
        org,
        "SELECT Name, (SELECT LastName FROM Contacts WHERE Email != null ORDER BY LastName DESC LIMIT 5) "
        "FROM Account WHERE Name IN ('Acme', 'Initech') ORDER BY Name",
    )
    acme, initech = result.records
    assert acme["Contacts"]["totalSize"] == 2
    assert acme["Contacts"]["done"] is True
    assert [c["LastName"] for c in acme["Contacts"]["records"]] == ["Stone", "Lovelace"]
    assert acme["Contacts"]["records"][0]["attributes"]["type"] == "Contact"
    assert initech["Contacts"] is None


def test_parent_path_in_where(org: Org) -> None:
    result = q(org, "SELECT LastName FROM Contact WHERE Account.Name = 'acme' ORDER BY LastName")
    assert names(result, "LastName") == ["Lovelace", "Stone"]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Name = 'acme'", ["Acme"]),
        ("Name != 'Acme'", ["globex", "Initech", "Zeta"]),
        ("Name <> 'Acme'", ["globex", "Initech", "Zeta"]),
        ("AccountNumber = null", ["Zeta"]),
        ("AccountNumber != null", ["Acme", "globex", "Initech"]),
        ("AccountNumber != '2'", ["Acme", "Initech", "Zeta"]),
        ("AccountNumber NOT IN ('2', 'ABC')", ["Acme", "Zeta"]),
        ("Name LIKE 'a%'", ["Acme"]),
        ("Name LIKE '%E%'", ["Acme", "globex", "Initech", "Zeta"]),
        ("Name LIKE 'Acm_'", ["Acme"]),
        ("Name LIKE 'Ac_'", []),
        ("Name IN ('acme', 'GLOBEX')", ["Acme", "globex"]),
        ("Name NOT IN ('acme', 'GLOBEX')", ["Initech", "Zeta"]),
        ("AnnualRevenue > 1000000", ["Acme"]),
        ("AnnualRevenue >= 1000000", ["Acme", "globex"]),
        ("AnnualRevenue < 2000000.5", ["globex"]),
        ("AnnualRevenue <= 1000000 OR Type = 'Customer'", ["Acme", "globex"]),
        ("Type = 'Prospect' AND NOT AccountNumber = null", ["Initech"]),
        ("Type = 'Prospect' AND Name = 'x' OR Name = 'Acme'", ["Acme"]),
        ("Type = 'Prospect' AND (Name = 'x' OR Name = 'Initech')", ["Initech"]),
        ("NOT (Type = 'Prospect' OR Type = 'Customer')", ["globex"]),
        ("Name > 'b'", ["globex", "Initech", "Zeta"]),
        ("AccountNumber < 'b'", ["Acme", "globex", "Initech"]),
        ("Type IN ('Customer', null)", ["Acme", "globex"]),
    ],
)
def test_where_operators(org: Org, where: str, expected: list[Any]) -> None:
    result = q(org, f"SELECT Name FROM Account WHERE {where} ORDER BY Name")
    assert names(result) == expected


def test_like_escapes_match_literal_wildcards() -> None:
    org = make_org()
    for name in ("100% sure", "1000 sure", "a_b", "axb"):
        add(org, "Account", Name=name)
    assert names(q(org, r"SELECT Name FROM Account WHERE Name LIKE '100\%%'")) == ["100% sure"]
    assert names(q(org, r"SELECT Name FROM Account WHERE Name LIKE 'a\_b'")) == ["a_b"]
    assert names(q(org, "SELECT Name FROM Account WHERE Name LIKE 'a_b' ORDER BY Name")) == [
        "a_b",
        "axb",
    ]


@pytest.mark.parametrize(
    ("literal", "stored"),
    [
        (r"'O\'Brien'", "O'Brien"),
        (r"'line\nbreak'", "line\nbreak"),
        (r"'tab\Tbed'", "tab\tbed"),
        (r"'back\\slash'", "back\\slash"),
        (r"'\"quoted\"'", '"quoted"'),
        (r"'caf\u00e9'", "café"),
    ],
)
def test_string_escapes(literal: str, stored: str) -> None:
    org = make_org()
    add(org, "Account", Name=stored)
    add(org, "Account", Name="other")
    assert names(q(org, f"SELECT Name FROM Account WHERE Name = {literal}")) == [stored]


def test_boolean_and_id_filters(org: Org) -> None:
    acme_id = q(org, "SELECT Id FROM Account WHERE Name = 'Acme'").records[0]["Id"]
    assert (
        q(org, f"SELECT Name FROM Account WHERE Id = '{acme_id[:15]}'").records[0]["Name"] == "Acme"
    )
    assert q(org, f"SELECT LastName FROM Contact WHERE AccountId = '{acme_id}'").total_size == 2
    assert q(org, "SELECT Id FROM Account WHERE IsDeleted = false").total_size == 4


def test_order_by_is_case_insensitive(org: Org) -> None:
    assert names(q(org, "SELECT Name FROM Account ORDER BY Name")) == [
        "Acme",
        "globex",
        "Initech",
        "Zeta",
    ]
    assert names(q(org, "SELECT Name FROM Account ORDER BY Name DESC")) == [
        "Zeta",
        "Initech",
        "globex",
        "Acme",
    ]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("AccountNumber", [None, "100", "2", "abc"]),
        ("AccountNumber ASC", [None, "100", "2", "abc"]),
        ("AccountNumber DESC", ["abc", "2", "100", None]),
        ("AccountNumber NULLS LAST", ["100", "2", "abc", None]),
        ("AccountNumber ASC NULLS FIRST", [None, "100", "2", "abc"]),
        ("AccountNumber DESC NULLS FIRST", [None, "abc", "2", "100"]),
        ("AccountNumber DESC NULLS LAST", ["abc", "2", "100", None]),
    ],
)
def test_order_by_null_placement(org: Org, order: str, expected: list[Any]) -> None:
    assert (
        names(q(org, f"SELECT AccountNumber FROM Account ORDER BY {order}"), "AccountNumber")
        == expected
    )


def test_order_by_several_fields(org: Org) -> None:
    result = q(org, "SELECT Name, Type FROM Account ORDER BY Type DESC, Name DESC NULLS LAST")
    assert [(r["Type"], r["Name"]) for r in result.records] == [
        ("Prospect", "Zeta"),
        ("Prospect", "Initech"),
        ("Customer", "Acme"),
        (None, "globex"),
    ]


def test_order_by_parent_field(org: Org) -> None:
    result = q(org, "SELECT LastName FROM Contact ORDER BY Account.Name DESC, LastName")
    assert names(result, "LastName") == ["Lovelace", "Stone", "Orphan"]


def test_limit_and_offset(org: Org) -> None:
    result = q(org, "SELECT Name FROM Account ORDER BY Name LIMIT 2 OFFSET 1")
    assert names(result) == ["globex", "Initech"]
    assert result.total_size == 2
    assert q(org, "SELECT Name FROM Account LIMIT 0").records == []


def test_offset_cap_is_configurable(org: Org) -> None:
    with pytest.raises(ApiError) as err:
        q(org, "SELECT Name FROM Account OFFSET 2001")
    assert err.value.error_code == "NUMBER_OUTSIDE_VALID_RANGE"
    assert q(org, "SELECT Name FROM Account OFFSET 2001", max_offset=None).records == []


def test_count_only(org: Org) -> None:
    result = q(org, "SELECT COUNT() FROM Contact WHERE Email != null")
    assert result.total_size == 2
    assert result.records == []
    assert q(org, "select count() from Account limit 3").total_size == 3


def test_aggregates(org: Org) -> None:
    result = q(
        org,
        "SELECT COUNT(Id), COUNT(AccountNumber) named, MAX(AnnualRevenue), SUM(AnnualRevenue) FROM Account",
    )
    assert result.total_size == 1
    assert result.records == [
        {
            "attributes": {"type": "AggregateResult"},
            "expr0": 4,
            "named": 3,
            "expr1": 5e6,
            "expr2": 6e6,
        }
    ]


def test_semi_join(org: Org) -> None:
    result = q(
        org,
        "SELECT LastName FROM Contact WHERE Id IN (SELECT WhoId FROM Task WHERE Subject = 'Call')",
    )
    assert names(result, "LastName") == ["Lovelace"]
    anti = q(
        org,
        "SELECT LastName FROM Contact WHERE Id NOT IN (SELECT WhoId FROM Task) ORDER BY LastName",
    )
    assert names(anti, "LastName") == ["Orphan", "Stone"]


def test_alias_and_object_prefix(org: Org) -> None:
    result = q(
        org, "SELECT c.LastName, c.Account.Name FROM Contact c WHERE c.Email = 'ada@acme.com'"
    )
    assert result.records[0]["LastName"] == "Lovelace"
    assert result.records[0]["Account"]["Name"] == "Acme"
    assert (
        q(org, "SELECT Account.Name FROM Account WHERE Account.Name = 'Acme'").records[0]["Name"]
        == "Acme"
    )


def test_multipicklist_includes() -> None:
    org = make_org()
    add(org, "Account", Name="a", Tags__c="red;green")
    add(org, "Account", Name="b", Tags__c="blue")
    add(org, "Account", Name="c")
    assert names(
        q(org, "SELECT Name FROM Account WHERE Tags__c INCLUDES ('GREEN;red', 'pink')")
    ) == ["a"]
    assert names(
        q(org, "SELECT Name FROM Account WHERE Tags__c EXCLUDES ('blue') ORDER BY Name")
    ) == ["a", "c"]


def test_deleted_rows_only_with_include_deleted(org: Org) -> None:
    doomed = q(org, "SELECT Id FROM Account WHERE Name = 'Initech'").records[0]["Id"]
    org.delete("Account", doomed, user_id=org.admin_user_id)
    assert q(org, "SELECT COUNT() FROM Account").total_size == 3
    assert q(org, "SELECT COUNT() FROM Account", include_deleted=True).total_size == 4
    assert q(org, f"SELECT Id FROM Account WHERE Id = '{doomed}'").records == []
    everything = q(
        org, f"SELECT IsDeleted FROM Account WHERE Id = '{doomed}'", include_deleted=True
    )
    assert everything.records[0]["IsDeleted"] is True


def test_date_and_datetime_literals(org: Org) -> None:
    assert q(org, "SELECT COUNT() FROM Opportunity WHERE CloseDate = 2024-03-20").total_size == 1
    assert q(org, "SELECT COUNT() FROM Opportunity WHERE CloseDate > 2024-03-20").total_size == 0
    assert (
        q(org, "SELECT COUNT() FROM Account WHERE CreatedDate = 2024-03-15T12:00:00Z").total_size
        == 4
    )
    assert (
        q(
            org, "SELECT COUNT() FROM Account WHERE CreatedDate < 2024-03-15T13:00:00+02:00"
        ).total_size
        == 0
    )
    assert (
        q(
            org, "SELECT COUNT() FROM Account WHERE CreatedDate < 2024-03-15T13:00:00-02:00"
        ).total_size
        == 4
    )
    assert (
        q(
            org, "SELECT COUNT() FROM Account WHERE CreatedDate > 2024-03-15T13:00:00+0200"
        ).total_size
        == 4
    )
    assert q(org, "SELECT COUNT() FROM Account WHERE CreatedDate = TODAY").total_size == 4
    assert q(org, "SELECT COUNT() FROM Account WHERE CreatedDate = YESTERDAY").total_size == 0
    assert q(org, "SELECT COUNT() FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:5").total_size == 1
    assert q(org, "SELECT COUNT() FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:4").total_size == 0
    assert q(org, "SELECT COUNT() FROM Opportunity WHERE CloseDate > THIS_WEEK").total_size == 1
    assert q(org, "SELECT COUNT() FROM Opportunity WHERE CloseDate = THIS_MONTH").total_size == 1


def test_date_literals_use_the_users_time_zone() -> None:
    # 10:00 UTC on 15 March is still the 15th in Tokyo; 23:30 UTC is already the 16th there.
    org = make_org(now=dt.datetime(2024, 3, 15, 10, tzinfo=dt.UTC), tz="Asia/Tokyo")
    add(org, "Account", Name="made on the 15th")
    set_clock(org, dt.datetime(2024, 3, 15, 15, tzinfo=dt.UTC))  # local midnight of the 16th
    add(org, "Account", Name="boundary")
    set_clock(org, dt.datetime(2024, 3, 15, 23, 30, tzinfo=dt.UTC))
    add(org, "Account", Name="made now")
    today = q(org, "SELECT Name FROM Account WHERE CreatedDate = TODAY ORDER BY Name")
    assert names(today) == ["boundary", "made now"]
    yesterday = q(org, "SELECT Name FROM Account WHERE CreatedDate = YESTERDAY")
    assert names(yesterday) == ["made on the 15th"]
    before = q(org, "SELECT Name FROM Account WHERE CreatedDate < TODAY")
    assert names(before) == ["made on the 15th"]
    since = q(org, "SELECT Name FROM Account WHERE CreatedDate >= TODAY ORDER BY Name")
    assert names(since) == ["boundary", "made now"]
    assert q(org, "SELECT COUNT() FROM Account WHERE CreatedDate > TODAY").total_size == 0
    assert q(org, "SELECT COUNT() FROM Account WHERE CreatedDate = LAST_N_DAYS:1").total_size == 3


def test_multiline_statement_and_mixed_case_keywords(org: Org) -> None:
    text = "select Name\n\tFROM account\n  Where Type = 'Prospect'\nOrder By Name Desc\n Limit 1"
    assert names(q(org, text)) == ["Zeta"]


def test_child_subquery_through_a_polymorphic_reference(org: Org) -> None:
    result = q(
        org,
        "SELECT LastName, (SELECT Subject FROM Tasks) FROM Contact WHERE LastName = 'Lovelace'",
    )
    tasks = result.records[0]["Tasks"]
    assert [t["Subject"] for t in tasks["records"]] == ["Call"]


def test_polymorphic_owner(org: Org) -> None:
    add(org, "Case", Subject="Printer down")
    result = q(org, "SELECT Subject, Owner.Name FROM Case")
    assert result.records[0]["Owner"]["Name"] == "Admin User"
    assert result.records[0]["Owner"]["attributes"]["type"] == "User"


def test_same_text_runs_again_with_fresh_dates(org: Org) -> None:
    text = "SELECT COUNT() FROM Account WHERE CreatedDate = TODAY"
    assert q(org, text).total_size == 4
    set_clock(org, dt.datetime(2024, 3, 16, 12, 0, tzinfo=dt.UTC))
    assert q(org, text).total_size == 0
