"""Admin pages: server-rendered, no front-end build. Sign in with an API key (kept in an
HttpOnly, SameSite=Strict cookie); forms post to the same services as the JSON API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from sfbridge.errors import BridgeError
from sfbridge.store import apikeys, traces, workspaces
from sfbridge.web.auth import COOKIE, NotAuthenticated, Principal, deps_of, principal

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


async def _who(request: Request) -> Principal | None:
    try:
        return await principal(request)
    except NotAuthenticated:
        return None


def _page(request: Request, name: str, **context: Any) -> HTMLResponse:
    deps = deps_of(request)
    return templates.TemplateResponse(
        request, name, {"demo": deps.demo, "public_url": deps.settings.public_url, **context}
    )


def install(app: FastAPI) -> None:
    """Mount the admin pages and their static files on ``app``."""
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/admin", status_code=303)

    @app.get("/admin", include_in_schema=False, response_model=None)
    async def home(request: Request) -> Response:
        who = await _who(request)
        if who is None:
            return _page(request, "login.html", error=None)
        async with deps_of(request).db.transaction() as tx:
            if who.is_admin:
                found = await workspaces.list_all(tx)
            else:
                one = await workspaces.get(tx, who.workspace_id or "")
                found = [one] if one else []
        if not who.is_admin and len(found) == 1:
            return RedirectResponse(f"/admin/workspaces/{found[0].id}", status_code=303)
        return _page(request, "workspaces.html", workspaces=found, who=who)

    @app.post("/admin/login", include_in_schema=False, response_model=None)
    async def login(request: Request, api_key: str = Form("")) -> Response:
        async with deps_of(request).db.transaction() as tx:
            key = await apikeys.authenticate(tx, api_key.strip()) if api_key.strip() else None
        if key is None:
            return _page(request, "login.html", error="That key is unknown or revoked.")
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

    @app.post("/admin/logout", include_in_schema=False)
    async def logout() -> RedirectResponse:
        response = RedirectResponse("/admin", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.post("/admin/workspaces", include_in_schema=False, response_model=None)
    async def create_workspace(request: Request, name: str = Form("")) -> Response:
        who = await principal(request)
        who.require_admin()
        async with deps_of(request).db.transaction() as tx:
            ws = await workspaces.create(tx, name=name.strip() or "New workspace")
            key = await apikeys.create_workspace_key(tx, ws.id, label="created in admin pages")
        return _page(request, "key_created.html", workspace=ws, api_key=key.token.reveal())

    @app.get("/admin/workspaces/{workspace_id}", include_in_schema=False, response_model=None)
    async def workspace(request: Request, workspace_id: str, connected: int = 0) -> Response:
        who = await _who(request)
        if who is None:
            return RedirectResponse("/admin", status_code=303)
        who.check_workspace(workspace_id)
        deps = deps_of(request)
        async with deps.db.transaction() as tx:
            ws = await workspaces.get(tx, workspace_id)
            page = await traces.list_page(tx, workspace_id, limit=20)
        if ws is None:
            return RedirectResponse("/admin", status_code=303)
        conn = await deps.connections.view(workspace_id)
        return _page(
            request,
            "workspace.html",
            ws=ws,
            conn=conn,
            traces=page.items,
            just_connected=bool(connected),
            message=request.query_params.get("message"),
        )

    @app.post("/admin/workspaces/{workspace_id}/connection", include_in_schema=False)
    async def save_connection(
        request: Request,
        workspace_id: str,
        client_id: str = Form(""),
        client_secret: str = Form(""),
        login_url: str = Form("https://login.salesforce.com"),
    ) -> RedirectResponse:
        who = await principal(request)
        who.check_workspace(workspace_id)
        try:
            await deps_of(request).connections.save_credentials(
                workspace_id,
                login_url=login_url,
                client_id=client_id,
                client_secret=client_secret or None,
            )
            note = "Credentials saved. Now click Connect."
        except BridgeError as exc:
            note = exc.message
        return RedirectResponse(
            f"/admin/workspaces/{workspace_id}?message={_q(note)}", status_code=303
        )

    @app.post("/admin/workspaces/{workspace_id}/connect", include_in_schema=False)
    async def connect(request: Request, workspace_id: str) -> RedirectResponse:
        who = await principal(request)
        who.check_workspace(workspace_id)
        try:
            url = await deps_of(request).connections.start_connect(workspace_id)
        except BridgeError as exc:
            return RedirectResponse(
                f"/admin/workspaces/{workspace_id}?message={_q(exc.message)}", status_code=303
            )
        return RedirectResponse(url, status_code=303)

    @app.post("/admin/workspaces/{workspace_id}/disconnect", include_in_schema=False)
    async def disconnect(request: Request, workspace_id: str) -> RedirectResponse:
        who = await principal(request)
        who.check_workspace(workspace_id)
        view = await deps_of(request).connections.disconnect(workspace_id)
        note = view.last_error or "Disconnected. Tokens wiped and webhook URL rotated."
        return RedirectResponse(
            f"/admin/workspaces/{workspace_id}?message={_q(note)}", status_code=303
        )

    @app.get(
        "/admin/workspaces/{workspace_id}/traces/{trace_id}",
        include_in_schema=False,
        response_model=None,
    )
    async def trace(request: Request, workspace_id: str, trace_id: str) -> Response:
        who = await _who(request)
        if who is None:
            return RedirectResponse("/admin", status_code=303)
        who.check_workspace(workspace_id)
        async with deps_of(request).db.transaction() as tx:
            found = await traces.get(tx, workspace_id, trace_id)
        if found is None:
            return RedirectResponse(f"/admin/workspaces/{workspace_id}", status_code=303)
        return _page(request, "trace.html", workspace_id=workspace_id, trace=found)


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text)
