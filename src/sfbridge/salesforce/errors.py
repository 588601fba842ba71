"""Typed errors of the Salesforce client, chosen from one ``(status, errorCode)`` table.

The tree (every class carries data, never a formatted token)::

    BridgeError (sfbridge.errors)
    └── SalesforceError
        ├── AuthError
        │   ├── SessionExpired          401 INVALID_SESSION_ID (after the one refresh-and-retry)
        │   ├── ReconnectNeeded         refresh failed for good (invalid_grant ...): an admin must reconnect
        │   └── OAuthFailed             any other token-endpoint error (error, description)
        ├── InvalidLoginUrl             a login URL outside the policy (oauth.check_login_url)
        ├── NotFound                    404 (NOT_FOUND, ENTITY_IS_DELETED ...)
        ├── MultipleMatches             300: an external id matched several records (``urls``)
        ├── RequestRefused              403 (permissions, API disabled)
        ├── RateLimited                 the org's API budget; ``retry_at`` says when to come back
        │   ├── LimitExceeded           403 REQUEST_LIMIT_EXCEEDED from Salesforce
        │   ├── BudgetDeferred          our governor held back a deferrable call (never sent)
        │   └── BudgetPaused            our governor paused the org after a 403 (never sent)
        ├── ValidationFailed            400 (bad field, required missing, bad query ...)
        ├── RowLocked                   UNABLE_TO_LOCK_ROW (retryable)
        ├── ServerUnavailable           5xx (retryable when idempotent)
        ├── TransportFailure            timeout or dropped connection (``sent`` says if it left us)
        └── UnexpectedResponse          any other status (405, 409, 415 ...)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sfbridge.errors import BridgeError


class SalesforceError(BridgeError):
    """Root of every error raised by ``sfbridge.salesforce``.

    Args:
        message: what went wrong, in one sentence (no tokens, no record values).
        status: the HTTP status, or ``None`` when no response arrived.
        errors: Salesforce's error objects (``message``, ``errorCode``/``statusCode``, ``fields``).
        method: the HTTP method of the failed call.
        path: the path of the failed call, without host and query string.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
        method: str = "",
        path: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.errors: list[dict[str, Any]] = [dict(e) for e in errors]
        self.method = method
        self.path = path

    @property
    def error_code(self) -> str | None:
        """The first ``errorCode`` (or ``statusCode`` in collection results), if any."""
        for err in self.errors:
            code = err.get("errorCode") or err.get("statusCode")
            if isinstance(code, str):
                return code
        return None

    @property
    def fields(self) -> list[str]:
        """Every field named by the errors, in order, without duplicates."""
        out: list[str] = []
        for err in self.errors:
            for name in err.get("fields") or ():
                if isinstance(name, str) and name not in out:
                    out.append(name)
        return out

    def __str__(self) -> str:
        where = f" ({self.method} {self.path})" if self.method else ""
        return f"{self.message}{where}"


class AuthError(SalesforceError):
    """Authentication failed: the session or the connection itself is not usable."""


class SessionExpired(AuthError):
    """401 INVALID_SESSION_ID that a refresh did not cure."""


class ReconnectNeeded(AuthError):
    """The stored grant is dead (revoked, expired, app changed): an admin must reconnect.

    Args:
        reason: Salesforce's ``error: error_description``, or our own sentence.
    """

    def __init__(self, reason: str, **kwargs: Any) -> None:
        super().__init__(f"Salesforce connection needs to be reconnected: {reason}", **kwargs)
        self.reason = reason


class OAuthFailed(AuthError):
    """The token endpoint answered with an OAuth error other than a dead grant.

    Args:
        error: the OAuth ``error`` code (``invalid_request`` ...).
        description: the ``error_description`` text.
    """

    def __init__(self, error: str, description: str = "", **kwargs: Any) -> None:
        text = f"OAuth error {error}" + (f": {description}" if description else "")
        super().__init__(text, **kwargs)
        self.error = error
        self.description = description


class InvalidLoginUrl(SalesforceError):
    """A login URL that the login-URL policy refuses."""


class NotFound(SalesforceError):
    """404: the record, object or resource does not exist (or is not visible)."""


