"""Email conversations: the list (filter by status or contact), one conversation with its
messages, Escalate (hand off to a rep: a Case) and an agent reply."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from sfbridge.errors import BridgeError
from sfbridge.services.email import sessions as email_api
from sfbridge.services.email.runtime import runtime_from_deps
from sfbridge.store.email_sessions import SessionStatus
from sfbridge.web.auth import deps_of
from sfbridge.web.pages.common import case_url, go, render_ws, workspace_context

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


def _cursor(value: str) -> tuple[dt.datetime, str] | None:
    """``<updated_at ISO>|<session id>`` as the list's "Older" link writes it; junk is ignored."""
    stamp, _, session_id = value.partition("|")
    try:
        return dt.datetime.fromisoformat(stamp), session_id
    except ValueError:
        return None


@router.get("/admin/workspaces/{workspace_id}/conversations")
async def conversations(
    request: Request,
    workspace_id: str,
    status: str = "",
    contact: str = "",
    before: str = "",
) -> HTMLResponse:
    """Conversations, most recently active first."""
    ctx = await workspace_context(request, workspace_id)
    deps = deps_of(request)
    chosen = SessionStatus(status) if status in SessionStatus.__members__.values() else None
    after = _cursor(before) if before else None
    found = await email_api.list_sessions(
        deps.db,
        workspace_id,
        status=chosen,
        contact=contact.strip().lower() or None,
        before=after,
        limit=PAGE_SIZE,
    )
    last = found[-1] if len(found) == PAGE_SIZE else None
    conn = await deps.connections.view(workspace_id)
    addresses = await email_api.list_addresses(deps.db, workspace_id)
    return render_ws(
        request,
        ctx,
        "conversations.html",
        tab="conversations",
        sessions=found,
        case_links={s.id: case_url(ctx.ws, conn, s.case_id) for s in found},
        status=chosen.value if chosen else "",
        contact=contact.strip(),
        older=f"{last.updated_at.isoformat()}|{last.id}" if last else None,
        paged=bool(after),
        support_address=addresses[0].address if addresses else None,
        smtp=f"{deps.settings.smtp_listen_host}:{deps.settings.smtp_listen_port}",
    )


@router.get("/admin/workspaces/{workspace_id}/conversations/{session_id}")
async def conversation(request: Request, workspace_id: str, session_id: str) -> HTMLResponse:
    """One conversation: the Case, the messages in order, Escalate and Reply."""
    ctx = await workspace_context(request, workspace_id)
    deps = deps_of(request)
    try:
        detail = await email_api.get_session(deps.db, workspace_id, session_id)
    except BridgeError:
        return render_ws(
            request, ctx, "conversation_missing.html", tab="conversations", status_code=404
        )
    conn = await deps.connections.view(workspace_id)
    s = detail.session
    return render_ws(
        request,
        ctx,
        "conversation.html",
        tab="conversations",
        s=s,
        messages=detail.messages,
        case_link=case_url(ctx.ws, conn, s.case_id),
        case_pending=s.case_id is None and s.handoff_requested_at is not None,
    )


@router.post("/admin/workspaces/{workspace_id}/conversations/{session_id}/escalate")
async def escalate(
    request: Request,
    workspace_id: str,
    session_id: str,
    topic: str = Form(""),
    summary: str = Form(""),
) -> RedirectResponse:
    """Hand the conversation to a rep: the same service as ``POST .../escalate``."""
    ctx = await workspace_context(request, workspace_id)
    here = f"{ctx.base}/conversations/{session_id}"
    try:
        queued = await email_api.escalate(
            runtime_from_deps(deps_of(request)),
            workspace_id,
            session_id,
            topic=topic.strip()[:255] or None,
            summary=summary.strip()[:32_000] or None,
        )
    except BridgeError as exc:
        return go(here, problem=exc.message)
    if queued is None:
        return go(here, "This conversation already has a Case.")
    if queued.timing.open_now or queued.ack_sent:
        note = "Escalated: the Case is being created in Salesforce."
        if queued.ack_sent:
            note += " The office is closed, so the customer was told when we reply."
        return go(here, note)
    return go(
        here, f"Outside office hours: the Case is created at {queued.timing.at:%Y-%m-%d %H:%M %Z}."
    )


@router.post("/admin/workspaces/{workspace_id}/conversations/{session_id}/reply")
async def reply(
    request: Request,
    workspace_id: str,
    session_id: str,
    text: str = Form(""),
    author_name: str = Form(""),
) -> RedirectResponse:
    """Send the agent's reply to the customer (and add it to an open Case)."""
    ctx = await workspace_context(request, workspace_id)
    here = f"{ctx.base}/conversations/{session_id}"
    if not text.strip():
        return go(here + "#reply", problem="Write a reply first; it was empty.")
    try:
        await email_api.post_agent_message(
            runtime_from_deps(deps_of(request)),
            workspace_id,
            session_id,
            text=text.strip()[:100_000],
            author_name=author_name.strip()[:200],
        )
    except BridgeError as exc:
        return go(here + "#reply", problem=exc.message)
    return go(here, "Reply queued: it is emailed to the customer.")
