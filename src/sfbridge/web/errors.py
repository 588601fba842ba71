"""The one place where sfbridge's errors become HTTP statuses.

Every error body is ``{"error": <code>, "message": <a sentence saying what to fix>}``.
An unexpected exception is a 500 with a reference, never a traceback.
"""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sfbridge import errors
from sfbridge.salesforce import errors as sf_errors
from sfbridge.services import connections
from sfbridge.services.email import errors as email_errors
from sfbridge.web import auth

logger = logging.getLogger(__name__)

#: Most specific first: the first matching class decides.
STATUS: tuple[tuple[type[errors.BridgeError], int, str], ...] = (
    (auth.NotAuthenticated, 401, "not_authenticated"),
    (auth.Forbidden, 403, "forbidden"),
    (auth.WorkspaceNotFound, 404, "not_found"),
    (connections.UnknownWorkspace, 404, "not_found"),
    (email_errors.SessionNotFound, 404, "not_found"),
    (email_errors.AddressNotFound, 404, "not_found"),
    (email_errors.AddressTaken, 409, "address_taken"),
    (email_errors.SessionResolved, 409, "session_resolved"),
    (email_errors.NoSupportAddress, 409, "no_support_address"),
    (email_errors.MailTooLarge, 413, "too_large"),
    (email_errors.InvalidMail, 422, "invalid_mail"),
    (email_errors.InvalidSettings, 422, "invalid"),
    (email_errors.UnknownRecipient, 404, "not_found"),
    (connections.CallbackRejected, 400, "callback_rejected"),
    (connections.InvalidSetup, 422, "invalid_setup"),
    (connections.ConnectionProblem, 409, "connection_problem"),
    (sf_errors.InvalidLoginUrl, 422, "invalid_login_url"),
    (sf_errors.ReconnectNeeded, 409, "salesforce_not_connected"),
    (sf_errors.RateLimited, 503, "salesforce_budget"),
    (sf_errors.SalesforceError, 502, "salesforce_error"),
    (errors.DuplicateRow, 409, "conflict"),
    (errors.MissingReference, 404, "not_found"),
    (errors.InvalidRow, 422, "invalid"),
    (errors.JobNotFound, 404, "not_found"),
    (errors.AlreadyQueued, 409, "already_queued"),
    (errors.StoreUnavailable, 503, "database_unavailable"),
    (errors.ConfigError, 422, "invalid"),
)


def status_for(exc: errors.BridgeError) -> tuple[int, str]:
    for cls, status, code in STATUS:
        if isinstance(exc, cls):
            return status, code
    return 500, "internal_error"


def problem(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(errors.BridgeError)
    async def bridge_error(_request: Request, exc: errors.BridgeError) -> JSONResponse:
        status, code = status_for(exc)
        if status >= 500 and code == "internal_error":
            return _unexpected(exc)
        return problem(status, code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg", ""))
        return problem(422, "invalid_request", "; ".join(parts) or "The request is invalid.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        return _unexpected(exc)


def _unexpected(exc: BaseException) -> JSONResponse:
    ref = uuid.uuid4().hex[:12]
    logger.error("unexpected error (ref %s)", ref, exc_info=exc)
    return problem(500, "internal_error", f"sfbridge failed unexpectedly; see its log (ref {ref}).")
