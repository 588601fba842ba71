"""Mail pages: the workspace's addresses (with the inbound log) and the dev mailbox."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from sfbridge.core.mailparse import parse_message
from sfbridge.errors import BridgeError
from sfbridge.services.email import sessions as email_api
from sfbridge.store.email_inbound import DevMail
from sfbridge.web.auth import deps_of
from sfbridge.web.pages.common import go, render_ws, workspace_context

router = APIRouter(include_in_schema=False)

#: The same rule as the API's ``AddressIn``.
ADDRESS = re.compile(r"^[^@\s<>]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


@dataclass(frozen=True, kw_only=True, slots=True)
class ShownMail:
    """A dev-mailbox message as the page shows it: headers, the text body, the raw source."""

    mail: DevMail
    from_header: str
    text: str
    raw: str


def shown(mail: DevMail) -> ShownMail:
    """Read a kept message's text body (the raw source stays one click away)."""
    parsed = parse_message(mail.raw)
    sender = f"{parsed.from_name} <{parsed.from_address}>" if parsed.from_name else ""
    return ShownMail(
        mail=mail,
        from_header=sender or parsed.from_address or mail.envelope_from,
        text=parsed.text.strip() or "(no text body)",
        raw=mail.raw.decode("utf-8", errors="replace"),
    )


@router.get("/admin/workspaces/{workspace_id}/dev-mailbox")
async def dev_mailbox(request: Request, workspace_id: str) -> HTMLResponse:
    """Outgoing mail kept here because no SMTP relay is configured: it was NOT sent."""
    ctx = await workspace_context(request, workspace_id)
    deps = deps_of(request)
    found = await email_api.dev_mailbox(deps.db, workspace_id, limit=100)
    return render_ws(
        request,
        ctx,
        "dev_mailbox.html",
        tab="dev-mailbox",
        mails=[shown(m) for m in found],
        relay=deps.settings.smtp.host,
    )


@router.get("/admin/workspaces/{workspace_id}/mail-addresses")
async def addresses(request: Request, workspace_id: str) -> HTMLResponse:
    """The addresses whose mail comes here, where to send it, and what became of recent mail."""
    ctx = await workspace_context(request, workspace_id)
    deps = deps_of(request)
    found = await email_api.list_addresses(deps.db, workspace_id)
    inbound = await email_api.inbound_log(deps.db, workspace_id, limit=25)
    return render_ws(
        request,
        ctx,
        "addresses.html",
        tab="addresses",
        addresses=found,
        inbound=inbound,
        smtp=f"{deps.settings.smtp_listen_host}:{deps.settings.smtp_listen_port}",
    )


@router.post("/admin/workspaces/{workspace_id}/mail-addresses")
async def add_address(
    request: Request, workspace_id: str, address: str = Form("")
) -> RedirectResponse:
    """Route mail for one more address to this workspace."""
    ctx = await workspace_context(request, workspace_id)
    here = f"{ctx.base}/mail-addresses"
    wanted = address.strip().lower()
    if not ADDRESS.match(wanted) or len(wanted) > 320:
        return go(here, problem=f"{address.strip() or 'That'!r} is not an email address.")
    try:
        await email_api.add_address(deps_of(request).db, workspace_id, wanted)
    except BridgeError as exc:
        return go(here, problem=exc.message)
    return go(here, f"Mail to {wanted} now comes to this workspace.")


@router.post("/admin/workspaces/{workspace_id}/mail-addresses/remove")
async def remove_address(
    request: Request, workspace_id: str, address: str = Form("")
) -> RedirectResponse:
    """Stop routing an address here."""
    ctx = await workspace_context(request, workspace_id)
    here = f"{ctx.base}/mail-addresses"
    try:
        await email_api.remove_address(deps_of(request).db, workspace_id, address.strip())
    except BridgeError as exc:
        return go(here, problem=exc.message)
    return go(here, f"Mail to {address.strip()} no longer comes here.")
