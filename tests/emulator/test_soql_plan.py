"""The query plan: indexed equality and IN use ``DataSource.lookup`` instead of scanning."""

# ruff: noqa: S608  # SOQL statements are built from literals here; there is no SQL.

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from sfemu import soql
from sfemu.model import Record
from sfemu.soql import parser
from tests.emulator.query_source import USER_ID, QuerySource


class CountingSource(QuerySource):
    """The in-memory source, counting full scans and index lookups."""

    def __init__(self) -> None:
        super().__init__()
        self.scans: list[str] = []
        self.lookups: list[tuple[str, str]] = []

    def rows(self, object_name: str, *, include_deleted: bool = False) -> Iterable[Record]:
        self.scans.append(object_name)
        return super().rows(object_name, include_deleted=include_deleted)

    def lookup(self, object_name: str, field: str, value: Any) -> list[Record] | None:
        self.lookups.append((object_name, field))
        return super().lookup(object_name, field, value)


class IndexedSource(CountingSource):
    """Adds a real dict index on Ext__c so 100k-row lookups stay cheap."""

    def __init__(self) -> None:
        super().__init__()
        self.ext_index: dict[str, list[Record]] = {}

    def create(self, object_name: str, **values: Any) -> str:
        record_id = super().create(object_name, **values)
        if object_name == "Account" and values.get("Ext__c"):
            record = self.get(record_id)
            assert record is not None
            self.ext_index.setdefault(values["Ext__c"].lower(), []).append(record)
        return record_id

    def lookup(self, object_name: str, field: str, value: Any) -> list[Record] | None:
        if object_name == "Account" and field == "Ext__c":
            self.lookups.append((object_name, field))
            return list(self.ext_index.get(str(value).lower(), []))
        return super().lookup(object_name, field, value)


@pytest.mark.slow
def test_external_id_query_over_100k_rows_never_scans() -> None:
    org = IndexedSource()
    for n in range(100_000):
        org.create("Account", Name=f"Account {n}", Ext__c=f"EXT-{n}")
    org.scans.clear()
    result = soql.run(
        "SELECT Id, Name FROM Account WHERE Ext__c = 'ext-99999' AND Name != null",
        org,
        user_id=USER_ID,
    )
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
    org = CountingSource()
    acme = org.create("Account", Name="Acme", Ext__c="A-1")
    globex = org.create("Account", Name="Globex", Ext__c="A-2")
    org.create("Account", Name="Other", Ext__c="A-3")
    text = "SELECT Name FROM Account WHERE " + where.format(acme=acme, globex=globex)
    result = soql.run(text, org, user_id=USER_ID)
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
    org = CountingSource()
    acme = org.create("Account", Name="Acme")
    soql.run("SELECT Name FROM Account WHERE " + where.format(acme=acme), org, user_id=USER_ID)
    assert "Account" in org.scans


def test_lookup_results_are_still_filtered() -> None:
    org = CountingSource()
    acme = org.create("Account", Name="Acme", Ext__c="A-1")
    org.delete(acme)
    text = f"SELECT Name FROM Account WHERE Id = '{acme}'"
    assert soql.run(text, org, user_id=USER_ID).records == []
    both = f"SELECT Name FROM Account WHERE Id = '{acme}' AND Name = 'Other'"
    assert soql.run(both, org, user_id=USER_ID, include_deleted=True).records == []


def test_child_subqueries_use_the_reference_index() -> None:
    org = CountingSource()
    acme = org.create("Account", Name="Acme")
    org.create("Contact", LastName="A", AccountId=acme)
    result = soql.run(
        "SELECT Name, (SELECT LastName FROM Contacts) FROM Account", org, user_id=USER_ID
    )
    assert result.records[0]["Contacts"]["totalSize"] == 1
    assert "Contact" not in org.scans
    assert ("Contact", "AccountId") in org.lookups


def test_parse_results_are_cached() -> None:
    text = "SELECT Id FROM Account WHERE Name = 'cache me'"
    assert parser.parse_query(text) is parser.parse_query(text)
