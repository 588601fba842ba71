"""Email cases API: addresses, settings, sessions, inbound raw mail, dev mailbox, Apex setup.

Mounted by the app (``app.include_router(email.router)``). Every route is under
``/api/v1/workspaces/{ws}`` and checks the caller's key against the workspace.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from sfbridge.services.email import apex
from sfbridge.services.email import sessions as email_api
from sfbridge.services.email.errors import InvalidSettings
from sfbridge.services.email.runtime import EmailRuntime, runtime_from_deps
from sfbridge.services.email.settings import EmailSettings
from sfbridge.store.email_messages import EmailMessage
from sfbridge.store.email_sessions import EmailSession, SessionStatus
from sfbridge.web.auth import Principal, deps_of, principal

router = APIRouter(prefix="/api/v1/workspaces/{ws}", tags=["email cases"])
Caller = Annotated[Principal, Depends(principal)]


class AddressIn(BaseModel):
    address: str = Field(
        min_length=3, max_length=320, pattern=r"^[^@\s<>]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"
    )


class AddressOut(BaseModel):
    address: str
    created_at: dt.datetime
    is_support_address: bool


class MessageOut(BaseModel):
    id: int
    direction: str
    author_kind: str
    author_name: str
    author_address: str
    sent_at: dt.datetime
    subject: str
    text: str
    message_id_header: str | None
    in_reply_to: str | None
    attachments: list[dict[str, Any]]
    sf_record_id: str | None
    sf_comment_id: str | None
    delivery_status: str
    delivery_error: str | None


class SessionOut(BaseModel):
    id: str
    contact_address: str
    contact_name: str
    subject: str
    status: SessionStatus
    case_id: str | None
    case_number: str | None
    handoff_reason: str | None
    handoff_error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class SessionPage(BaseModel):
    items: list[SessionOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page.")


class SessionDetailOut(SessionOut):
    messages: list[MessageOut]


class AgentMessageIn(BaseModel):
    text: str = Field(min_length=1, max_length=100_000)
    author_name: str = Field(default="", max_length=200)


class EscalateIn(BaseModel):
    topic: str | None = Field(default=None, min_length=1, max_length=255)
    summary: str | None = Field(default=None, min_length=1, max_length=32_000)


class EscalateOut(BaseModel):
    queued: bool
    at: dt.datetime | None = None
    out_of_hours_ack_sent: bool = False
    detail: str


class InboundOut(BaseModel):
    inbound_id: int
    duplicate: bool


class DevMailOut(BaseModel):
    id: int
    at: dt.datetime
    envelope_from: str
    to: list[str]
    subject: str
    raw: str


class DevMailboxOut(BaseModel):
    notice: str
    messages: list[DevMailOut]


class ApexFileOut(BaseModel):
    name: str
    kind: str
    body: str


class ApexOut(BaseModel):
    named_credential: str
    webhook_url: str | None
    instructions: str
    files: list[ApexFileOut]


def _session(s: EmailSession) -> dict[str, Any]:
    return {
        "id": s.id,
        "contact_address": s.contact_address,
        "contact_name": s.contact_name,
        "subject": s.subject,
        "status": s.status,
        "case_id": s.case_id,
        "case_number": s.case_number,
        "handoff_reason": s.handoff_reason,
        "handoff_error": s.handoff_error,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    }


def _message(m: EmailMessage) -> MessageOut:
    return MessageOut(
        id=m.id,
        direction=m.direction,
        author_kind=m.author_kind,
        author_name=m.author_name,
        author_address=m.author_address,
        sent_at=m.sent_at,
        subject=m.subject,
        text=m.text,
        message_id_header=m.message_id_header,
        in_reply_to=m.in_reply_to,
        attachments=[dict(a) for a in m.attachments],
        sf_record_id=m.sf_record_id,
        sf_comment_id=m.sf_comment_id,
        delivery_status=m.delivery_status.value,
        delivery_error=m.delivery_error,
    )


def _runtime(request: Request) -> EmailRuntime:
    return runtime_from_deps(deps_of(request))


def _cursor(value: str | None) -> tuple[dt.datetime, str] | None:
    if not value:
        return None
    stamp, sep, session_id = value.partition("|")
    try:
        at = dt.datetime.fromisoformat(stamp)
    except ValueError:
        at = None
    if not sep or at is None or not session_id:
        raise InvalidSettings("The cursor is not one this API returned; start without it.")
    return at, session_id


@router.get("/mail-addresses", response_model=list[AddressOut])
async def list_addresses(ws: str, request: Request, caller: Caller) -> list[AddressOut]:
    """The addresses whose mail goes to this workspace; the first is the support address."""
    found = await email_api.list_addresses(deps_of(request).db, caller.check_workspace(ws))
    return [
        AddressOut(address=a.address, created_at=a.created_at, is_support_address=i == 0)
        for i, a in enumerate(found)
    ]


@router.post("/mail-addresses", response_model=AddressOut, status_code=201)
async def add_address(ws: str, body: AddressIn, request: Request, caller: Caller) -> AddressOut:
    """Route mail for an address to this workspace."""
    db = deps_of(request).db
    added = await email_api.add_address(db, caller.check_workspace(ws), body.address)
    first = (await email_api.list_addresses(db, ws))[0]
    return AddressOut(
        address=added.address,
        created_at=added.created_at,
        is_support_address=first.address == added.address,
    )


@router.delete("/mail-addresses/{address}", status_code=204)
async def remove_address(ws: str, address: str, request: Request, caller: Caller) -> Response:
    """Stop routing an address to this workspace."""
    await email_api.remove_address(deps_of(request).db, caller.check_workspace(ws), address)
    return Response(status_code=204)


@router.get("/email-settings", response_model=EmailSettings)
async def get_settings(ws: str, request: Request, caller: Caller) -> EmailSettings:
    """The workspace's email-cases settings."""
    return await email_api.get_settings(deps_of(request).db, caller.check_workspace(ws))


