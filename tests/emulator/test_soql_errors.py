"""SOQL errors: codes and Salesforce's wording, including the row/column caret block."""

from __future__ import annotations

import pytest

from sfemu import soql
from sfemu.model import ApiError
from sfemu.org import Org
from tests.emulator.query_source import make_org

FIELD_HINT = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the custom "
    "field name. Please reference your WSDL or the describe call for the appropriate names."
)


def fail(text: str, org: Org | None = None) -> ApiError:
    org = org or make_org()
    with pytest.raises(ApiError) as err:
        soql.run(text, org, user_id=org.admin_user_id)
    assert err.value.status == 400
    assert err.value.fields is None
    assert "fields" not in err.value.body()[0]
    return err.value


def test_unknown_column_matches_the_recorded_message() -> None:
    error = fail("SELECT Bacon__c FROM Account LIMIT 2")
    assert error.error_code == "INVALID_FIELD"
    assert error.message == (
        "\nSELECT Bacon__c FROM Account LIMIT 2\n       ^\nERROR at Row:1:Column:8\n"
        f"No such column 'Bacon__c' on entity 'Account'. {FIELD_HINT}"
    )


def test_unexpected_first_token() -> None:
    error = fail("SELEKT Id FROM Account")
    assert (error.error_code, error.message) == ("MALFORMED_QUERY", "unexpected token: SELEKT")


def test_unknown_object() -> None:
    error = fail("SELECT Id FROM Bacon__c")
    assert error.error_code == "INVALID_TYPE"
    assert error.message.endswith(
        "sObject type 'Bacon__c' is not supported. If you are attempting to use a custom object, "
        "be sure to append the '__c' after the entity name. Please reference your WSDL or the "
        "describe call for the appropriate names."
    )
    assert "ERROR at Row:1:Column:16" in error.message


def test_caret_on_later_row() -> None:
    error = fail("SELECT Id\nFROM Account\nWHERE Nope = 1")
    assert error.message.startswith("\nWHERE Nope = 1\n      ^\nERROR at Row:3:Column:7\n")


def test_hidden_field_is_reported_as_missing() -> None:
    org = make_org()
    org.hide_field("Account", "Secret__c", org.admin_user_id)
    error = fail("SELECT Id, Secret__c FROM Account", org)
    assert error.error_code == "INVALID_FIELD"
    assert "No such column 'Secret__c' on entity 'Account'" in error.message
    where = fail("SELECT Id FROM Account WHERE Secret__c = 'x'", org)
    assert where.error_code == "INVALID_FIELD"


def test_hidden_reference_hides_the_relationship() -> None:
    org = make_org()
    org.hide_field("Contact", "AccountId", org.admin_user_id)
    error = fail("SELECT Account.Name FROM Contact", org)
    assert error.error_code == "INVALID_FIELD"
    assert "Didn't understand relationship 'Account' in field path." in error.message


