"""sfemu's OAuth 2.0 server: the routes of reference section 1.

``oauth_routes`` returns Starlette routes for ``/services/oauth2/{authorize,token,revoke,
userinfo}`` and the identity URL ``/id/{org}/{user}``. The emulator's app mounts them::

    tokens = TokenStore()
    routes = oauth_routes(directory, tokens, auto_approve=lambda: settings.auto_approve)

and checks API calls with ``tokens.validate(access_token)``.

The web server flow shows a login form and then an approve page; with auto-approve on, the
authorize request logs in as the org's admin and redirects at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sfemu import oauth_pages
from sfemu.oauth_directory import ConnectedAppView, Directory, OrgView
from sfemu.oauth_errors import INVALID_CLIENT_ID, OAuthError
from sfemu.oauth_identity import IdentityEndpoints
from sfemu.oauth_token import JSON_TYPE, NO_STORE, TokenEndpoint, oauth_error_response
from sfemu.tokens import Session, TokenStore

__all__ = ["Directory", "Session", "TokenStore", "oauth_routes"]

AUTHORIZE_PATH: Final = "/services/oauth2/authorize"
#: Scopes an app's ``id`` scope covers (Salesforce lists them together).
_IMPLIED_BY_ID: Final = frozenset({"profile", "email", "address", "phone"})
_LOGIN_FAILED: Final = (
    "Please check your username and password. If you still can't log in, "
    "contact your Salesforce administrator."
)
#: The authorize parameters carried from the login form to the approve page.
_CARRIED: Final = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "prompt",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "login_hint",
)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Request:
    """A validated authorize request."""

    org: OrgView
    app: ConnectedAppView
    redirect_uri: str
    state: str | None
    scopes: tuple[str, ...]
    prompt: frozenset[str]
    code_challenge: str | None
    nonce: str | None
    carried: Mapping[str, str]


@dataclass(frozen=True, kw_only=True, slots=True)
class _Ticket:
    """A logged-in user waiting on the approve page."""

    request: _Request
    user_org_id: str
    user_id: str


def _allowed(scope: str, granted: frozenset[str]) -> bool:
    if scope in granted or ("full" in granted and scope not in {"refresh_token", "offline_access"}):
        return True
    if scope in {"refresh_token", "offline_access"}:
        return bool(granted & {"refresh_token", "offline_access"})
    return scope in _IMPLIED_BY_ID and "id" in granted


def _redirect(redirect_uri: str, params: Mapping[str, str | None]) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{separator}{query}", status_code=302)


def _html(document: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(document, status_code=status, headers=NO_STORE)


class _Authorize:
    """``GET|POST /services/oauth2/authorize``: the browser side of the web server flow."""

    def __init__(
        self, directory: Directory, tokens: TokenStore, auto_approve: Callable[[], bool]
    ) -> None:
        self._directory = directory
        self._tokens = tokens
        self._auto_approve = auto_approve
        self._tickets: dict[str, _Ticket] = {}

    async def handle(self, request: Request) -> Response:
        if request.method == "GET":
            params = dict(request.query_params)
        else:
            form = await request.form()
            params = {k: v for k, v in form.items() if isinstance(v, str)}
        if request.method == "POST" and params.get("step") == "approve":
            return self._decide(params)
        parsed = self._parse(params)
        if isinstance(parsed, Response):
            return parsed
        if request.method == "POST" and params.get("step") == "login":
            return self._login(parsed, params)
        if self._auto_approve():
            org = parsed.org
            return self._grant(parsed, org.org_id, org.admin_user_id)
        if params.get("immediate") == "true":
            return self._error(parsed, "immediate_unsuccessful", "user must log in and approve")
        return self._login_page(parsed, username=params.get("login_hint", ""))

    # -- validation ----------------------------------------------------------------------

    def _parse(self, params: Mapping[str, str]) -> _Request | Response:
        client_id = params.get("client_id", "")
        org = self._directory.org_for_client(client_id) if client_id else None
        app = org.apps.get(client_id) if org is not None else None
        if org is None or app is None:
            page = oauth_pages.error_page(error="invalid_client_id", description=INVALID_CLIENT_ID)
            return _html(page, 400)
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in app.callback_urls:
            page = oauth_pages.error_page(
                error="redirect_uri_mismatch", description="redirect_uri must match configuration"
            )
            return _html(page, 400)
        state = params.get("state")
        requested = tuple(dict.fromkeys(params.get("scope", "").split()))
        granted = frozenset(app.scopes)
        request = _Request(
            org=org,
            app=app,
            redirect_uri=redirect_uri,
            state=state,
            scopes=requested or tuple(sorted(granted)),
            prompt=frozenset(params.get("prompt", "").split()),
            code_challenge=params.get("code_challenge") or None,
            nonce=params.get("nonce") or None,
            carried={k: params[k] for k in _CARRIED if k in params},
        )
        if params.get("response_type") != "code":
            return self._error(request, "unsupported_response_type", "response type not supported")
        method = params.get("code_challenge_method")
        if method is not None and (method != "S256" or request.code_challenge is None):
            return self._error(request, "invalid_request", "invalid code_challenge_method")
        if not all(_allowed(scope, granted) for scope in requested):
            return self._error(request, "invalid_scope", "the requested scope is not allowed")
        return request

    @staticmethod
    def _error(request: _Request, error: str, description: str) -> RedirectResponse:
        return _redirect(
            request.redirect_uri,
            {"error": error, "error_description": description, "state": request.state},
        )

    # -- steps ---------------------------------------------------------------------------

    def _login_page(
        self, request: _Request, *, username: str = "", error: str | None = None
    ) -> HTMLResponse:
        page = oauth_pages.login_page(
            action=AUTHORIZE_PATH,
            app_name=request.app.name,
            hidden=request.carried,
            username=username,
            error=error,
        )
        return _html(page, 200)

    def _login(self, request: _Request, params: Mapping[str, str]) -> Response:
        username = params.get("username", "")
        password = params.get("password", "")
        org = self._directory.org_for_username(username) if username else None
        user_id = org.check_password(username, password) if org is not None else None
        if org is None or user_id is None:
            return self._login_page(request, username=username, error=_LOGIN_FAILED)
        if self._tokens.codes.approved(request.app.client_id, user_id) and "consent" not in (
            request.prompt
        ):
            return self._grant(request, org.org_id, user_id)
        ticket = secrets.token_urlsafe(24)
        self._tickets[ticket] = _Ticket(request=request, user_org_id=org.org_id, user_id=user_id)
        page = oauth_pages.approve_page(
            action=AUTHORIZE_PATH,
            app_name=request.app.name,
            username=username,
            scopes=request.scopes,
            hidden={"ticket": ticket},
        )
        return _html(page)

    def _decide(self, params: Mapping[str, str]) -> Response:
        ticket = self._tickets.pop(params.get("ticket", ""), None)
        if ticket is None:
            page = oauth_pages.error_page(
                error="invalid_request", description="This approval has expired; start again."
            )
            return _html(page, 400)
        if params.get("decision") != "allow":
            return self._error(ticket.request, "access_denied", "end-user denied authorization")
        return self._grant(ticket.request, ticket.user_org_id, ticket.user_id)

    def _grant(self, request: _Request, org_id: str, user_id: str) -> RedirectResponse:
        self._tokens.codes.approve(request.app.client_id, user_id)
        code = self._tokens.codes.create(
            org_id=org_id,
            user_id=user_id,
            client_id=request.app.client_id,
            redirect_uri=request.redirect_uri,
            scopes=request.scopes,
            code_challenge=request.code_challenge,
            nonce=request.nonce,
        )
        return _redirect(request.redirect_uri, {"code": code, "state": request.state})


def _revoke(tokens: TokenStore) -> Callable[[Request], Awaitable[Response]]:
    async def revoke(request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            form = await request.form()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        hint = params.get("token_type_hint")
        error: OAuthError | None = None
        if hint is not None and hint not in {"access_token", "refresh_token"}:
            error = OAuthError("unsupported_token_type")
        elif not tokens.revoke(params.get("token", "")):
            error = OAuthError("invalid_token")
        if error is not None:
            return oauth_error_response(error)
        return Response(status_code=200, headers=NO_STORE, media_type=JSON_TYPE)

    return revoke


def oauth_routes(
    directory: Directory,
    tokens: TokenStore,
    *,
    auto_approve: Callable[[], bool],
    jwt_requires_approval: Callable[[], bool] = lambda: False,
) -> list[BaseRoute]:
    """The OAuth server's routes, to mount at the emulator's root.

    Args:
        directory: Finds orgs by consumer key, org id and username. Also bound to ``tokens``
            so that ``tokens.validate`` checks expiry against each org's clock.
        tokens: The token store shared with the API routes.
        auto_approve: When it returns True, authorize logs in as the org's admin and redirects
            with a code at once (tests); otherwise a login form and an approve page are shown.
        jwt_requires_approval: When it returns True, the JWT bearer grant refuses users who
            never approved the app (``user hasn't approved this consumer``); by default every
            user counts as pre-authorized by the admin.

    Returns:
        Routes for authorize, token, revoke, userinfo and the identity URL.
    """
    tokens.bind(directory)
    token = TokenEndpoint(directory, tokens, jwt_requires_approval=jwt_requires_approval)
    identity = IdentityEndpoints(directory, tokens)
    revoke = _revoke(tokens)
    authorize = _Authorize(directory, tokens, auto_approve)
    return [
        Route(AUTHORIZE_PATH, authorize.handle, methods=["GET", "POST"]),
        Route("/services/oauth2/token", token.handle, methods=["POST"]),
        Route("/services/oauth2/revoke", revoke, methods=["GET", "POST"]),
        Route("/services/oauth2/userinfo", identity.userinfo, methods=["GET", "POST"]),
        Route("/id/{org_id}/{user_id}", identity.identity, methods=["GET", "POST"]),
    ]