@router.put("/email-settings", response_model=EmailSettings)
async def put_settings(
    ws: str, body: EmailSettings, request: Request, caller: Caller
) -> EmailSettings:
    """Replace the workspace's email-cases settings (omitted fields take their defaults)."""
    return await email_api.put_settings(deps_of(request).db, caller.check_workspace(ws), body)


@router.get("/sessions", response_model=SessionPage)
async def list_sessions(
    ws: str,
    request: Request,
    caller: Caller,
    status: SessionStatus | None = None,
    contact: Annotated[str | None, Query(max_length=320)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SessionPage:
    """Email sessions, most recently updated first; filter by status or contact address."""
    found = await email_api.list_sessions(
        deps_of(request).db,
        caller.check_workspace(ws),
        status=status,
        contact=contact,
        before=_cursor(cursor),
        limit=limit,
    )
    last = found[-1] if len(found) == limit else None
    return SessionPage(
        items=[SessionOut(**_session(s)) for s in found],
        next_cursor=f"{last.updated_at.isoformat()}|{last.id}" if last else None,
    )


@router.get("/sessions/{session_id}", response_model=SessionDetailOut)
async def get_session(
    ws: str, session_id: str, request: Request, caller: Caller
) -> SessionDetailOut:
    """One session with its messages in order."""
    detail = await email_api.get_session(
        deps_of(request).db, caller.check_workspace(ws), session_id
    )
    return SessionDetailOut(
        **_session(detail.session), messages=[_message(m) for m in detail.messages]
    )


@router.post("/sessions/{session_id}/messages", response_model=MessageOut, status_code=201)
async def post_message(
    ws: str, session_id: str, body: AgentMessageIn, request: Request, caller: Caller
) -> MessageOut:
    """Record the AI agent's reply; it is emailed to the contact (and added to an open Case)."""
    message = await email_api.post_agent_message(
        _runtime(request),
        caller.check_workspace(ws),
        session_id,
        text=body.text,
        author_name=body.author_name,
    )
    return _message(message)


@router.post("/sessions/{session_id}/escalate", response_model=EscalateOut, status_code=202)
async def escalate(
    ws: str, session_id: str, request: Request, caller: Caller, body: EscalateIn | None = None
) -> EscalateOut:
    """Hand the session off to a human: a Case is created (now, or at opening time)."""
    given = body or EscalateIn()
    queued = await email_api.escalate(
        _runtime(request),
        caller.check_workspace(ws),
        session_id,
        topic=given.topic,
        summary=given.summary,
    )
    if queued is None:
        return EscalateOut(queued=False, detail="The session already has a Case.")
    return EscalateOut(
        queued=True,
        at=queued.timing.at,
        out_of_hours_ack_sent=queued.ack_sent,
        detail="The Case is being created."
        if queued.timing.open_now or queued.ack_sent
        else "Outside office hours: the Case is created at opening time.",
    )


@router.post(
    "/inbound-mail",
    response_model=InboundOut,
    status_code=202,
    openapi_extra={"requestBody": {"content": {"message/rfc822": {"schema": {"type": "string"}}}}},
)
async def inbound_mail(ws: str, request: Request, caller: Caller) -> InboundOut:
    """Take one raw RFC 822 message (a mail provider's inbound webhook) for this workspace."""
    raw = await request.body()
    inbound_id, is_new = await email_api.accept_http_mail(
        _runtime(request), caller.check_workspace(ws), raw
    )
    return InboundOut(inbound_id=inbound_id, duplicate=not is_new)


class InboundRowOut(BaseModel):
    id: int
    mail_from: str
    rcpt: str
    source: str
    received_at: dt.datetime
    status: str
    reason: str | None
    parse_error: str | None
    session_id: str | None
    size: int


@router.get("/inbound-mail", response_model=list[InboundRowOut])
async def list_inbound(
    ws: str,
    request: Request,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[InboundRowOut]:
    """Received mail, newest first, with what became of it (ignored mail says why)."""
    rows = await email_api.inbound_log(deps_of(request).db, caller.check_workspace(ws), limit=limit)
    return [InboundRowOut(**{k: r[k] for k in InboundRowOut.model_fields}) for r in rows]


@router.get("/dev-mailbox", response_model=DevMailboxOut)
async def dev_mailbox(
    ws: str,
    request: Request,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DevMailboxOut:
    """Outgoing mail kept locally because no SMTP relay is configured (nothing was sent)."""
    found = await email_api.dev_mailbox(
        deps_of(request).db, caller.check_workspace(ws), limit=limit
    )
    return DevMailboxOut(
        notice="DEV MAILBOX: no SMTP relay is configured, so these messages were NOT sent. "
        "Set SFBRIDGE_SMTP_HOST to deliver mail.",
        messages=[
            DevMailOut(
                id=m.id,
                at=m.at,
                envelope_from=m.envelope_from,
                to=list(m.to),
                subject=m.subject,
                raw=m.raw.decode("utf-8", errors="replace"),
            )
            for m in found
        ],
    )


@router.get("/setup/apex", response_model=ApexOut)
async def setup_apex(ws: str, request: Request, caller: Caller) -> ApexOut:
    """The Apex to install in Salesforce, with this workspace's webhook URL."""
    bundle = await apex.apex_bundle(deps_of(request), caller.check_workspace(ws))
    return ApexOut(
        named_credential=bundle.named_credential,
        webhook_url=bundle.webhook_url,
        instructions=bundle.instructions,
        files=[ApexFileOut(name=f.name, kind=f.kind, body=f.body) for f in bundle.files],
    )
