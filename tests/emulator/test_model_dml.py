"""DML validation: error codes, messages, fields and the order of checks."""

from typing import Any

import pytest

from sfemu.model import ApiError
from sfemu.org import Org


@pytest.fixture(name="org")
def _org() -> Org:
    return Org.default()


def _error(org: Org, object_name: str, values: dict[str, Any]) -> ApiError:
    with pytest.raises(ApiError) as caught:
        org.create(object_name, values, user_id=org.admin_user_id)
    return caught.value


@pytest.mark.parametrize(
    ("object_name", "values", "status", "code", "message", "fields"),
    [
        (
            "Account",
            {"Name": "x", "FavoritePet__c": "dog"},
            400,
            "INVALID_FIELD",
            "No such column 'FavoritePet__c' on sobject of type Account",
            None,
        ),
        (
            "Contact",
            {"FirstName": "Ann"},
            400,
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [LastName]",
            ["LastName"],
        ),
        (
            "Opportunity",
            {"Amount": 5},
            400,
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [Name, StageName, CloseDate]",
            ["Name", "StageName", "CloseDate"],
        ),
        (
            "Lead",
            {"LastName": "", "Company": "Acme"},
            400,
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [LastName]",
            ["LastName"],
        ),
        (
            "Account",
            {"Name": "x" * 256},
            400,
            "STRING_TOO_LONG",
            f"Account Name: data value too large: {'x' * 256} (max length=255)",
            ["Name"],
        ),
        (
            "Case",
            {"Status": "Terrible"},
            400,
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "Status: bad value for restricted picklist field: Terrible",
            ["Status"],
        ),
        (
            "Contact",
            {"LastName": "x", "Email": "123"},
            400,
            "INVALID_EMAIL_ADDRESS",
            "Email: invalid email address: 123",
            ["Email"],
        ),
        (
            "Opportunity",
            {"Name": "x", "StageName": "Prospecting", "CloseDate": "2024-01-01", "Amount": "lots"},
            400,
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            "Amount: value not of required type: lots",
            ["Amount"],
        ),
        (
            "Case",
            {"IsEscalated": "maybe"},
            400,
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            "Escalated: value not of required type: maybe",
            ["IsEscalated"],
        ),
        (
            "Opportunity",
            {"Name": "x", "StageName": "Prospecting", "CloseDate": "31/01/2024"},
            400,
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            "Close Date: value not of required type: 31/01/2024",
            ["CloseDate"],
        ),
        (
            "Case",
            {"ContactId": "not-an-id"},
            400,
            "MALFORMED_ID",
            "Contact ID: id value of incorrect type: not-an-id",
            ["ContactId"],
        ),
        (
            "Case",
            {"ContactId": "0035g0000000999AAA"},
            400,
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
            [],
        ),
        (
            "Case",
            {"CaseNumber": "42", "IsClosed": True},
            400,
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            "Unable to create/update fields: CaseNumber, IsClosed. Please check the security "
            "settings of this field and verify that it is read/write for your profile or "
            "permission set.",
            ["CaseNumber", "IsClosed"],
        ),
        (
            "Case",
            {"CreatedDate": "2020-01-01T00:00:00Z"},
            400,
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            "Unable to create/update fields: CreatedDate. Please check the security settings "
            "of this field and verify that it is read/write for your profile or permission set.",
            ["CreatedDate"],
        ),
        (
            "CaseStatus",
            {"ApiName": "x"},
            400,
            "INVALID_TYPE_FOR_OPERATION",
            "entity type CaseStatus does not support insert",
            [],
        ),
        (
            "PlayingCard__c",
            {"Name": "x"},
            404,
            "NOT_FOUND",
            "The requested resource does not exist",
            None,
        ),
    ],
)
def test_create_errors(
    org: Org,
    object_name: str,
    values: dict[str, Any],
    status: int,
    code: str,
    message: str,
    fields: list[str] | None,
) -> None:
    error = _error(org, object_name, values)
    assert (error.status, error.error_code, error.message, error.fields) == (
        status,
        code,
        message,
        fields,
    )


