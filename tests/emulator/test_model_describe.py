"""Describe shapes (reference 2.3)."""

from typing import Any

import pytest

from sfemu import describe
from sfemu.model import ApiError
from sfemu.org import Org


@pytest.fixture(name="org")
def _org() -> Org:
    return Org.default()


def _field(body: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(f for f in body["fields"] if f["name"] == name)
    return found


def test_describe_global(org: Org) -> None:
    body = describe.describe_global(org, "59.0")
    assert (body["encoding"], body["maxBatchSize"]) == ("UTF-8", 200)
    case = next(o for o in body["sobjects"] if o["name"] == "Case")
    assert case["keyPrefix"] == "500" and case["labelPlural"] == "Cases"
    assert case["urls"] == {
        "sobject": "/services/data/v59.0/sobjects/Case",
        "describe": "/services/data/v59.0/sobjects/Case/describe",
        "rowTemplate": "/services/data/v59.0/sobjects/Case/{ID}",
    }
    expected_keys = {
        "activateable",
        "createable",
        "custom",
        "customSetting",
        "deletable",
        "deprecatedAndHidden",
        "feedEnabled",
        "keyPrefix",
        "label",
        "labelPlural",
        "layoutable",
        "mergeable",
        "mruEnabled",
        "name",
        "queryable",
        "replicateable",
        "retrieveable",
        "searchable",
        "triggerable",
        "undeletable",
        "updateable",
        "urls",
    }
    assert expected_keys <= case.keys()
    names = {o["name"] for o in body["sobjects"]}
    assert {
        "Account",
        "Contact",
        "Lead",
        "Opportunity",
        "Case",
        "CaseComment",
        "EmailMessage",
        "Task",
        "Event",
        "User",
        "Organization",
        "Group",
        "CaseStatus",
    } <= names
    organization = next(o for o in body["sobjects"] if o["name"] == "Organization")
    assert organization["createable"] is False


def test_basic_info(org: Org) -> None:
    body = describe.basic_info(org, "case", "60.0")
    assert body["objectDescribe"]["name"] == "Case"
    assert body["recentItems"] == []
    with pytest.raises(ApiError) as caught:
        describe.basic_info(org, "Nope__c")
    assert caught.value.status == 404


@pytest.mark.parametrize(
    ("object_name", "field", "expected"),
    [
        (
            "Case",
            "Id",
            {
                "type": "id",
                "soapType": "tns:ID",
                "length": 18,
                "nillable": False,
                "createable": False,
                "idLookup": True,
            },
        ),
        (
            "Case",
            "CaseNumber",
            {
                "type": "string",
                "autoNumber": True,
                "createable": False,
                "updateable": False,
                "defaultedOnCreate": True,
                "idLookup": True,
                "nameField": True,
                "length": 30,
                "byteLength": 90,
            },
        ),
        (
            "Case",
            "Status",
            {
                "type": "picklist",
                "restrictedPicklist": True,
                "nillable": False,
                "defaultedOnCreate": True,
            },
        ),
        (
            "Case",
            "OwnerId",
            {
                "type": "reference",
                "referenceTo": ["User", "Group"],
                "relationshipName": "Owner",
                "polymorphicForeignKey": True,
                "namePointing": True,
            },
        ),
        (
            "Case",
            "ContactId",
            {
                "referenceTo": ["Contact"],
                "relationshipName": "Contact",
                "polymorphicForeignKey": False,
            },
        ),
        (
            "Case",
            "conversationId__c",
            {"custom": True, "externalId": True, "unique": True, "idLookup": True, "length": 255},
        ),
        ("Case", "Description", {"type": "textarea", "filterable": False, "sortable": False}),
        ("Case", "IsClosed", {"type": "boolean", "soapType": "xsd:boolean", "defaultValue": False}),
        ("Case", "ClosedDate", {"type": "datetime", "soapType": "xsd:dateTime"}),
        (
            "Task",
            "WhoId",
            {
                "referenceTo": ["Contact", "Lead"],
                "relationshipName": "Who",
                "polymorphicForeignKey": True,
            },
        ),
        ("Task", "CallDurationInSeconds", {"type": "int", "soapType": "xsd:int", "digits": 8}),
        ("Opportunity", "Amount", {"type": "currency", "precision": 18, "scale": 2}),
        ("Opportunity", "CloseDate", {"type": "date", "soapType": "xsd:date", "nillable": False}),
        ("Contact", "Name", {"calculated": True, "nameField": True, "createable": False}),
    ],
)
def test_field_describe(org: Org, object_name: str, field: str, expected: dict[str, Any]) -> None:
    described = _field(describe.describe_object(org, object_name, "59.0"), field)
    assert {k: described[k] for k in expected} == expected


def test_picklist_values_and_required_rule(org: Org) -> None:
    body = describe.describe_object(org, "Case", "59.0")
    priority = _field(body, "Priority")
    assert priority["picklistValues"] == [
        {"active": True, "defaultValue": False, "label": "High", "validFor": None, "value": "High"},
        {
            "active": True,
            "defaultValue": True,
            "label": "Medium",
            "validFor": None,
            "value": "Medium",
        },
        {"active": True, "defaultValue": False, "label": "Low", "validFor": None, "value": "Low"},
    ]
    opp = describe.describe_object(org, "Opportunity", "59.0")
    required = sorted(
        f["name"]
        for f in opp["fields"]
        if not f["nillable"] and f["createable"] and not f["defaultedOnCreate"]
    )
    assert required == ["CloseDate", "Name", "StageName"]


def test_child_relationships_and_urls(org: Org) -> None:
    body = describe.describe_object(org, "Case", "59.0")
    children = {
        (c["relationshipName"], c["childSObject"], c["field"]) for c in body["childRelationships"]
    }
    assert {
        ("CaseComments", "CaseComment", "ParentId"),
        ("EmailMessages", "EmailMessage", "ParentId"),
        ("Tasks", "Task", "WhatId"),
    } <= children
    assert body["urls"]["describe"] == "/services/data/v59.0/sobjects/Case/describe"
    assert body["recordTypeInfos"][0]["master"] is True
    account = describe.describe_object(org, "Account", "59.0")
    assert {c["relationshipName"] for c in account["childRelationships"]} >= {
        "Contacts",
        "Opportunities",
        "Cases",
    }


def test_hidden_fields_are_left_out_for_that_user(org: Org) -> None:
    rep = org.create_user("rep@example.com", email="rep@example.com", last_name="Rep")
    org.hide_field("Case", "Description", rep)
    names = {f["name"] for f in describe.describe_object(org, "Case", user_id=rep)["fields"]}
    assert "Description" not in names and "Subject" in names
    admin_names = {f["name"] for f in describe.describe_object(org, "Case")["fields"]}
    assert "Description" in admin_names
