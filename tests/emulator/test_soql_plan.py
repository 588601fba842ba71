"""The query plan: indexed equality and IN use ``DataSource.lookup`` instead of scanning."""

# ruff: noqa: S608  # SOQL statements are built from literals here; there is no SQL.

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from sfemu import soql
from sfemu.model import Record
from sfemu.org import Org
from sfemu.soql import parser
from tests.emulator.query_source import Clock, add, ext_field


class CountingOrg(Org):
    """The real org, recording full scans and index lookups (a spy, not a fake)."""

    def __init__(self) -> None:
        super().__init__(clock=Clock())
        self.scans: list[str] = []
        self.lookups: list[tuple[str, str]] = []

    def rows(self, object_name: str, *, include_deleted: bool = False) -> Iterable[Record]:
        self.scans.append(object_name)
        return super().rows(object_name, include_deleted=include_deleted)

    def lookup(
        self, object_name: str, field: str, value: Any, *, include_deleted: bool = False
    ) -> list[Record] | None:
        self.lookups.append((object_name, field))
        return super().lookup(object_name, field, value, include_deleted=include_deleted)


def counting_org() -> CountingOrg:
    org = CountingOrg()
    org.add_custom_field("Account", ext_field())
    return org


def run(org: Org, text: str, **kw: Any) -> soql.QueryResult:
    return soql.run(text, org, user_id=org.admin_user_id, **kw)


@pytest.mark.slow
def test_external_id_query_over_100k_rows_never_scans() -> None:
    org = counting_org()
    rows = ({"Name": f"Account {n}", "Ext__c": f"EXT-{n}"} for n in range(100_000))
    org.load_records("Account", rows, user_id=org.admin_user_id)
    org.scans.clear()
    org.lookups.clear()
    result = run(org, "SELECT Id, Name FROM Account WHERE Ext__c = 'ext-99999' AND Name != null")
    assert [r["Name"] for r in result.records] == ["Account 99999"]
    assert org.scans == []
    assert org.lookups == [("Account", "Ext__c")]


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ("Id = '{acme}'", "Id"),
        ("Id IN ('{acme}', '{globex}')", "Id"),
        ("Name = 'Acme' AND Id = '{acme}'", "Id"),
        ("Ext__c = 'A-1'", "Ext__c"),
        ("Ext__c IN ('A-1', 'a-2') AND Name LIKE '%'", "Ext__c"),
        # Id outranks the external id, whatever the order of the conditions.
        ("Ext__c = 'A-1' AND Id = '{acme}'", "Id"),
    ],
)
def test_indexed_conditions_use_lookup(where: str, field: str) -> None:
    org = counting_org()
    acme = add(org, "Account", Name="Acme", Ext__c="A-1")
    globex = add(org, "Account", Name="Globex", Ext__c="A-2")
    add(org, "Account", Name="Other", Ext__c="A-3")
    text = "SELECT Name FROM Account WHERE " + where.format(acme=acme, globex=globex)
    result = run(org, text)
    assert result.total_size >= 1
    assert "Account" not in org.scans
    assert org.lookups[0] == ("Account", field)


@pytest.mark.parametrize(
    "where",
    [
        "Name = 'Acme'",
        "Id = '{acme}' OR Name = 'Acme'",
        "NOT Id = '{acme}'",
        "Id != '{acme}'",
        "Id IN ('{acme}', null)",
    ],
)
def test_other_conditions_scan(where: str) -> None:
    org = counting_org()
    acme = add(org, "Account", Name="Acme")
    run(org, "SELECT Name FROM Account WHERE " + where.format(acme=acme))
    assert "Account" in org.scans


def test_lookup_results_are_still_filtered() -> None:
    org = counting_org()
    acme = add(org, "Account", Name="Acme", Ext__c="A-1")
    org.delete("Account", acme, user_id=org.admin_user_id)
    text = f"SELECT Name FROM Account WHERE Id = '{acme}'"
    assert run(org, text).records == []
    both = f"SELECT Name FROM Account WHERE Id = '{acme}' AND Name = 'Other'"
    assert run(org, both, include_deleted=True).records == []


def test_child_subqueries_use_the_reference_index() -> None:
    org = counting_org()
    acme = add(org, "Account", Name="Acme")
    add(org, "Contact", LastName="A", AccountId=acme)
    result = run(org, "SELECT Name, (SELECT LastName FROM Contacts) FROM Account")
    assert result.records[0]["Contacts"]["totalSize"] == 1
    assert "Contact" not in org.scans
    assert ("Contact", "AccountId") in org.lookups


def test_parse_results_are_cached() -> None:
    text = "SELECT Id FROM Account WHERE Name = 'cache me'"
    assert parser.parse_query(text) is parser.parse_query(text)
