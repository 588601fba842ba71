"""Build outgoing MIME messages: threading headers, loop markers, UTF-8 bodies.

`build_mime` turns an `OutgoingEmail` value into the exact bytes handed to a relay.
Given the same value (including `date`), it returns the same bytes, so a retried send
is the same message with the same Message-ID.

Threading: our own Message-ID, In-Reply-To (the message answered) and References (the
chain, ending with In-Reply-To; trimmed to the first id plus the newest ones when very
long). Those three headers are written verbatim and folded only between ids: the stdlib
would otherwise turn an id longer than a line into an RFC 2047 encoded word, which
breaks threading in every mail client.

Loops: every message carries ``X-Sfbridge`` (and ``X-Sfbridge-Workspace`` /
``X-Sfbridge-Session`` when known) so our own mail coming back in is recognised, and ``X-Auto-Response-Suppress``
asks Exchange not to answer it with out-of-office notes. Automatic acknowledgments
(``auto_generated=True``) also carry ``Auto-Submitted: auto-generated`` (RFC 3834);
a rep's reply is a human message and never does.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import html as html_lib
import re
import uuid
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage

from sfbridge.mail.errors import MailComposeError
from sfbridge.mail.msgid import ascii_domain, normalise_message_id, references_chain

HEADER_OWN = "X-Sfbridge"
"""On every message we send (value ``human`` or ``auto-generated``); the inbound
classifier (``sfbridge.core.mailparse.OWN_HEADER``) treats it as a loop marker."""
HEADER_WORKSPACE = "X-Sfbridge-Workspace"
"""Header naming the workspace that sent the message (loop detection)."""
HEADER_SESSION = "X-Sfbridge-Session"
"""Header naming the conversation session the message belongs to (loop detection)."""

_MANAGED_HEADERS = frozenset(
    name.lower()
    for name in (
        "From",
        "To",
        "Cc",
        "Bcc",
        "Reply-To",
        "Subject",
        "Date",
        "Message-ID",
        "In-Reply-To",
        "References",
        "MIME-Version",
        "Content-Type",
        "Content-Transfer-Encoding",
        "Auto-Submitted",
        "X-Auto-Response-Suppress",
        HEADER_OWN,
        HEADER_WORKSPACE,
        HEADER_SESSION,
    )
)
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # printable ASCII except ':' (RFC 5322 ftext)
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw)\s*(\[\d+\])?\s*:", re.IGNORECASE)
_SERIALIZE = policy.SMTP.clone(refold_source="none")
_MAX_LINE = 998


@dataclass(frozen=True, kw_only=True, slots=True)
class OutgoingEmail:
    """An email we send: a rep's reply, an agent's message or an acknowledgment.

    Attributes:
        from_address: The sender mailbox, e.g. the workspace's support address.
        from_name: The sender's display name (may be empty).
        to: Recipients, each ``addr@example.com`` or ``Name <addr@example.com>``.
        subject: The subject line (newlines are folded into spaces).
        text: The plain-text body.
        html: An optional HTML alternative of the same content.
        message_id: Our Message-ID, ``<local@domain>`` (see `make_message_id`).
        in_reply_to: The Message-ID of the message answered, if any.
        references: The thread's Message-IDs, oldest first.
        extra_headers: More ``(name, value)`` headers; managed headers are refused.
        cc: Copy recipients (header and envelope).
        bcc: Blind copy recipients (envelope only).
        reply_to: An optional Reply-To mailbox.
        date: The Date header; ``None`` means now. Store it to make retries byte-identical.
        envelope_from: The SMTP MAIL FROM (bounce address); defaults to `from_address`.
        workspace_id: Written as ``X-Sfbridge-Workspace``.
        session_id: Written as ``X-Sfbridge-Session``.
        auto_generated: True for automatic messages (acknowledgments): adds
            ``Auto-Submitted: auto-generated``.
    """

    from_address: str
    from_name: str = ""
    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    message_id: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    extra_headers: tuple[tuple[str, str], ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    reply_to: str | None = None
    date: dt.datetime | None = None
    envelope_from: str | None = None
    workspace_id: str | None = None
    session_id: str | None = None
    auto_generated: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class MailEnvelope:
    """The SMTP envelope of one outgoing message.

    Attributes:
        mail_from: The reverse path (MAIL FROM).
        rcpt_tos: The forward paths (RCPT TO), bare addresses, deduplicated, in order.
    """

    mail_from: str
    rcpt_tos: tuple[str, ...]


def build_mime(msg: OutgoingEmail) -> bytes:
    """Render an outgoing email as RFC 5322 bytes with CRLF line endings.

    Args:
        msg: The message to render.

    Returns:
        The message bytes, ready for SMTP DATA.

    Raises:
        MailComposeError: A value cannot be put in a header (newline, bad address,
            malformed Message-ID, naive date, managed header in ``extra_headers``).
    """
    if not msg.to:
        raise MailComposeError("an email needs at least one To recipient")
    out = EmailMessage(policy=policy.default)
    date = msg.date or dt.datetime.now(dt.UTC)
    if date.tzinfo is None:
        raise MailComposeError("the Date must be timezone-aware")
    out["Date"] = email.utils.format_datetime(date)
    out["From"] = _mailbox(msg.from_address, msg.from_name)
    out["To"] = [_parse_mailbox(item) for item in msg.to]
    if msg.cc:
        out["Cc"] = [_parse_mailbox(item) for item in msg.cc]
    if msg.reply_to:
        out["Reply-To"] = _parse_mailbox(msg.reply_to)
    out["Subject"] = " ".join(msg.subject.split())
    out.set_raw("Message-ID", normalise_message_id(msg.message_id))
    if msg.in_reply_to:
        out.set_raw("In-Reply-To", normalise_message_id(msg.in_reply_to))
    chain = references_chain(msg.references, msg.in_reply_to)
    if chain:
        out.set_raw("References", "\r\n ".join(chain))
    if msg.auto_generated:
        out["Auto-Submitted"] = "auto-generated"
    out["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    out[HEADER_OWN] = "auto-generated" if msg.auto_generated else "human"
    for name, value in ((HEADER_WORKSPACE, msg.workspace_id), (HEADER_SESSION, msg.session_id)):
        if value is not None:
            out[name] = _header_value(name, value)
    for name, value in msg.extra_headers:
        _check_extra_header(name)
        out[name] = _header_value(name, value)
    _set_body(out, msg)
    return out.as_bytes(policy=_SERIALIZE)


def envelope_for(msg: OutgoingEmail) -> MailEnvelope:
    """Compute the SMTP envelope of a message: MAIL FROM and every recipient.

    Args:
        msg: The message.

    Returns:
        The envelope; recipients are To, Cc and Bcc, deduplicated case-insensitively.

    Raises:
        MailComposeError: An address cannot be parsed.
    """
    rcpts: dict[str, str] = {}
    for item in (*msg.to, *msg.cc, *msg.bcc):
        addr = _parse_mailbox(item).addr_spec
        rcpts.setdefault(addr.lower(), addr)
    sender = _parse_mailbox(msg.envelope_from or msg.from_address).addr_spec
    return MailEnvelope(mail_from=sender, rcpt_tos=tuple(rcpts.values()))


def reply_subject(subject: str) -> str:
    """Return the subject of a reply: ``Re: `` unless a reply prefix is already there.

    Args:
        subject: The subject of the message answered.

    Returns:
        ``Re: <subject>``, or the subject unchanged when it starts with Re:/AW:/SV:/Antw:.
    """
    clean = " ".join(subject.split())
    if _REPLY_PREFIX.match(clean):
        return clean
    return f"Re: {clean}" if clean else "Re:"


def subject_with_token(subject: str, token: str) -> str:
    """Append a thread token to a subject, unless it is already there.

    Args:
        subject: The subject line.
        token: The formatted token, e.g. ``[#K3F9Q]``.

    Returns:
        The subject with the token at its end.
    """
    clean = " ".join(subject.split())
    if token in clean:
        return clean
    return f"{clean} {token}".strip()


def text_with_token(text: str, token: str) -> str:
    """Append a thread token as the last line of a plain-text body, unless present.

    Args:
        text: The body.
        token: The formatted token line, e.g. ``Ref: [#K3F9Q]``.

    Returns:
        The body ending with a blank line and the token.
    """
    if token in text:
        return text
    return f"{text.rstrip()}\n\n{token}\n"


def html_with_token(html: str, token: str) -> str:
    """Append a thread token as a small footer paragraph of an HTML body, unless present.

    Args:
        html: The HTML body (a fragment or a full document).
        token: The token text; it is HTML-escaped.

    Returns:
        The HTML with the footer before ``</body>`` (or at the end).
    """
    escaped = html_lib.escape(token)
    if escaped in html:
        return html
    footer = f'<p style="color:#888888;font-size:small">{escaped}</p>'
    index = html.lower().rfind("</body>")
    if index < 0:
        return f"{html}\n{footer}"
    return f"{html[:index]}{footer}\n{html[index:]}"


def _set_body(out: EmailMessage, msg: OutgoingEmail) -> None:
    out.set_content(msg.text, charset="utf-8", cte=_cte_for(msg.text))
    if msg.html is None:
        return
    out.add_alternative(msg.html, subtype="html", charset="utf-8", cte=_cte_for(msg.html))
    # A boundary derived from the content keeps build_mime deterministic; "=_" cannot
    # occur in quoted-printable text, and 7bit parts are checked.
    seed = "\0".join((msg.message_id, msg.text, msg.html)).encode()
    boundary = "=_sfb_" + hashlib.sha256(seed).hexdigest()[:32]
    if boundary in msg.text or boundary in msg.html:
        boundary = f"=_sfb_{uuid.uuid4().hex}"
    out.set_boundary(boundary)


def _cte_for(body: str) -> str:
    plain = body.isascii() and all(len(line) <= _MAX_LINE for line in body.splitlines())
    return "7bit" if plain else "quoted-printable"


def _mailbox(address: str, name: str) -> Address:
    parsed = _parse_mailbox(address)
    return Address(
        display_name=" ".join(name.split()), username=parsed.username, domain=parsed.domain
    )


def _parse_mailbox(value: str) -> Address:
    if "\r" in value or "\n" in value:
        raise MailComposeError(f"address contains a line break: {value!r}")
    header = policy.default.header_factory("To", value)
    addresses: tuple[Address, ...] = getattr(header, "addresses", ())
    if len(addresses) != 1 or header.defects:
        raise MailComposeError(f"not a single valid mailbox: {value!r}")
    found: Address = addresses[0]
    if not found.username or not found.domain:
        raise MailComposeError(f"not a complete address: {value!r}")
    if not found.username.isascii():
        raise MailComposeError(f"non-ASCII mailbox names are not supported: {value!r}")
    return Address(
        display_name=found.display_name,
        username=found.username,
        domain=ascii_domain(found.domain),
    )


def _header_value(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise MailComposeError(f"header {name} contains a line break")
    return value


def _check_extra_header(name: str) -> None:
    if not _HEADER_NAME.match(name):
        raise MailComposeError(f"invalid header name: {name!r}")
    if name.lower() in _MANAGED_HEADERS:
        raise MailComposeError(f"header {name} is set by sfbridge, not by extra_headers")
