"""Send outgoing email: the `Mailer` port, an SMTP relay sender and the dev mailbox.

`SmtpMailer` opens one connection per message (EHLO, optional STARTTLS and AUTH,
MAIL/RCPT/DATA, QUIT) and translates every aiosmtplib, ssl and socket error into
`MailTemporaryError` (retry later) or `MailPermanentError` (do not retry). Once the
relay has answered DATA with 2xx, the send counts as done whatever happens at QUIT.

SMTP has one unavoidable gap: if the connection drops after the final dot and
before the relay's reply, the relay may have queued the message. The sender sees a
`MailTemporaryError` and retries; the retry carries the same Message-ID (and is
byte-identical when `OutgoingEmail.date` is fixed), so mail clients collapse it.

`DevMailbox` is the mailer used when no relay is configured: it renders the same
bytes and hands them to a store callback (the dev mailbox table) instead of a relay.
"""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from typing import Protocol

import aiosmtplib

from sfbridge.mail.compose import MailEnvelope, OutgoingEmail, build_mime, envelope_for
from sfbridge.mail.errors import (
    MailAuthenticationError,
    MailComposeError,
    MailDeliveryError,
    MailPermanentError,
    MailTemporaryError,
)

log = logging.getLogger(__name__)

DeliverCallback = Callable[[bytes, MailEnvelope], Awaitable[str]]
"""Stores one message in the dev mailbox; returns the stored message's id."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RefusedRecipient:
    """A recipient the relay refused while accepting the message for others.

    Attributes:
        address: The refused address.
        code: The relay's reply code.
        reply: The relay's reply text.
    """

    address: str
    code: int
    reply: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SendResult:
    """The outcome of a message the transport accepted.

    Attributes:
        message_id: The Message-ID of the message sent.
        transport: ``"smtp"`` or ``"dev-mailbox"``.
        accepted: Recipients the transport took.
        refused: Recipients refused while others were accepted (permanent for them).
        reply: The relay's final reply (e.g. ``2.0.0 Ok: queued as 4XyZ``) or the
            dev mailbox's stored id.
    """

    message_id: str
    transport: str
    accepted: tuple[str, ...]
    refused: tuple[RefusedRecipient, ...] = ()
    reply: str = ""


class Mailer(Protocol):
    """Anything that sends an `OutgoingEmail`."""

    async def send(self, message: OutgoingEmail) -> SendResult:
        """Send one message.

        Raises:
            MailComposeError: The message cannot be built.
            MailTemporaryError: Not sent now; retry later.
            MailPermanentError: Not sent and never will be; do not retry.
        """
        ...


class SmtpMailer:
    """Send mail through an SMTP relay (aiosmtplib), one connection per message.

    Args:
        host: The relay's host name or address.
        port: The relay's port (25, 587 with STARTTLS, 465 with ``use_tls``).
        username: The AUTH user name, or ``None`` for no authentication.
        password: The AUTH password; never logged or shown in ``repr``.
        starttls: True to require STARTTLS, False to never use it, None to use it
            when the relay offers it.
        timeout: Seconds allowed for each network step.
        use_tls: Connect with implicit TLS (port 465).
        tls_context: The TLS context (e.g. trusting a private CA); default: system CAs.
        local_hostname: The name we announce in EHLO; default: this machine's name.
    """

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        starttls: bool | None = None,
        timeout: float = 30.0,
        *,
        use_tls: bool = False,
        tls_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self.starttls = starttls
        self.timeout = timeout
        self.use_tls = use_tls
        self.tls_context = tls_context
        self.local_hostname = local_hostname or socket.gethostname()

    def __repr__(self) -> str:
        return (
            f"SmtpMailer(host={self.host!r}, port={self.port}, username={self.username!r}, "
            f"starttls={self.starttls!r}, use_tls={self.use_tls!r})"
        )

    async def send(self, message: OutgoingEmail) -> SendResult:
        """Render and send one message through the relay.

        Args:
            message: The message.

        Returns:
            What the relay accepted.

        Raises:
            MailComposeError: The message cannot be built.
            MailTemporaryError: 4xx reply, connection refused or dropped, timeout,
                TLS failure (`MailAuthenticationError` when AUTH was refused).
            MailPermanentError: 5xx reply to MAIL, every RCPT or DATA.
        """
        return await self.send_raw(build_mime(message), envelope_for(message))

    async def send_raw(self, raw: bytes, envelope: MailEnvelope) -> SendResult:
        """Send already-rendered bytes (e.g. kept in an outbox row) through the relay.

        Args:
            raw: The message bytes, as returned by `build_mime`.
            envelope: MAIL FROM and RCPT TO addresses.

        Returns:
            What the relay accepted.

        Raises:
            MailComposeError: An envelope address cannot be sent over SMTP.
            MailTemporaryError: See `send`.
            MailPermanentError: See `send`.
        """
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self._password,
            start_tls=False if self.use_tls else self.starttls,
            use_tls=self.use_tls,
            tls_context=self.tls_context,
            timeout=self.timeout,
            local_hostname=self.local_hostname,
        )
        try:
            async with client:
                errors, reply = await client.sendmail(
                    envelope.mail_from, list(envelope.rcpt_tos), raw
                )
        except (aiosmtplib.SMTPException, OSError) as exc:  # ssl errors are OSErrors
            raise _translate(exc, self.host, self.port) from exc
        except ValueError as exc:  # aiosmtplib refuses an unsafe address before sending
            raise MailComposeError(str(exc)) from exc
        refused = tuple(
            RefusedRecipient(address=addr, code=resp.code, reply=resp.message)
            for addr, resp in errors.items()
        )
        refused_set = {item.address for item in refused}
        return SendResult(
            message_id=_message_id_of(raw),
            transport="smtp",
            accepted=tuple(a for a in envelope.rcpt_tos if a not in refused_set),
            refused=refused,
            reply=reply,
        )


class DevMailbox:
    """The mailer used when no relay is configured: messages go to a local store.

    The message is rendered exactly as `SmtpMailer` would send it, then handed to
    ``deliver(raw, envelope)``, which stores it (the dev mailbox table) and returns
    its id. The store decides durability; an exception from it becomes a
    `MailTemporaryError`, so the outbox retries as with a failing relay.

    Args:
        deliver: The store callback.
    """

    def __init__(self, deliver: DeliverCallback) -> None:
        self._deliver = deliver

    async def send(self, message: OutgoingEmail) -> SendResult:
        """Render a message and store it in the dev mailbox.

        Args:
            message: The message.

        Returns:
            The result; ``reply`` holds the stored message's id.

        Raises:
            MailComposeError: The message cannot be built.
            MailTemporaryError: The store failed.
        """
        raw = build_mime(message)
        envelope = envelope_for(message)
        try:
            stored_id = await self._deliver(raw, envelope)
        except MailDeliveryError:
            raise
        except Exception as exc:
            log.exception("dev mailbox store failed")
            raise MailTemporaryError(f"dev mailbox store failed: {exc}") from exc
        return SendResult(
            message_id=_message_id_of(raw),
            transport="dev-mailbox",
            accepted=envelope.rcpt_tos,
            reply=stored_id,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredMail:
    """One message kept by `MemoryMailbox`.

    Attributes:
        id: Its id in the mailbox.
        raw: The bytes as they would have gone to a relay.
        envelope: Its SMTP envelope.
        message: ``raw`` parsed with ``policy.default``.
    """

    id: str
    raw: bytes
    envelope: MailEnvelope
    message: EmailMessage


@dataclass(kw_only=True)
class MemoryMailbox:
    """A dev mailbox store in memory, for tests and throwaway demos.

    Use its `deliver` as `DevMailbox`'s callback; read `messages` afterwards.
    """

    messages: list[StoredMail] = field(default_factory=list)

    async def deliver(self, raw: bytes, envelope: MailEnvelope) -> str:
        """Keep one message and return its id (``dev-1``, ``dev-2``, ...)."""
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(parsed, EmailMessage)
        stored = StoredMail(
            id=f"dev-{len(self.messages) + 1}", raw=raw, envelope=envelope, message=parsed
        )
        self.messages.append(stored)
        return stored.id


def _message_id_of(raw: bytes) -> str:
    headers = BytesHeaderParser(policy=policy.default).parsebytes(raw)
    return str(headers.get("Message-ID", "")).strip()


def _translate(exc: aiosmtplib.SMTPException | OSError, host: str, port: int) -> MailDeliveryError:
    """Map an aiosmtplib/ssl/socket failure to our tree (the only place that knows them)."""
    where = f"{host}:{port}"
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        first = codes[0] if codes else None
        if any(400 <= c < 500 for c in codes):
            return MailTemporaryError(f"{where} refused every recipient: {detail}", code=first)
        return MailPermanentError(f"{where} refused every recipient: {detail}", code=first)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return MailAuthenticationError(
            f"{where} refused our credentials: {exc.code} {exc.message}", code=exc.code
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        text = f"{where} replied {exc.code} {exc.message}"
        if 500 <= exc.code < 600:
            return MailPermanentError(text, code=exc.code)
        return MailTemporaryError(text, code=exc.code)
    # Refused/dropped connections, timeouts, TLS failures, STARTTLS not offered.
    return MailTemporaryError(f"{where}: {type(exc).__name__}: {exc}")