def test_reference_to_the_wrong_object_is_rejected(org: Org) -> None:
    account = org.create("Account", {"Name": "Acme"}, user_id=org.admin_user_id)
    error = _error(org, "Case", {"ContactId": account})
    assert error.error_code == "INVALID_CROSS_REFERENCE_KEY"
    assert error.fields == ["ContactId"]


def test_reference_to_a_deleted_record_is_rejected(org: Org) -> None:
    contact = org.create("Contact", {"LastName": "Gone"}, user_id=org.admin_user_id)
    org.delete("Contact", contact, user_id=org.admin_user_id)
    assert _error(org, "Case", {"ContactId": contact}).error_code == "INVALID_CROSS_REFERENCE_KEY"


@pytest.mark.parametrize(
    ("values", "first_error"),
    [
        # Unknown field beats everything else.
        ({"Nope__c": 1, "Status": "Bad", "ContactId": "zzz"}, "INVALID_FIELD"),
        # Read-only field beats type errors.
        ({"IsClosed": True, "IsEscalated": "maybe"}, "INVALID_FIELD_FOR_INSERT_UPDATE"),
        # A malformed reference beats required/length/picklist checks.
        ({"ContactId": "zzz", "Subject": "x" * 300}, "MALFORMED_ID"),
        # Lengths before restricted picklists.
        ({"Subject": "x" * 300, "Status": "Bad"}, "STRING_TOO_LONG"),
        # Picklists before unique values and references.
        (
            {"Status": "Bad", "ContactId": "0035g0000000999AAA"},
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        ),
        # Unique values before references.
        (
            {"conversationId__c": "taken", "ContactId": "0035g0000000999AAA"},
            "DUPLICATE_VALUE",
        ),
    ],
)
def test_validation_order(org: Org, values: dict[str, Any], first_error: str) -> None:
    org.create("Case", {"conversationId__c": "taken"}, user_id=org.admin_user_id)
    assert _error(org, "Case", values).error_code == first_error


def test_duplicate_external_id_is_case_insensitive(org: Org) -> None:
    first = org.create("Case", {"conversationId__c": "Conv-1"}, user_id=org.admin_user_id)
    error = _error(org, "Case", {"conversationId__c": "conv-1"})
    assert error.error_code == "DUPLICATE_VALUE"
    assert error.message == (
        f"duplicate value found: conversationId__c duplicates value on record with id: {first}"
    )
    assert error.fields == []
    # The same value on another object is fine.
    org.create(
        "Opportunity",
        {
            "Name": "x",
            "StageName": "Prospecting",
            "CloseDate": "2024-01-01",
            "conversationId__c": "conv-1",
        },
        user_id=org.admin_user_id,
    )


def test_failed_create_stores_nothing(org: Org) -> None:
    before = len(list(org.rows("Case")))
    _error(org, "Case", {"Status": "Bad"})
    assert len(list(org.rows("Case"))) == before


@pytest.mark.parametrize(
    ("record_id", "code", "status"),
    [
        ("a00B000000FSjVUIB1", "MALFORMED_ID", 400),  # bad checksum
        ("0015g0000000001AAA", "MALFORMED_ID", 400),  # an Account id on Case
        ("5005g0000009999", "NOT_FOUND", 404),  # well formed, unknown
    ],
)
def test_update_bad_ids(org: Org, record_id: str, code: str, status: int) -> None:
    with pytest.raises(ApiError) as caught:
        org.update("Case", record_id, {"Subject": "x"}, user_id=org.admin_user_id)
    assert (caught.value.error_code, caught.value.status) == (code, status)
    if code == "MALFORMED_ID":
        assert caught.value.message == f"Record ID: id value of incorrect type: {record_id}"
        assert caught.value.fields == ["Id"]


def test_unknown_field_is_reported_before_a_bad_id(org: Org) -> None:
    with pytest.raises(ApiError) as caught:
        org.update("Case", "a00B000000FSjVUIB1", {"Bacon__c": 1}, user_id=org.admin_user_id)
    assert caught.value.error_code == "INVALID_FIELD"