@pytest.mark.parametrize(
    ("text", "code", "needle"),
    [
        ("", "MALFORMED_QUERY", "SOQL statements cannot be empty or null"),
        ("   ", "MALFORMED_QUERY", "SOQL statements cannot be empty or null"),
        ("SELECT Id FROM", "MALFORMED_QUERY", "unexpected token: <EOF>"),
        ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY", "unexpected token: <EOF>"),
        ("SELECT Id FROM Account LIMT 5", "MALFORMED_QUERY", "unexpected token: 5"),
        (
            'SELECT Id FROM Account WHERE Name = "x"',
            "MALFORMED_QUERY",
            "no viable alternative at character '\"'",
        ),
        (
            r"SELECT Id FROM Account WHERE Name = 'a\qb'",
            "MALFORMED_QUERY",
            r"Illegal character sequence '\q'",
        ),
        (
            r"SELECT Id FROM Account WHERE Name = 'a\%b'",
            "MALFORMED_QUERY",
            r"Illegal character sequence '\%'",
        ),
        (
            r"SELECT Id FROM Account WHERE Name = 'a\u12'",
            "MALFORMED_QUERY",
            r"Illegal character sequence '\u'",
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate = SOMEDAY",
            "MALFORMED_QUERY",
            "unexpected token: SOMEDAY",
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS",
            "MALFORMED_QUERY",
            "Invalid date literal: LAST_N_DAYS",
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate = TODAY:3",
            "MALFORMED_QUERY",
            "Invalid date literal: TODAY",
        ),
        (
            "SELECT Id FROM Account WHERE CloseDate = 2024-02-30",
            "MALFORMED_QUERY",
            "invalid date literal: 2024-02-30",
        ),
        ("SELECT Id, Id FROM Account", "MALFORMED_QUERY", "duplicate field selected: Id"),
        (
            "SELECT COUNT(), Name FROM Account",
            "MALFORMED_QUERY",
            "COUNT() must be the only element",
        ),
        (
            "SELECT COUNT(Id), Name FROM Account",
            "MALFORMED_QUERY",
            "Field must be grouped or aggregated: Name",
        ),
        (
            "SELECT Id, (SELECT Id FROM Nope) FROM Account",
            "INVALID_TYPE",
            "Didn't understand relationship 'Nope' in FROM part",
        ),
        (
            "SELECT Id, (SELECT Bacon FROM Contacts) FROM Account",
            "INVALID_FIELD",
            "No such column 'Bacon' on entity 'Contact'",
        ),
        (
            "SELECT Account.Bacon FROM Contact",
            "INVALID_FIELD",
            "No such column 'Bacon' on entity 'Account'",
        ),
        (
            "SELECT Acount.Name FROM Contact",
            "INVALID_FIELD",
            "Didn't understand relationship 'Acount'",
        ),
        ("SELECT Id FROM Account ORDER BY Bacon", "INVALID_FIELD", "No such column 'Bacon'"),
        (
            "SELECT Id FROM Account WHERE Id = 'nope'",
            "INVALID_QUERY_FILTER_OPERATOR",
            "invalid ID field: nope",
        ),
        (
            "SELECT Id FROM Account WHERE AnnualRevenue = '5'",
            "INVALID_QUERY_FILTER_OPERATOR",
            "must be of type double and should not be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Account WHERE Name = 5",
            "INVALID_QUERY_FILTER_OPERATOR",
            "must be of type string and should be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Account WHERE IsDeleted = 'true'",
            "INVALID_QUERY_FILTER_OPERATOR",
            "must be of type boolean",
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate = 2024-01-01",
            "INVALID_QUERY_FILTER_OPERATOR",
            "must be of type dateTime",
        ),
        (
            "SELECT Id FROM Opportunity WHERE CloseDate = 2024-01-01T00:00:00Z",
            "INVALID_QUERY_FILTER_OPERATOR",
            "must be of type date",
        ),
        (
            "SELECT Id FROM Account WHERE Name = TODAY",
            "INVALID_QUERY_FILTER_OPERATOR",
            "must be of type string",
        ),
        (
            "SELECT Id FROM Account WHERE Name INCLUDES ('a')",
            "INVALID_QUERY_FILTER_OPERATOR",
            "only valid on multipicklist",
        ),
        (
            "SELECT Id FROM Contact WHERE Id IN (SELECT Id, Name FROM Task)",
            "MALFORMED_QUERY",
            "can only select one field",
        ),
        (
            "SELECT Id FROM Contact WHERE Id IN (SELECT Subject FROM Task)",
            "INVALID_FIELD",
            "can only select an id field",
        ),
        (
            "SELECT Id, (SELECT Id, (SELECT Id FROM Tasks) FROM Contacts) FROM Account",
            "MALFORMED_QUERY",
            "unexpected token: (",
        ),
        (
            "SELECT Id FROM Account WHERE Name LIKE 5",
            "MALFORMED_QUERY",
            "LIKE requires a quoted string",
        ),
    ],
)
def test_error_catalogue(text: str, code: str, needle: str) -> None:
    error = fail(text)
    assert error.error_code == code
    assert needle in error.message
