"""The (status, errorCode) -> class table and error bodies."""

from __future__ import annotations

from typing import Any

import pytest

from sfbridge.errors import BridgeError
from sfbridge.salesforce import errors as e


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (300, None, e.MultipleMatches),
        (400, "MALFORMED_QUERY", e.ValidationFailed),
        (400, "REQUIRED_FIELD_MISSING", e.ValidationFailed),
        (400, "UNABLE_TO_LOCK_ROW", e.RowLocked),
        (500, "UNABLE_TO_LOCK_ROW", e.RowLocked),
        (503, "UNABLE_TO_LOCK_ROW", e.RowLocked),
        (401, "INVALID_SESSION_ID", e.SessionExpired),
        (401, "INVALID_AUTH_HEADER", e.AuthError),
        (403, "REQUEST_LIMIT_EXCEEDED", e.LimitExceeded),
        (403, "API_DISABLED_FOR_ORG", e.RequestRefused),
        (403, None, e.RequestRefused),
        (404, "NOT_FOUND", e.NotFound),
        (404, "ENTITY_IS_DELETED", e.NotFound),
        (500, "UNKNOWN_EXCEPTION", e.ServerUnavailable),
        (502, None, e.ServerUnavailable),
        (503, "SERVER_UNAVAILABLE", e.ServerUnavailable),
        (405, "METHOD_NOT_ALLOWED", e.UnexpectedResponse),
        (409, None, e.UnexpectedResponse),
        (415, None, e.UnexpectedResponse),
    ],
)
def test_error_class_table(status: int, code: str | None, cls: type[e.SalesforceError]) -> None:
    assert e.error_class(status, code) is cls


@pytest.mark.parametrize(
    ("status", "body", "cls", "code", "fields"),
    [
        (
            400,
            [
                {
                    "message": "Required fields are missing: [Subject, Origin]",
                    "errorCode": "REQUIRED_FIELD_MISSING",
                    "fields": ["Subject", "Origin"],
                }
            ],
            e.ValidationFailed,
            "REQUIRED_FIELD_MISSING",
            ["Subject", "Origin"],
        ),
        (
            400,
            [
                {"statusCode": "STRING_TOO_LONG", "message": "x", "fields": ["Name"]},
                {
                    "statusCode": "INVALID_EMAIL_ADDRESS",
                    "message": "y",
                    "fields": ["Email", "Name"],
                },
            ],
            e.ValidationFailed,
            "STRING_TOO_LONG",
            ["Name", "Email"],
        ),
        (
            401,
            [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
            e.SessionExpired,
            "INVALID_SESSION_ID",
            [],
        ),
        (503, "<html>maintenance</html>", e.ServerUnavailable, None, []),
        (500, None, e.ServerUnavailable, None, []),
        (404, {"errorCode": "NOT_FOUND", "message": "nope"}, e.NotFound, "NOT_FOUND", []),
    ],
)
def test_error_from_body(
    status: int, body: Any, cls: type[e.SalesforceError], code: str | None, fields: list[str]
) -> None:
    err = e.error_from_body(status, body, method="POST", path="/services/data/v59.0/sobjects/Case/")
    assert type(err) is cls
    assert err.status == status
    assert err.error_code == code
    assert err.fields == fields
    assert err.method == "POST"
    assert "sobjects/Case" in str(err)


def test_multiple_matches_carries_urls() -> None:
    urls = [
        "/services/data/v59.0/sobjects/Account/001A",
        "/services/data/v59.0/sobjects/Account/001B",
    ]
    err = e.error_from_body(300, urls)
    assert isinstance(err, e.MultipleMatches)
    assert err.urls == urls
    assert "2 records" in err.message


def test_every_error_is_a_bridge_error() -> None:
    for cls in (e.SessionExpired, e.ReconnectNeeded, e.BudgetPaused, e.TransportFailure):
        assert issubclass(cls, e.SalesforceError)
        assert issubclass(cls, BridgeError)


def test_reconnect_needed_keeps_reason() -> None:
    err = e.ReconnectNeeded("invalid_grant: expired access/refresh token")
    assert err.reason == "invalid_grant: expired access/refresh token"
    assert "reconnect" in str(err)
