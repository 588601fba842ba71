"""OAuth error responses, as the token and revoke endpoints put them on the wire.

OAuth endpoints do not answer with the REST API's error array: they answer with one JSON
object ``{"error": ..., "error_description": ...}`` (reference 1.3). :class:`OAuthError` still
derives from :class:`sfemu.model.ApiError` so that sfemu keeps one exception root.
"""

from __future__ import annotations

from typing import Final

from sfemu.model import ApiError

#: ``invalid_grant`` descriptions, exactly as Salesforce words them (reference 1.3).
EXPIRED_TOKEN: Final = "expired access/refresh token"  # noqa: S105 (an error text)
AUTHENTICATION_FAILURE: Final = "authentication failure"
NOT_APPROVED: Final = "user hasn't approved this consumer"
BAD_AUDIENCE: Final = "Audience validation failed"
INVALID_CODE: Final = "invalid authorization code"
INVALID_ASSERTION: Final = "invalid assertion"
#: Salesforce reuses this text for a JWT assertion whose ``exp`` has passed (observed).
EXPIRED_ASSERTION: Final = "expired authorization code"
INVALID_VERIFIER: Final = "invalid code verifier"
NO_EXECUTION_USER: Final = "no client credentials user enabled"
INVALID_CLIENT_ID: Final = "client identifier invalid"
INVALID_CLIENT_CREDENTIALS: Final = "invalid client credentials"
GRANT_NOT_SUPPORTED: Final = "grant type not supported"


class OAuthError(ApiError):
    """An OAuth protocol error: HTTP status plus ``error`` and ``error_description``.

    Args:
        error: The OAuth error code (``invalid_grant``, ``invalid_client_id``, ...).
        description: The ``error_description`` text; ``None`` leaves the key out (revoke).
        status: HTTP status, 400 unless stated.
    """

    def __init__(self, error: str, description: str | None = None, *, status: int = 400) -> None:
        super().__init__(status, error, description or error)
        self.error = error
        self.description = description

    def oauth_body(self) -> dict[str, str]:
        """The JSON object OAuth endpoints return."""
        body = {"error": self.error}
        if self.description is not None:
            body["error_description"] = self.description
        return body


def invalid_grant(description: str) -> OAuthError:
    """An ``invalid_grant`` error with one of the descriptions above."""
    return OAuthError("invalid_grant", description)


def invalid_request(description: str) -> OAuthError:
    """An ``invalid_request`` error (missing or malformed parameters)."""
    return OAuthError("invalid_request", description)
