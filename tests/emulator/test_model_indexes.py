"""Indexes, lookups, find_by_field and upsert."""

import pytest

from sfemu import ids
from sfemu.model import ApiError
from sfemu.org import MultipleMatches, Org


@pytest.fixture(name="org")
def _org() -> Org:
    return Org.default()


def test_lookup_on_100k_records(org: Org) -> None:
    admin = org.admin_user_id
    account = org.create("Account", {"Name": "Acme"}, user_id=admin)
    created = org.load_records(
        "Case",
        (
            {
                "Subject": f"case {i}",
                "conversationId__c": f"Conv-{i}",
                "AccountId": account if i % 1000 == 0 else None,
                "SuppliedEmail": f"user{i % 5000}@example.com",
            }
            for i in range(100_000)
        ),
        user_id=admin,
    )
    assert len(created) == 100_000 and len(set(created)) == 100_000
    for i in (0, 1, 54_321, 99_999):
        found = org.lookup("Case", "conversationid__c", f"CONV-{i}")
        assert found is not None and [r["Id"] for r in found] == [created[i]]
        by_id = org.lookup("Case", "Id", created[i][:15])
        assert by_id is not None and by_id[0]["Subject"] == f"case {i}"
    children = org.lookup("Case", "AccountId", account[:15])
    assert children is not None and len(children) == 100
    emails = org.lookup("Case", "SuppliedEmail", "USER7@example.com")
    assert emails is not None and len(emails) == 20
    assert org.lookup("Case", "conversationId__c", "conv-100000") == []
    assert org.lookup("Case", "Subject", "case 1") is None  # not indexed
    # Indexes stay right across an update and a delete.
    org.update("Case", created[5], {"conversationId__c": "moved"}, user_id=admin)
    assert org.lookup("Case", "conversationId__c", "conv-5") == []
    assert [r["Id"] for r in org.lookup("Case", "conversationId__c", "MOVED") or []] == [created[5]]
    org.delete("Case", created[6], user_id=admin)
    assert org.lookup("Case", "conversationId__c", "conv-6") == []
    deleted = org.lookup("Case", "conversationId__c", "conv-6", include_deleted=True)
    assert deleted is not None and deleted[0]["IsDeleted"] is True


@pytest.mark.parametrize(
    ("object_name", "field", "indexed"),
    [
        ("Case", "Id", True),
        ("Case", "ContactId", True),
        ("Case", "OwnerId", True),
        ("Case", "CaseNumber", True),
        ("Contact", "Email", True),
        ("User", "Username", True),
        ("Case", "Subject", False),
        ("Contact", "Phone", False),
        ("Case", "NoSuchField", False),
    ],
)
def test_which_fields_are_indexed(org: Org, object_name: str, field: str, indexed: bool) -> None:
    assert (org.lookup(object_name, field, "x") is not None) is indexed


def test_lookup_on_unknown_object_is_none(org: Org) -> None:
    assert org.lookup("Nope__c", "Id", "x") is None


def test_find_by_field_scans_when_not_indexed(org: Org) -> None:
    admin = org.admin_user_id
    one = org.create("Contact", {"LastName": "A", "Phone": "(415) 555-0100"}, user_id=admin)
    org.create("Contact", {"LastName": "B", "Phone": "4155550100"}, user_id=admin)
    assert [r["Id"] for r in org.find_by_field("contact", "phone", "(415) 555-0100")] == [one]
    assert [r["LastName"] for r in org.find_by_field("Contact", "lastname", "a")] == ["A"]
    found = org.find_by_field("Contact", "LastName", "A")[0]
    found["LastName"] = "mutated"  # copies: the org is not affected
    assert org.retrieve("Contact", one, user_id=admin)["LastName"] == "A"
    with pytest.raises(ApiError) as caught:
        org.find_by_field("Contact", "Nope", "x")
    assert caught.value.error_code == "INVALID_FIELD"


def test_upsert_inserts_then_updates(org: Org) -> None:
    admin = org.admin_user_id
    record_id, created = org.upsert(
        "Case", "conversationId__c", "conv-1", {"Subject": "first"}, user_id=admin
    )
    assert created is True
    case = org.retrieve("Case", record_id, user_id=admin)
    assert (case["conversationId__c"], case["Subject"]) == ("conv-1", "first")
    again, created = org.upsert(
        "case", "CONVERSATIONID__C", "CONV-1", {"Subject": "second"}, user_id=admin
    )
    assert (again, created) == (record_id, False)
    assert org.retrieve("Case", record_id, user_id=admin)["Subject"] == "second"
    assert len(list(org.rows("Case"))) == 1


def test_upsert_by_id(org: Org) -> None:
    admin = org.admin_user_id
    new_id, created = org.upsert("Case", "Id", None, {"Subject": "x"}, user_id=admin)
    assert created and ids.is_valid(new_id, "500")
    same, created = org.upsert("Case", "Id", new_id[:15], {"Subject": "y"}, user_id=admin)
    assert (same, created) == (new_id, False)


def test_upsert_with_several_matches_is_300(org: Org) -> None:
    admin = org.admin_user_id
    from sfemu.model import FieldDef

    org.add_custom_field(
        "Contact",
        FieldDef(name="Legacy__c", label="Legacy", type="string", length=20, external_id=True),
    )
    first = org.create("Contact", {"LastName": "a", "Legacy__c": "L1"}, user_id=admin)
    second = org.create("Contact", {"LastName": "b", "Legacy__c": "l1"}, user_id=admin)
    with pytest.raises(MultipleMatches) as caught:
        org.upsert("Contact", "Legacy__c", "L1", {"LastName": "c"}, user_id=admin)
    assert caught.value.status == 300
    assert caught.value.ids == [first, second]
    assert caught.value.urls("59.0") == [
        f"/services/data/v59.0/sobjects/Contact/{first}",
        f"/services/data/v59.0/sobjects/Contact/{second}",
    ]


@pytest.mark.parametrize("field", ["Subject", "Nope__c"])
def test_upsert_on_a_field_that_is_not_an_external_id(org: Org, field: str) -> None:
    with pytest.raises(ApiError) as caught:
        org.upsert("Case", field, "v", {}, user_id=org.admin_user_id)
    assert caught.value.status == 404
    assert caught.value.message == (
        f"Provided external ID field does not exist or is not accessible: {field}"
    )


def test_upsert_validation_errors_change_nothing(org: Org) -> None:
    with pytest.raises(ApiError) as caught:
        org.upsert("Case", "conversationId__c", "c", {"Status": "Bad"}, user_id=org.admin_user_id)
    assert caught.value.error_code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert list(org.rows("Case")) == []