class MultipleMatches(SalesforceError):
    """300: an external id matched more than one record.

    ``urls`` lists the matching records' URLs as Salesforce returned them.
    """

    def __init__(self, message: str, *, urls: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.urls = list(urls)


class RequestRefused(SalesforceError):
    """403: refused (missing permission, API disabled for the org or the user)."""


class RateLimited(SalesforceError):
    """The org's API budget says "not now". ``retry_at`` is when to try again (UTC)."""

    def __init__(self, message: str, *, retry_at: dt.datetime | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_at = retry_at


class LimitExceeded(RateLimited):
    """403 REQUEST_LIMIT_EXCEEDED: the org's API allocation is used up."""


class BudgetDeferred(RateLimited):
    """The governor held back a deferrable call because usage is above the threshold."""


class BudgetPaused(RateLimited):
    """The governor paused the org after REQUEST_LIMIT_EXCEEDED; nothing was sent."""


class ValidationFailed(SalesforceError):
    """400: Salesforce refused the request's content (see ``errors`` and ``fields``)."""


class RowLocked(SalesforceError):
    """UNABLE_TO_LOCK_ROW: another transaction holds the record; safe to retry later."""


class ServerUnavailable(SalesforceError):
    """5xx: Salesforce (or its edge) failed or is in maintenance."""


class TransportFailure(SalesforceError):
    """No usable response: timeout, refused or dropped connection.

    Args:
        sent: ``False`` when the request certainly never reached Salesforce (connect
            failures), so even a create may be retried.
    """

    def __init__(self, message: str, *, sent: bool = True, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.sent = sent


class UnexpectedResponse(SalesforceError):
    """Any other non-success status (405, 409, 412, 415 ...)."""


#: ``(status, errorCode) -> class``; ``errorCode`` ``None`` is the status-wide default.
#: Looked up exactly, then by status alone, then by status class (5xx).
ERROR_TABLE: Mapping[tuple[int, str | None], type[SalesforceError]] = {
    (300, None): MultipleMatches,
    (400, "UNABLE_TO_LOCK_ROW"): RowLocked,
    (400, None): ValidationFailed,
    (401, "INVALID_SESSION_ID"): SessionExpired,
    (401, None): AuthError,
    (403, "REQUEST_LIMIT_EXCEEDED"): LimitExceeded,
    (403, None): RequestRefused,
    (404, None): NotFound,
    (500, "UNABLE_TO_LOCK_ROW"): RowLocked,
    (500, None): ServerUnavailable,
}


def error_class(status: int, error_code: str | None) -> type[SalesforceError]:
    """Choose the exception class for a status and an ``errorCode``.

    Args:
        status: HTTP status (or a status inside a composite/collections result).
        error_code: Salesforce's ``errorCode``/``statusCode``, if known.

    Returns:
        The most specific class in :data:`ERROR_TABLE`.
    """
    for key in ((status, error_code), (status, None)):
        if key in ERROR_TABLE:
            return ERROR_TABLE[key]
    if status >= 500:
        if (500, error_code) in ERROR_TABLE:
            return ERROR_TABLE[(500, error_code)]
        return ServerUnavailable
    return UnexpectedResponse


def error_from_body(
    status: int,
    body: Any,
    *,
    method: str = "",
    path: str = "",
) -> SalesforceError:
    """Build the typed error for a non-success response body.

    Args:
        status: the HTTP status.
        body: the parsed JSON body (a list of error objects, a list of URLs for 300, a
            dict, text or ``None``).
        method: the request method.
        path: the request path, already stripped of host and query string.

    Returns:
        An instance of the class chosen by :func:`error_class`.
    """
    errors: list[dict[str, Any]] = []
    urls: list[str] = []
    if isinstance(body, list):
        for item in body:
            if isinstance(item, dict):
                errors.append(item)
            elif isinstance(item, str):
                urls.append(item)
    elif isinstance(body, dict):
        errors.append(body)
    code: str | None = None
    message = ""
    for err in errors:
        raw = err.get("errorCode") or err.get("statusCode")
        if isinstance(raw, str):
            code = raw
            message = str(err.get("message", ""))
            break
    cls = error_class(status, code)
    text = f"Salesforce answered {status}" + (f" {code}" if code else "")
    if message:
        text += f": {message}"
    if cls is MultipleMatches:
        return MultipleMatches(
            f"{text}: {len(urls)} records match",
            urls=urls,
            status=status,
            errors=errors,
            method=method,
            path=path,
        )
    return cls(text, status=status, errors=errors, method=method, path=path)
