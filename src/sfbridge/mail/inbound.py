"""Receive customer email over SMTP and hand it, durably, to the service.

`InboundSmtpServer` runs inside the service's own event loop (see `listener`). It
does no parsing: it checks recipients, enforces the size limit and passes the raw
bytes to ``accept``, which must return only once the message is committed. Replies:

- RCPT to an address no workspace owns: ``550 5.1.1 Recipient address rejected: unknown mailbox``
- message over the limit (SIZE= on MAIL, or counted during DATA):
  ``552 5.3.4 Message size exceeds fixed limit``; SIZE is advertised in EHLO
- more than ``max_recipients`` recipients: ``452 4.5.3 Too many recipients``
- more than ``max_connections`` clients at once: ``421 4.7.0`` at connect, then closed
- ``accept`` (or the resolver) failed: ``451 4.3.0 Temporary failure, please retry``;
  the sending MTA keeps the message and retries, so nothing is lost
- stored: ``250 2.0.0 Ok: queued as <id>`` (several ids, space-separated, when the
  recipients belong to several workspaces: one `InboundEnvelope` per workspace)

A malformed message is still stored: parse errors are found later by the parser.
Overlong lines (beyond RFC 5321's 1,000 octets, common in the wild) are accepted up
to ``line_length_limit``.

A 451 after some workspaces already stored the message makes the sender retry the
whole transaction; `InboundEnvelope.digest` (identical on the retry) lets the store
ignore the copy. ``accept`` runs shielded from the client hanging up: once started,
the commit completes and `stop` waits for it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiosmtpd.smtp import SMTP, Envelope, Session

from sfbridge.mail.listener import SmtpListener, TransactionEnvelope

log = logging.getLogger(__name__)

UNKNOWN_MAILBOX = "550 5.1.1 Recipient address rejected: unknown mailbox"
TEMPORARY_FAILURE = "451 4.3.0 Temporary failure, please retry"
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"
DEFAULT_MAX_SIZE = 25 * 1024 * 1024
DEFAULT_LINE_LIMIT = 64 * 1024


@dataclass(frozen=True, kw_only=True, slots=True)
class InboundEnvelope:
    """One received message for one workspace, as it came off the wire.

    Attributes:
        workspace_id: The workspace owning the recipients below.
        mail_from: The reverse path; empty for a null sender (``MAIL FROM:<>``, bounces).
        rcpt_tos: The recipients of this workspace, as given in RCPT TO.
        raw: The message bytes, unparsed.
        peer: The client's address, ``host:port`` (``[v6]:port``).
        helo: The name the client gave in HELO/EHLO.
        tls: Whether the client used STARTTLS.
        received_at: When the DATA ended (UTC).
    """

    workspace_id: str
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    peer: str
    helo: str
    tls: bool
    received_at: dt.datetime

    @property
    def digest(self) -> str:
        """SHA-256 of `raw` (hex): the same on a sender's retry, a key to drop copies."""
        return hashlib.sha256(self.raw).hexdigest()


AcceptCallback = Callable[[InboundEnvelope], Awaitable[str]]
"""Persists one envelope durably and returns its id; raises to make the sender retry."""
RecipientResolver = Callable[[str], Awaitable[str | None]]
"""Maps a recipient address to its workspace id, or ``None`` when nobody owns it."""


