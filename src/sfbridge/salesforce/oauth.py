"""OAuth 2.0 protocol pieces for Salesforce: grants, revoke, identity.

Storage and web routes belong to the caller; these functions only speak the protocol. The
authorize step (login-URL policy, PKCE, consent URL) lives in ``authorize.py`` and is
re-exported here, so callers use one module: ``oauth.check_login_url``, ``oauth.new_pkce``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

from sfbridge.salesforce.authorize import (
    DEFAULT_SCOPES,
    PRODUCTION_LOGIN_URL,
    SANDBOX_LOGIN_URL,
    PkcePair,
    authorize_url,
    check_client_credentials_login_url,
    check_login_url,
    new_pkce,
    pkce_challenge,
    private_key_problem,
    sandbox_from_login_url,
)
from sfbridge.salesforce.clock import Clock, system_clock
from sfbridge.salesforce.errors import (
    AuthError,
    OAuthFailed,
    ReconnectNeeded,
    ServerUnavailable,
)
from sfbridge.salesforce.tokens import TokenSet, token_set_from_response
from sfbridge.salesforce.transport import send

__all__ = [
    "DEAD_GRANT_ERRORS",
    "DEFAULT_SCOPES",
    "JWT_BEARER_GRANT",
    "PRODUCTION_LOGIN_URL",
    "SANDBOX_LOGIN_URL",
    "AppCredentials",
    "Identity",
    "PkcePair",
    "authorize_url",
    "check_client_credentials_login_url",
    "check_login_url",
    "client_credentials",
    "exchange_code",
    "identity",
    "jwt_assertion",
    "jwt_bearer",
    "new_pkce",
    "pkce_challenge",
    "private_key_problem",
    "refresh",
    "revoke",
    "sandbox_from_login_url",
    "token_signature_valid",
]

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

#: OAuth errors from a renewal that no retry can cure: the admin must reconnect.
DEAD_GRANT_ERRORS = frozenset(
    {"invalid_grant", "invalid_client", "invalid_client_id", "inactive_user", "inactive_org"}
)


@dataclass(frozen=True, kw_only=True, slots=True)
class AppCredentials:
    """A connected app's consumer key and secret (the secret never shows in ``repr``)."""

    client_id: str
    client_secret: str = field(default="", repr=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class Identity:
    """Who a token belongs to, read from the identity URL.

    ``is_sandbox`` is known from the login host (``test.salesforce.com``, ``*.sandbox.my...``)
    and ``None`` when the host does not say (ask ``SalesforceClient.is_sandbox()`` then).
    """

    org_id: str
    user_id: str
    username: str
    display_name: str = ""
    is_sandbox: bool | None = None


def token_signature_valid(body: Mapping[str, Any], client_secret: str) -> bool:
    """Check Salesforce's ``signature`` = base64(HMAC-SHA256(secret, id + issued_at)).

    Returns ``True`` when the body has no signature (other flows) or no secret is known.
    """
    sig = body.get("signature")
    if not isinstance(sig, str) or not client_secret:
        return True
    msg = f"{body.get('id', '')}{body.get('issued_at', '')}".encode()
    expected = base64.b64encode(hmac.new(client_secret.encode(), msg, hashlib.sha256).digest())
    return hmac.compare_digest(expected.decode("ascii"), sig)


async def _token_call(
    http: httpx.AsyncClient,
    login_url: str,
    form: Mapping[str, str],
    *,
    dead_grant_is_reconnect: bool,
    client_secret: str = "",
    clock: Clock = system_clock,
) -> TokenSet:
    path = "/services/oauth2/token"
    resp = await send(
        http,
        "POST",
        login_url.rstrip("/") + path,
        path=path,
        data=dict(form),
        headers={"Accept": "application/json"},
    )
    body = _json_or_none(resp)
    if resp.status_code >= 500:
        raise ServerUnavailable(
            f"token endpoint answered {resp.status_code}",
            status=resp.status_code,
            method="POST",
            path=path,
        )
    if resp.status_code != 200 or not isinstance(body, dict):
        error = str(body.get("error", "")) if isinstance(body, dict) else ""
        desc = str(body.get("error_description", "")) if isinstance(body, dict) else ""
        error = error or f"http_{resp.status_code}"
        if dead_grant_is_reconnect and error in DEAD_GRANT_ERRORS:
            raise ReconnectNeeded(
                f"{error}: {desc}" if desc else error,
                status=resp.status_code,
                method="POST",
                path=path,
            )
        raise OAuthFailed(error, desc, status=resp.status_code, method="POST", path=path)
    if not token_signature_valid(body, client_secret):
        raise OAuthFailed("invalid_signature", "token response signature does not match")
    return token_set_from_response(body, now=clock())


def _json_or_none(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


async def exchange_code(
    http: httpx.AsyncClient,
    *,
    login_url: str,
    app: AppCredentials,
    code: str,
    redirect_uri: str,
    code_verifier: str,
    clock: Clock = system_clock,
) -> TokenSet:
    """Exchange an authorization code (web-server flow with PKCE) for tokens.

    Raises:
        OAuthFailed: the code was bad, reused or the verifier did not match.
        ServerUnavailable: the token endpoint failed.
        TransportFailure: the token endpoint was unreachable.
    """
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": app.client_id,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    if app.client_secret:
        form["client_secret"] = app.client_secret
    return await _token_call(
        http,
        login_url,
        form,
        dead_grant_is_reconnect=False,
        client_secret=app.client_secret,
        clock=clock,
    )


async def refresh(
    http: httpx.AsyncClient,
    *,
    login_url: str,
    app: AppCredentials,
    refresh_token: str,
    clock: Clock = system_clock,
) -> TokenSet:
    """Run the refresh-token grant. The result carries a new refresh token only on rotation.

    Raises:
        ReconnectNeeded: the grant is dead (``invalid_grant`` and friends).
        OAuthFailed: any other OAuth error.
    """
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": app.client_id,
    }
    if app.client_secret:
        form["client_secret"] = app.client_secret
    return await _token_call(
        http,
        login_url,
        form,
        dead_grant_is_reconnect=True,
        client_secret=app.client_secret,
        clock=clock,
    )


async def client_credentials(
    http: httpx.AsyncClient,
    *,
    login_url: str,
    app: AppCredentials,
    clock: Clock = system_clock,
) -> TokenSet:
    """Run the client-credentials grant (send it to the org's My Domain host).

    Raises:
        ReconnectNeeded: the app or its run-as user is no longer valid.
    """
    form = {
        "grant_type": "client_credentials",
        "client_id": app.client_id,
        "client_secret": app.client_secret,
    }
    return await _token_call(http, login_url, form, dead_grant_is_reconnect=True, clock=clock)


def jwt_assertion(
    *,
    client_id: str,
    username: str,
    audience: str,
    private_key_pem: str,
    now: dt.datetime,
    lifetime: dt.timedelta = dt.timedelta(minutes=3),
) -> str:
    """Sign the RS256 JWT that the JWT-bearer grant presents.

    Args:
        client_id: ``iss``, the consumer key.
        username: ``sub``, the Salesforce username to act as.
        audience: ``aud``, the login URL (``https://login.salesforce.com``, test or My Domain).
        private_key_pem: the private key whose certificate is on the connected app.
        now: current time.
        lifetime: ``exp`` distance (Salesforce allows at most 3 minutes of skew).
    """
    claims = {
        "iss": client_id,
        "sub": username,
        "aud": audience,
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(claims, private_key_pem, algorithm="RS256")


async def jwt_bearer(
    http: httpx.AsyncClient,
    *,
    login_url: str,
    client_id: str,
    username: str,
    private_key_pem: str,
    audience: str | None = None,
    clock: Clock = system_clock,
) -> TokenSet:
    """Run the JWT-bearer grant (server to server, no refresh token).

    Args:
        http: the pooled client.
        login_url: token endpoint host.
        client_id: consumer key.
        username: user to act as.
        private_key_pem: RSA private key (PEM).
        audience: ``aud`` claim; defaults to ``login_url``.
        clock: current time source.

    Raises:
        ReconnectNeeded: not approved, bad audience or unknown user.
    """
    assertion = jwt_assertion(
        client_id=client_id,
        username=username,
        audience=audience or login_url.rstrip("/"),
        private_key_pem=private_key_pem,
        now=clock(),
    )
    form = {"grant_type": JWT_BEARER_GRANT, "assertion": assertion}
    return await _token_call(http, login_url, form, dead_grant_is_reconnect=True, clock=clock)


async def revoke(http: httpx.AsyncClient, *, login_url: str, token: str) -> bool:
    """Revoke a refresh token (and its access tokens) or one access token.

    Returns:
        ``True`` when Salesforce revoked it, ``False`` when it was already unknown
        (``invalid_token``): disconnecting twice is not an error.

    Raises:
        OAuthFailed: another OAuth error.
        ServerUnavailable: the endpoint failed.
    """
    path = "/services/oauth2/revoke"
    resp = await send(http, "POST", login_url.rstrip("/") + path, path=path, data={"token": token})
    if resp.status_code == 200:
        return True
    if resp.status_code >= 500:
        raise ServerUnavailable(
            f"revoke endpoint answered {resp.status_code}",
            status=resp.status_code,
            method="POST",
            path=path,
        )
    body = _json_or_none(resp)
    error = str(body.get("error", "")) if isinstance(body, dict) else ""
    if error == "invalid_token":
        return False
    raise OAuthFailed(error or f"http_{resp.status_code}", status=resp.status_code, path=path)


async def identity(
    http: httpx.AsyncClient,
    tokens: TokenSet,
    *,
    login_url: str | None = None,
) -> Identity:
    """Read the identity URL of ``tokens``.

    Args:
        http: the pooled client.
        tokens: tokens whose ``id_url`` and ``access_token`` to use.
        login_url: used to tell sandbox from production (defaults to the identity host).

    Raises:
        AuthError: the token was refused or the identity body lacks ids.
    """
    path = "/id/{org}/{user}"
    resp = await send(
        http,
        "GET",
        tokens.id_url,
        path=path,
        params={"format": "json"},
        headers={"Authorization": f"Bearer {tokens.access_token}", "Accept": "application/json"},
    )
    body = _json_or_none(resp)
    if resp.status_code >= 500:
        raise ServerUnavailable(
            f"identity URL answered {resp.status_code}",
            status=resp.status_code,
            method="GET",
            path=path,
        )
    if resp.status_code != 200 or not isinstance(body, dict):
        raise AuthError(
            f"identity URL answered {resp.status_code}",
            status=resp.status_code,
            method="GET",
            path=path,
        )
    org = body.get("organization_id")
    user = body.get("user_id")
    if not isinstance(org, str) or not isinstance(user, str):
        raise AuthError("identity response lacks organization_id/user_id", method="GET", path=path)
    return Identity(
        org_id=org,
        user_id=user,
        username=str(body.get("username", "")),
        display_name=str(body.get("display_name", "")),
        is_sandbox=sandbox_from_login_url(login_url or tokens.id_url),
    )
