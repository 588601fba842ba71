"""Sign-in, the workspace list, a workspace's overview and Salesforce connection, traces.

Sign in with an API key (kept in an HttpOnly, SameSite=Strict cookie, which also keeps other
sites from posting our forms); forms post to the same services as the JSON API.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from sfbridge.errors import BridgeError
from sfbridge.services.email import sessions as email_api
from sfbridge.store import apikeys, traces, workspaces
from sfbridge.web.auth import COOKIE, deps_of
from sfbridge.web.pages.common import (
    case_url,
    go,
    render,
    render_ws,
    require_key,
    signed_in,
    workspace_context,
)

router = APIRouter(include_in_schema=False)


@router.get("/")
async def root() -> RedirectResponse:
    """The admin pages are the front door."""
    return RedirectResponse("/admin", status_code=303)


@router.get("/admin", response_model=None)
async def home(request: Request) -> Response:
    """Sign-in when nobody is signed in; else the workspaces (or the key's only workspace)."""
    who = await signed_in(request)
    if who is None:
        return render(request, "login.html", error=None)
    async with deps_of(request).db.transaction() as tx:
        if who.is_admin:
            found = await workspaces.list_all(tx)
        else:
            one = await workspaces.get(tx, who.workspace_id or "")
            found = [one] if one else []
    if not who.is_admin and len(found) == 1:
        notes = request.query_params
        return go(
            f"/admin/workspaces/{found[0].id}",
            notes.get("message"),
            problem=notes.get("problem"),
        )
    return render(request, "workspaces.html", workspaces=found, who=who)


@router.post("/admin/login", response_model=None)
async def login(request: Request, api_key: str = Form("")) -> Response:
    """Check the key and keep it in the session cookie."""
    async with deps_of(request).db.transaction() as tx:
        key = await apikeys.authenticate(tx, api_key.strip()) if api_key.strip() else None
    if key is None:
        return render(request, "login.html", error="That key is unknown or revoked.")
    response = RedirectResponse("/admin", status_code=303)
    response.set_cookie(
        COOKIE,
        api_key.strip(),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=12 * 3600,
    )
    return response


@router.post("/admin/logout")
async def logout() -> RedirectResponse:
    """Forget the session cookie."""
    response = RedirectResponse("/admin", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.post("/admin/workspaces", response_model=None)
async def create_workspace(request: Request, name: str = Form("")) -> Response:
    """Create a workspace and show its key once (admin keys only)."""
    who = await require_key(request)
    who.require_admin()
    async with deps_of(request).db.transaction() as tx:
        ws = await workspaces.create(tx, name=name.strip() or "New workspace")
        key = await apikeys.create_workspace_key(tx, ws.id, label="created in admin pages")
    return render(request, "key_created.html", workspace=ws, api_key=key.token.reveal(), who=who)


@router.get("/admin/workspaces/{workspace_id}", response_model=None)
async def workspace(request: Request, workspace_id: str, connected: int = 0) -> Response:
    """A workspace's overview: the Salesforce connection, conversations, recent activity."""
    ctx = await workspace_context(request, workspace_id)
    deps = deps_of(request)
    async with deps.db.transaction() as tx:
        page = await traces.list_page(tx, workspace_id, limit=20)
    latest = await email_api.list_sessions(deps.db, workspace_id, limit=5)
    addresses = await email_api.list_addresses(deps.db, workspace_id)
    conn = await deps.connections.view(workspace_id)
    return render_ws(
        request,
        ctx,
        "workspace.html",
        tab="overview",
        conn=conn,
        traces=page.items,
        sessions=latest,
        case_links={s.id: case_url(ctx.ws, conn, s.case_id) for s in latest},
        support_address=addresses[0].address if addresses else None,
        just_connected=bool(connected),
    )


@router.post("/admin/workspaces/{workspace_id}/connection")
async def save_connection(
    request: Request,
    workspace_id: str,
    client_id: str = Form(""),
    client_secret: str = Form(""),
    login_url: str = Form("https://login.salesforce.com"),
    flow: str = Form("web_server"),
    username: str = Form(""),
    private_key_pem: str = Form(""),
) -> RedirectResponse:
    """Save the connection setup (the secret and the key are write-only)."""
    ctx = await workspace_context(request, workspace_id)
    try:
        await deps_of(request).connections.save_credentials(
            workspace_id,
            login_url=login_url,
            client_id=client_id,
            client_secret=client_secret or None,
            flow=flow,
            username=username or None,
            private_key_pem=private_key_pem or None,
        )
    except BridgeError as exc:
        return go(ctx.base + "#connection", problem=exc.message)
    return go(ctx.base, "Credentials saved. Now click Connect to Salesforce.")


@router.post("/admin/workspaces/{workspace_id}/connect")
async def connect(request: Request, workspace_id: str) -> RedirectResponse:
    """Connect: off to Salesforce's consent page, or at once for server-to-server flows."""
    ctx = await workspace_context(request, workspace_id)
    try:
        outcome = await deps_of(request).connections.connect(workspace_id)
    except BridgeError as exc:
        return go(ctx.base, problem=exc.message)
    if outcome.authorize_url:
        return RedirectResponse(outcome.authorize_url, status_code=303)
    return go(ctx.base, "Salesforce is connected.")


@router.post("/admin/workspaces/{workspace_id}/disconnect")
async def disconnect(request: Request, workspace_id: str) -> RedirectResponse:
    """Revoke and wipe the tokens; rotate the webhook URL."""
    ctx = await workspace_context(request, workspace_id)
    view = await deps_of(request).connections.disconnect(workspace_id)
    if view.last_error:
        return go(ctx.base, problem=view.last_error)
    return go(ctx.base, "Disconnected. Tokens wiped and webhook URL rotated.")


@router.get("/admin/workspaces/{workspace_id}/traces/{trace_id}", response_model=None)
async def trace(request: Request, workspace_id: str, trace_id: str) -> Response:
    """One pipeline run: its steps and the Salesforce calls they made."""
    ctx = await workspace_context(request, workspace_id)
    async with deps_of(request).db.transaction() as tx:
        found = await traces.get(tx, workspace_id, trace_id)
    if found is None:
        return go(ctx.base, problem="That trace no longer exists (old traces are pruned).")
    return render_ws(request, ctx, "trace.html", tab="overview", trace=found)