class InboundSmtpServer:
    """The inbound SMTP listener, running on the caller's event loop.

    Args:
        host: Address to bind.
        port: Port to bind; 0 picks a free one (see `port`).
        accept: Stores one envelope durably; returns its id.
        resolve_recipient: Maps a recipient address to a workspace id (or ``None``).
        max_size_bytes: Largest message accepted.
        max_recipients: Most recipients in one transaction (RFC 5321 asks for 100).
        hostname: The name in the greeting; default: this machine's name.
        tls_context: Offer STARTTLS with this server context.
        line_length_limit: Longest line accepted in DATA.
        timeout: Seconds of client silence before the connection is closed.
        max_connections: More simultaneous clients are answered ``421`` (they retry).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        accept: AcceptCallback,
        resolve_recipient: RecipientResolver,
        max_size_bytes: int = DEFAULT_MAX_SIZE,
        max_recipients: int = 100,
        hostname: str | None = None,
        tls_context: ssl.SSLContext | None = None,
        line_length_limit: int = DEFAULT_LINE_LIMIT,
        timeout: float = 300.0,
        max_connections: int | None = 200,
    ) -> None:
        self._handler = _InboundHandler(
            accept=accept, resolve_recipient=resolve_recipient, max_recipients=max_recipients
        )
        self._listener = SmtpListener(
            host,
            port,
            handler=self._handler,
            data_size_limit=max_size_bytes,
            hostname=hostname or socket.gethostname(),
            line_length_limit=line_length_limit,
            tls_context=tls_context,
            max_connections=max_connections,
            smtp_options={"timeout": timeout},
        )

    @property
    def port(self) -> int:
        """The bound port."""
        return self._listener.port

    async def start(self) -> None:
        """Start listening on the running event loop.

        Raises:
            OSError: The address cannot be bound.
        """
        await self._listener.start()

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop listening, let in-flight ``accept`` calls finish, close connections.

        Args:
            grace: Seconds to wait for in-flight ``accept`` calls.
        """

        async def drain() -> None:
            await self._handler.drain(grace)

        await self._listener.stop(drain=drain)


class _InboundHandler:
    """aiosmtpd hooks: recipient check, then durable hand-off of the message."""

    def __init__(
        self, *, accept: AcceptCallback, resolve_recipient: RecipientResolver, max_recipients: int
    ) -> None:
        self._accept = accept
        self._resolve = resolve_recipient
        self._max_recipients = max_recipients
        self._inflight: set[asyncio.Task[str]] = set()

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        assert isinstance(envelope, TransactionEnvelope)
        if len(envelope.rcpt_tos) >= self._max_recipients:
            return TOO_MANY_RECIPIENTS
        try:
            workspace_id = await self._resolve(address)
        except Exception:
            log.exception("resolving recipient %s failed", address)
            return TEMPORARY_FAILURE
        if workspace_id is None:
            return UNKNOWN_MAILBOX
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        envelope.routes.setdefault(workspace_id, []).append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope, TransactionEnvelope)
        raw = envelope.original_content or b""
        received_at = dt.datetime.now(dt.UTC)
        mail_from = envelope.mail_from or ""
        ids: list[str] = []
        for workspace_id, rcpts in envelope.routes.items():
            item = InboundEnvelope(
                workspace_id=workspace_id,
                mail_from="" if mail_from == "<>" else mail_from,
                rcpt_tos=tuple(rcpts),
                raw=raw,
                peer=_format_peer(session.peer),
                helo=session.host_name or "",
                tls=session.ssl is not None,
                received_at=received_at,
            )
            task = asyncio.get_running_loop().create_task(self._call_accept(item))
            self._inflight.add(task)
            task.add_done_callback(self._finished)
            try:
                ids.append(await asyncio.shield(task))
            except Exception:
                return TEMPORARY_FAILURE  # logged by _finished
        return f"250 2.0.0 Ok: queued as {' '.join(ids)}"

    async def _call_accept(self, item: InboundEnvelope) -> str:
        return await self._accept(item)

    async def drain(self, grace: float) -> None:
        """Wait up to ``grace`` seconds for in-flight ``accept`` calls."""
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=grace)

    def _finished(self, task: asyncio.Task[str]) -> None:
        self._inflight.discard(task)
        if task.cancelled():
            log.error("accepting an inbound message was cancelled; the sender will retry")
            return
        exc = task.exception()
        if exc is not None:
            log.error(
                "accepting an inbound message failed; answered 451 so the sender retries",
                exc_info=exc,
            )


def _format_peer(peer: object) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        host, port = str(peer[0]), peer[1]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return str(peer)
