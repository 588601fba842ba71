"""What every admin page shares: templates, sign-in checks, redirects with a note.

A page that needs a signed-in key raises :class:`SignInFirst`; one for a workspace the key may
not see raises :class:`PageGone`. :func:`install_handlers` turns both into a redirect, so page
handlers read straight through instead of returning early.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from sfbridge.errors import BridgeError
from sfbridge.services.connections import ConnectionView
from sfbridge.store import workspaces
from sfbridge.store.workspaces import Workspace
from sfbridge.web.auth import NotAuthenticated, Principal, WorkspaceNotFound, deps_of, principal

WEB = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=str(WEB / "templates"))
templates.env.add_extension("jinja2.ext.do")

#: Who wrote a message, as the pages say it.
AUTHOR_LABELS = {
    "contact": "Customer",
    "agent": "AI agent",
    "rep": "Support rep",
    "system": "sfbridge",
}

#: A session's status, as the pages say it.
STATUS_LABELS = {
    "open": "Open",
    "handed_off": "With a rep",
    "resolved": "Resolved",
}


class PageError(BridgeError):
    """An admin page could not be shown."""


class SignInFirst(PageError):
    """Sign in with an API key first."""


class PageGone(PageError):
    """That page does not exist (or this key may not see it)."""


def when(value: dt.datetime | None) -> str:
    """A timestamp as the pages show it: ``2026-05-01 14:03 UTC`` (empty for ``None``)."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%d %H:%M UTC")


#: Why a conversation was handed off (the stored reason's rule), as the pages say it.
HANDOFF_REASONS = {
    "api": "escalated by the agent or an admin",
    "every_email": "every email goes to a rep",
    "sender_domain": "sender's domain",
    "phrase": "the customer asked for a person",
    "keyword": "keyword",
}


def handoff_reason(reason: str | None) -> str:
    """``phrase: talk to a human`` -> ``the customer asked for a person: talk to a human``."""
    if not reason:
        return ""
    rule, sep, detail = reason.partition(": ")
    label = HANDOFF_REASONS.get(rule)
    if label is None:
        return reason
    return f"{label}{sep}{detail}"


templates.env.filters["when"] = when
templates.env.filters["handoff_reason"] = handoff_reason
templates.env.globals["AUTHOR_LABELS"] = AUTHOR_LABELS
templates.env.globals["STATUS_LABELS"] = STATUS_LABELS


def with_note(url: str, message: str | None = None, *, problem: str | None = None) -> str:
    """``url`` with a note for the next page: ``message`` (all went well) or ``problem``."""
    params = {k: v for k, v in (("message", message), ("problem", problem)) if v}
    if not params:
        return url
    path, hash_, fragment = url.partition("#")
    return path + ("&" if "?" in path else "?") + urlencode(params) + hash_ + fragment


def go(url: str, message: str | None = None, *, problem: str | None = None) -> RedirectResponse:
    """A 303 redirect to ``url`` (after a form post) with an optional note."""
    return RedirectResponse(with_note(url, message, problem=problem), status_code=303)


async def signed_in(request: Request) -> Principal | None:
    """The key in the session cookie (or header), or ``None`` when there is none or it is revoked."""
    try:
        return await principal(request)
    except NotAuthenticated:
        return None


async def require_key(request: Request) -> Principal:
    """The signed-in key.

    Raises:
        SignInFirst: nobody is signed in.
    """
    who = await signed_in(request)
    if who is None:
        raise SignInFirst()
    return who


@dataclass(frozen=True, kw_only=True, slots=True)
class WorkspaceContext:
    """The signed-in key and the workspace a page is about."""

    who: Principal
    ws: Workspace

    @property
    def base(self) -> str:
        """The workspace's page URL (sub-pages hang below it)."""
        return f"/admin/workspaces/{self.ws.id}"


async def workspace_context(request: Request, workspace_id: str) -> WorkspaceContext:
    """The key and the workspace of a workspace page.

    Raises:
        SignInFirst: nobody is signed in.
        PageGone: no such workspace, or the key may not see it.
    """
    who = await require_key(request)
    try:
        who.check_workspace(workspace_id)
    except WorkspaceNotFound as exc:
        raise PageGone() from exc
    async with deps_of(request).db.transaction() as tx:
        ws = await workspaces.get(tx, workspace_id)
    if ws is None:
        raise PageGone()
    return WorkspaceContext(who=who, ws=ws)


def render(request: Request, name: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render template ``name`` with what every page needs (demo banner, notes)."""
    deps = deps_of(request)
    return templates.TemplateResponse(
        request,
        name,
        {
            "demo": deps.demo,
            "public_url": deps.settings.public_url,
            "message": request.query_params.get("message"),
            "problem": request.query_params.get("problem"),
            **context,
        },
        status_code=status_code,
    )


def render_ws(
    request: Request,
    ctx: WorkspaceContext,
    name: str,
    *,
    tab: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a workspace page: the workspace header and tabs, ``tab`` marked current."""
    return render(
        request,
        name,
        status_code=status_code,
        who=ctx.who,
        ws=ctx.ws,
        base=ctx.base,
        tab=tab,
        **context,
    )


def case_url(ws: Workspace, conn: ConnectionView, case_id: str | None) -> str | None:
    """Where the Case opens in Salesforce (the instance URL + ``/<id>``), when it can.

    ``None`` for the demo workspace: the emulator has an API but no record pages.
    """
    if not case_id or not conn.instance_url or ws.is_demo:
        return None
    return f"{conn.instance_url.rstrip('/')}/{case_id}"


def install_handlers(app: FastAPI) -> None:
    """Turn the page errors into redirects: to sign-in, or to the workspace list."""

    @app.exception_handler(SignInFirst)
    async def sign_in_first(_request: Request, _exc: SignInFirst) -> RedirectResponse:
        return go("/admin", problem="Sign in to continue.")

    @app.exception_handler(PageGone)
    async def page_gone(_request: Request, exc: PageGone) -> RedirectResponse:
        return go("/admin", problem=exc.message)
