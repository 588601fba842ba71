"""A workspace's Salesforce connection, and the OAuth callback Salesforce redirects to."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from sfbridge.services.connections import CallbackRejected, ConnectionView, InvalidSetup
from sfbridge.web.auth import Principal, deps_of, principal
from sfbridge.web.errors import problem

router = APIRouter(tags=["connection"])
Caller = Annotated[Principal, Depends(principal)]


Flow = Literal["web_server", "jwt_bearer", "client_credentials"]


class ConnectionOut(BaseModel):
    status: str = Field(
        description="not_configured | credentials_saved | connected | needs_reconnect | disconnected"
    )
    flow: Flow = Field(description="How sfbridge gets its tokens.")
    login_url: str | None
    client_id: str | None
    has_client_secret: bool
    jwt_username: str | None = Field(description="JWT bearer: the username sfbridge acts as.")
    has_private_key: bool = Field(description="JWT bearer: a private key is stored.")
    redirect_uri: str = Field(description="Paste this as the connected app's Callback URL.")
    username: str | None
    org_id: str | None
    instance_url: str | None
    environment: str | None = Field(description="sandbox | production, once connected")
    webhook_url: str | None = Field(
        description="The URL Salesforce calls (a secret); shown once connected."
    )
    last_error: str | None


class Credentials(BaseModel):
    """A connection setup. Secrets are write-only: encrypted at rest, never returned."""

    model_config = ConfigDict(extra="forbid")

    flow: Flow = Field(
        default="web_server",
        description=(
            "web_server (an admin signs in once in the browser), jwt_bearer or "
            "client_credentials (server to server, no browser)."
        ),
    )
    client_id: str = Field(min_length=1, max_length=255, description="The Consumer Key.")
    client_secret: str | None = Field(
        default=None,
        max_length=255,
        description=(
            "The Consumer Secret (write-only; omit to keep the stored one). Required for "
            "web_server and client_credentials, optional for jwt_bearer."
        ),
    )
    login_url: str = Field(
        default="https://login.salesforce.com",
        description=(
            "https://login.salesforce.com, https://test.salesforce.com or your My Domain URL "
            "(client_credentials: My Domain only)."
        ),
    )
    username: str | None = Field(
        default=None,
        max_length=255,
        description="jwt_bearer: the Salesforce username sfbridge acts as.",
    )
    private_key_pem: str | None = Field(
        default=None,
        max_length=20_000,
        description=(
            "jwt_bearer: the unencrypted RSA private key (PEM) whose certificate is on the "
            "connected app (write-only; omit to keep the stored one)."
        ),
    )


class AuthorizeOut(BaseModel):
    flow: Flow
    authorize_url: str | None = Field(
        description="web_server: open this in the admin's browser; null for the other flows."
    )
    connection: ConnectionOut = Field(
        description="The connection now: connected at once for the server-to-server flows."
    )


class WebhookOut(BaseModel):
    webhook_url: str


def _out(view: ConnectionView) -> ConnectionOut:
    return ConnectionOut(
        status=view.status.value,
        flow=view.flow.value,
        login_url=view.login_url,
        client_id=view.client_id,
        has_client_secret=view.has_client_secret,
        jwt_username=view.jwt_username,
        has_private_key=view.has_private_key,
        redirect_uri=view.redirect_uri,
        username=view.username,
        org_id=view.org_id,
        instance_url=view.instance_url,
        environment=view.environment,
        webhook_url=view.webhook_url,
        last_error=view.last_error,
    )


PREFIX = "/api/v1/workspaces/{workspace_id}/connection"


@router.get(PREFIX)
async def get_connection(request: Request, caller: Caller, workspace_id: str) -> ConnectionOut:
    caller.check_workspace(workspace_id)
    return _out(await deps_of(request).connections.view(workspace_id))


@router.put(
    PREFIX,
    response_model=ConnectionOut,
    responses={422: {"description": "A field is missing or invalid; the message names it."}},
)
async def save_credentials(
    request: Request, caller: Caller, workspace_id: str, body: Credentials
) -> ConnectionOut | JSONResponse:
    """Save the connection setup (flow, app credentials, login URL; JWT: username and key).

    Secrets (client secret, private key) are encrypted and never returned.
    """
    caller.check_workspace(workspace_id)
    try:
        view = await deps_of(request).connections.save_credentials(
            workspace_id,
            login_url=body.login_url,
            client_id=body.client_id,
            client_secret=body.client_secret,
            flow=body.flow,
            username=body.username,
            private_key_pem=body.private_key_pem,
        )
    except InvalidSetup as exc:
        return problem(422, "invalid_setup", exc.message)
    return _out(view)


@router.post(PREFIX + "/connect")
async def connect(request: Request, caller: Caller, workspace_id: str) -> AuthorizeOut:
    """Connect by the saved flow.

    web_server: returns the Salesforce authorize URL (single-use state, PKCE) to open in the
    admin's browser. jwt_bearer and client_credentials: gets tokens at once and returns the
    connected connection (409 with Salesforce's reason when it refuses).
    """
    caller.check_workspace(workspace_id)
    outcome = await deps_of(request).connections.connect(workspace_id)
    return AuthorizeOut(
        flow=outcome.flow.value, authorize_url=outcome.authorize_url, connection=_out(outcome.view)
    )


@router.post(PREFIX + "/disconnect")
async def disconnect(request: Request, caller: Caller, workspace_id: str) -> ConnectionOut:
    """Revoke at Salesforce, wipe tokens, rotate the webhook token. Nothing in Salesforce is deleted."""
    caller.check_workspace(workspace_id)
    return _out(await deps_of(request).connections.disconnect(workspace_id))


@router.post(PREFIX + "/webhook-token")
async def rotate_webhook(request: Request, caller: Caller, workspace_id: str) -> WebhookOut:
    """Issue a new webhook URL; the old one stops working at once."""
    caller.check_workspace(workspace_id)
    url = await deps_of(request).connections.rotate_webhook_token(workspace_id)
    return WebhookOut(webhook_url=url)


@router.get("/oauth/callback", include_in_schema=False, response_model=None)
async def oauth_callback(
    request: Request,
    state: str = "",
    code: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> RedirectResponse | HTMLResponse:
    """Where Salesforce sends the admin's browser after sign-in."""
    deps = deps_of(request)
    try:
        workspace_id = await deps.connections.finish_connect(
            state=state, code=code, error=error_description or error
        )
    except CallbackRejected as exc:
        return HTMLResponse(
            "<!doctype html><title>sfbridge: not connected</title>"
            "<body style='font-family:system-ui;margin:3rem'>"
            "<h1>Salesforce was not connected</h1>"
            f"<p>{_escape(exc.message)}</p><p><a href='/admin'>Back to sfbridge</a></p>",
            status_code=400,
        )
    return RedirectResponse(f"/admin/workspaces/{workspace_id}?connected=1", status_code=303)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