def test_update_errors(org: Org) -> None:
    admin = org.admin_user_id
    case = org.create("Case", {"SuppliedEmail": "a@b.example", "Subject": "s"}, user_id=admin)
    with pytest.raises(ApiError) as caught:
        org.update("Case", case, {"SuppliedEmail": "c@d.example"}, user_id=admin)
    assert caught.value.error_code == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert caught.value.fields == ["SuppliedEmail"]
    with pytest.raises(ApiError) as caught:
        org.update("Case", case, {"Status": None}, user_id=admin)
    assert caught.value.error_code == "REQUIRED_FIELD_MISSING"
    assert caught.value.fields == ["Status"]
    contact = org.create("Contact", {"LastName": "x"}, user_id=admin)
    with pytest.raises(ApiError) as caught:
        org.update("Contact", contact, {"LastName": None}, user_id=admin)
    assert caught.value.error_code == "REQUIRED_FIELD_MISSING"
    # The failed updates left the record as it was.
    assert org.retrieve("Case", case, user_id=admin)["SuppliedEmail"] == "a@b.example"


def test_deleted_records(org: Org) -> None:
    admin = org.admin_user_id
    case = org.create("Case", {"Subject": "s"}, user_id=admin)
    org.delete("Case", case, user_id=admin)
    for action in (
        lambda: org.delete("Case", case, user_id=admin),
        lambda: org.update("Case", case, {"Subject": "t"}, user_id=admin),
        lambda: org.retrieve("Case", case, user_id=admin),
    ):
        with pytest.raises(ApiError) as caught:
            action()
        assert caught.value.status == 404
        assert caught.value.body() == [
            {"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}
        ]


def test_users_cannot_be_deleted(org: Org) -> None:
    with pytest.raises(ApiError) as caught:
        org.delete("User", org.admin_user_id, user_id=org.admin_user_id)
    assert caught.value.error_code == "INVALID_TYPE_FOR_OPERATION"
    assert org.get(org.admin_user_id) is not None


def test_retrieve_errors(org: Org) -> None:
    admin = org.admin_user_id
    case = org.create("Case", {"Subject": "s"}, user_id=admin)
    with pytest.raises(ApiError) as caught:
        org.retrieve("Case", case, user_id=admin, fields=["Subject", "Bacon__c"])
    assert caught.value.error_code == "INVALID_FIELD"
    for bad in ("5005g0000009999", "nonsense", case.replace("500", "001")):
        with pytest.raises(ApiError) as caught:
            org.retrieve("Case", bad, user_id=admin)
        assert caught.value.error_code == "NOT_FOUND"
        assert caught.value.status == 404


@pytest.mark.parametrize(
    ("field", "wire", "stored"),
    [
        ("Amount", "12.5", 12.5),
        ("Amount", 7, 7.0),
        ("CloseDate", "2024-02-29", "2024-02-29"),
        ("CloseDate", "2024-02-29T23:00:00.000+0000", "2024-02-29"),
        ("Description", 42, "42"),
        ("Probability", "33", 33.0),
    ],
)
def test_wire_values_are_converted(org: Org, field: str, wire: Any, stored: Any) -> None:
    values = {"Name": "x", "StageName": "Prospecting", "CloseDate": "2024-01-01", field: wire}
    opp = org.create("Opportunity", values, user_id=org.admin_user_id)
    value = org.retrieve("Opportunity", opp, user_id=org.admin_user_id)[field]
    assert (value.isoformat() if hasattr(value, "isoformat") else value) == stored


def test_picklist_values_are_matched_case_insensitively(org: Org) -> None:
    case = org.create("Case", {"Status": "working"}, user_id=org.admin_user_id)
    assert org.retrieve("Case", case, user_id=org.admin_user_id)["Status"] == "Working"


def test_unrestricted_picklist_accepts_new_values(org: Org) -> None:
    case = org.create("Case", {"Origin": "Chat"}, user_id=org.admin_user_id)
    assert org.retrieve("Case", case, user_id=org.admin_user_id)["Origin"] == "Chat"
