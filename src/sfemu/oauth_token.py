"""The token endpoint, ``POST /services/oauth2/token`` (reference 1.3).

Grants: ``authorization_code`` (with PKCE S256), ``refresh_token``, ``password``,
``client_credentials`` and the JWT bearer grant. Success bodies carry exactly Salesforce's
fields; failures are HTTP 400 ``{"error", "error_description"}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse

from sfemu import jwt_bearer
from sfemu.oauth_directory import ConnectedAppView, Directory, OrgView
from sfemu.oauth_errors import (
    AUTHENTICATION_FAILURE,
    EXPIRED_TOKEN,
    GRANT_NOT_SUPPORTED,
    INVALID_CLIENT_CREDENTIALS,
    INVALID_CLIENT_ID,
    INVALID_CODE,
    INVALID_VERIFIER,
    NO_EXECUTION_USER,
    NOT_APPROVED,
    OAuthError,
    invalid_grant,
    invalid_request,
)
from sfemu.tokens import IssuedTokens, TokenStore

JWT_BEARER: Final = "urn:ietf:params:oauth:grant-type:jwt-bearer"
PRODUCTION_LOGIN: Final = "https://login.salesforce.com"
SANDBOX_LOGIN: Final = "https://test.salesforce.com"
#: Scopes that ask for a refresh token.
REFRESH_SCOPES: Final = frozenset({"refresh_token", "offline_access"})
NO_STORE: Final = {"Cache-Control": "no-cache,must-revalidate,max-age=0,no-store,private"}
JSON_TYPE: Final = "application/json;charset=UTF-8"


def base_url(request: Request) -> str:
    """The emulator's own base URL as this request reached it, without a trailing slash."""
    return str(request.base_url).rstrip("/")


def identity_url(base: str, org_id: str, user_id: str) -> str:
    """``{base}/id/{org}/{user}``: the identity URL of a user."""
    return f"{base}/id/{org_id}/{user_id}"


def pkce_challenge(verifier: str) -> str:
    """``base64url(SHA-256(verifier))`` without padding: the S256 code challenge."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_signature(client_secret: str, identity: str, issued_at: str) -> str:
    """Base64(HMAC-SHA256(client_secret, id + issued_at)): the ``signature`` field."""
    mac = hmac.new(client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def oauth_error_response(error: OAuthError) -> JSONResponse:
    """An OAuth error as Salesforce sends it."""
    return JSONResponse(
        error.oauth_body(), status_code=error.status, headers=NO_STORE, media_type=JSON_TYPE
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class _Client:
    client_id: str | None
    client_secret: str | None


def _client(request: Request, params: Mapping[str, str]) -> _Client:
    header = request.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except ValueError as exc:
            raise OAuthError("invalid_client", INVALID_CLIENT_CREDENTIALS) from exc
        client_id, _, secret = decoded.partition(":")
        return _Client(client_id=unquote_plus(client_id), client_secret=unquote_plus(secret))
    return _Client(client_id=params.get("client_id"), client_secret=params.get("client_secret"))


class TokenEndpoint:
    """Handles ``POST /services/oauth2/token``.

    Args:
        directory: Finds orgs by client id, id and username.
        tokens: Where tokens are minted.
        jwt_requires_approval: When it returns True, the JWT bearer grant needs the user to
            have approved the app first (``user hasn't approved this consumer``), as an app
            without admin pre-authorization does.
    """

    def __init__(
        self,
        directory: Directory,
        tokens: TokenStore,
        *,
        jwt_requires_approval: Callable[[], bool] = lambda: False,
    ) -> None:
        self._directory = directory
        self._tokens = tokens
        self._jwt_requires_approval = jwt_requires_approval
        self._grants: dict[str, Callable[[Request, Mapping[str, str]], dict[str, Any]]] = {
            "authorization_code": self._authorization_code,
            "refresh_token": self._refresh_token,
            "password": self._password,
            "client_credentials": self._client_credentials,
            JWT_BEARER: self._jwt_bearer,
        }

    async def handle(self, request: Request) -> JSONResponse:
        form = await request.form()
        params = {k: v for k, v in request.query_params.items()}
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
        grant = self._grants.get(params.get("grant_type", ""))
        try:
            if grant is None:
                raise OAuthError("unsupported_grant_type", GRANT_NOT_SUPPORTED)
            body = grant(request, params)
        except OAuthError as error:
            return oauth_error_response(error)
        return JSONResponse(body, headers=NO_STORE, media_type=JSON_TYPE)

    # -- client authentication -----------------------------------------------------------

    def _app(self, client_id: str | None) -> tuple[OrgView, ConnectedAppView]:
        if client_id:
            org = self._directory.org_for_client(client_id)
            app = org.apps.get(client_id) if org is not None else None
            if org is not None and app is not None:
                return org, app
        raise OAuthError("invalid_client_id", INVALID_CLIENT_ID)

    @staticmethod
    def _check_secret(app: ConnectedAppView, secret: str | None, *, required: bool) -> None:
        if not secret:
            if required:
                raise OAuthError("invalid_client", INVALID_CLIENT_CREDENTIALS)
            return
        if not hmac.compare_digest(secret.encode(), app.client_secret.encode()):
            raise OAuthError("invalid_client", INVALID_CLIENT_CREDENTIALS)

    def _user_org(self, username: str) -> tuple[OrgView, str] | None:
        org = self._directory.org_for_username(username) if username else None
        user = org.user_by_username(username) if org is not None else None
        if org is None or user is None or user.get("IsActive") is False:
            return None
        return org, str(user["Id"])

    # -- grants --------------------------------------------------------------------------

    def _authorization_code(self, request: Request, params: Mapping[str, str]) -> dict[str, Any]:
        client = _client(request, params)
        _, app = self._app(client.client_id)
        value = params.get("code")
        if not value:
            raise invalid_request("code is required")
        code = self._tokens.codes.get(value)
        if code is None or code.client_id != app.client_id:
            raise invalid_grant(INVALID_CODE)
        # A PKCE client may be public: the secret is then optional, as with
        # "Require Secret for Web Server Flow" turned off.
        self._check_secret(app, client.client_secret, required=code.code_challenge is None)
        if params.get("redirect_uri", "") != code.redirect_uri:
            raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
        if code.code_challenge is not None:
            verifier = params.get("code_verifier")
            if not verifier:
                raise invalid_grant(INVALID_VERIFIER)
            if not hmac.compare_digest(pkce_challenge(verifier), code.code_challenge):
                raise invalid_request(INVALID_VERIFIER)
        org = self._directory.org(code.org_id)
        if org is None:
            raise invalid_grant(INVALID_CODE)
        self._tokens.codes.consume(value)
        issued = self._tokens.issue(
            org_id=code.org_id,
            user_id=code.user_id,
            client_id=app.client_id,
            scopes=code.scopes,
            with_refresh_token=bool(code.scopes & REFRESH_SCOPES),
        )
        return self._success(request, org, app, issued, nonce=code.nonce)

    def _refresh_token(self, request: Request, params: Mapping[str, str]) -> dict[str, Any]:
        client = _client(request, params)
        _, app = self._app(client.client_id)
        self._check_secret(app, client.client_secret, required=False)
        value = params.get("refresh_token")
        if not value:
            raise invalid_request("refresh_token is required")
        session = self._tokens.refresh_session(value)
        org = self._directory.org(session.org_id) if session is not None else None
        if org is None:
            raise invalid_grant(EXPIRED_TOKEN)
        issued = self._tokens.refresh(
            value, client_id=app.client_id, rotate=app.refresh_token_rotation
        )
        if issued is None:
            raise invalid_grant(EXPIRED_TOKEN)
        return self._success(request, org, app, issued)

    def _password(self, request: Request, params: Mapping[str, str]) -> dict[str, Any]:
        client = _client(request, params)
        _, app = self._app(client.client_id)
        self._check_secret(app, client.client_secret, required=True)
        username = params.get("username", "")
        found = self._user_org(username)
        if found is None:
            raise invalid_grant(AUTHENTICATION_FAILURE)
        org, user_id = found
        if org.check_password(username, params.get("password", "")) != user_id:
            raise invalid_grant(AUTHENTICATION_FAILURE)
        issued = self._tokens.issue(
            org_id=org.org_id, user_id=user_id, client_id=app.client_id, scopes=app.scopes
        )
        return self._success(request, org, app, issued)

    def _client_credentials(self, request: Request, params: Mapping[str, str]) -> dict[str, Any]:
        client = _client(request, params)
        org, app = self._app(client.client_id)
        self._check_secret(app, client.client_secret, required=True)
        user_id = app.client_credentials_user_id
        if not user_id or org.get(user_id) is None:
            raise invalid_grant(NO_EXECUTION_USER)
        issued = self._tokens.issue(
            org_id=org.org_id, user_id=user_id, client_id=app.client_id, scopes=app.scopes
        )
        return self._success(request, org, app, issued)

    def _jwt_bearer(self, request: Request, params: Mapping[str, str]) -> dict[str, Any]:
        assertion = params.get("assertion", "")
        app_org, app = self._app(jwt_bearer.unverified_issuer(assertion))
        login = SANDBOX_LOGIN if app_org.is_sandbox else PRODUCTION_LOGIN
        claims = jwt_bearer.verify_assertion(
            assertion,
            public_key_pem=app.jwt_public_key_pem,
            audiences=(base_url(request), login),
            now=app_org.now(),
        )
        found = self._user_org(claims.subject)
        if found is None:
            raise invalid_grant(NOT_APPROVED)
        org, user_id = found
        if self._jwt_requires_approval() and not self._tokens.codes.approved(
            app.client_id, user_id
        ):
            raise invalid_grant(NOT_APPROVED)
        issued = self._tokens.issue(
            org_id=org.org_id, user_id=user_id, client_id=app.client_id, scopes=app.scopes
        )
        return self._success(request, org, app, issued)

    # -- the success body ----------------------------------------------------------------

    def _success(
        self,
        request: Request,
        org: OrgView,
        app: ConnectedAppView,
        issued: IssuedTokens,
        *,
        nonce: str | None = None,
    ) -> dict[str, Any]:
        session = issued.session
        base = base_url(request)
        identity = identity_url(base, org.org_id, session.user_id)
        issued_at = str(int(session.issued_at.timestamp() * 1000))
        body: dict[str, Any] = {"access_token": issued.access_token}
        if issued.refresh_token is not None:
            body["refresh_token"] = issued.refresh_token
        body["signature"] = token_signature(app.client_secret, identity, issued_at)
        body["scope"] = " ".join(sorted(session.scopes))
        if "openid" in session.scopes:
            body["id_token"] = jwt_bearer.id_token(
                issuer=base,
                identity_url=identity,
                client_id=app.client_id,
                client_secret=app.client_secret,
                access_token=issued.access_token,
                issued_at=session.issued_at,
                nonce=nonce,
            )
        body["instance_url"] = base
        body["id"] = identity
        body["token_type"] = "Bearer"  # noqa: S105 (the token type, not a secret)
        body["issued_at"] = issued_at
        return body
