"""Run aiosmtpd's SMTP protocol on the caller's running event loop.

aiosmtpd's ``Controller`` starts a second thread with its own loop; we run the
protocol directly on the service's loop instead (``loop.create_server``), so the
handlers can await the service's own database pool and nothing crosses threads.
`SmtpListener` also tracks open connections, so `stop` really closes them
(``Server.close`` in Python 3.11 leaves accepted connections running).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope

log = logging.getLogger(__name__)

SIZE_EXCEEDED = "552 5.3.4 Message size exceeds fixed limit"
TOO_MANY_CONNECTIONS = "421 4.7.0 Too many connections, try again later"
_AIOSMTPD_SIZE_REPLIES = (
    b"552 Error: message size exceeds fixed maximum message size",
    b"552 Error: Too much mail data",
)


class TransactionEnvelope(Envelope):
    """aiosmtpd's envelope plus what our handlers learn during one mail transaction.

    Attributes:
        routes: Accepted recipients grouped by the value their resolver returned
            (a workspace id for the inbound listener).
        fault: A fault chosen for this transaction by the test sink, if any.
    """

    def __init__(self) -> None:
        super().__init__()
        self.routes: dict[str, list[str]] = {}
        self.fault: object | None = None


class _Protocol(SMTP):
    """aiosmtpd's SMTP with connection tracking and RFC 3463 size replies."""

    def __init__(
        self,
        handler: object,
        *,
        connections: set[_Protocol],
        max_connections: int | None,
        line_length_limit: int,
        **kwargs: Any,
    ) -> None:
        self.line_length_limit = line_length_limit
        super().__init__(handler, **kwargs)
        self._connections = connections
        self._max_connections = max_connections
        self._turned_away = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        first = self.transport is None  # called again on the TLS transport after STARTTLS
        full = self._max_connections is not None and len(self._connections) >= self._max_connections
        if first and full and isinstance(transport, asyncio.WriteTransport):
            self._turned_away = True
            transport.write(TOO_MANY_CONNECTIONS.encode("ascii") + b"\r\n")
            transport.close()
            return
        self._connections.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._turned_away:
            return
        self._connections.discard(self)
        super().connection_lost(error)

    def _create_envelope(self) -> Envelope:
        return TransactionEnvelope()

    async def push(self, status: str | bytes) -> None:
        raw = status.encode("utf-8") if isinstance(status, str) else status
        if raw in _AIOSMTPD_SIZE_REPLIES:
            raw = SIZE_EXCEEDED.encode("ascii")
        await super().push(raw)

    def abort(self) -> None:
        """Drop the connection at once, without a reply."""
        if self.transport is not None:
            self.transport.abort()  # type: ignore[attr-defined]  # BaseTransport lacks it; ours is a stream


class SmtpListener:
    """An SMTP server bound on the running loop, serving one aiosmtpd handler.

    Args:
        host: Address to bind (``127.0.0.1``, ``0.0.0.0``, ``::``).
        port: Port to bind; 0 picks a free port (read `port` after `start`).
        handler: An aiosmtpd handler object (``handle_RCPT``, ``handle_DATA``, ...).
        data_size_limit: Largest message accepted, in bytes; advertised as SIZE.
        hostname: The name in the greeting and EHLO reply.
        line_length_limit: Longest DATA line accepted, in bytes.
        tls_context: Offer STARTTLS with this server context.
        implicit_tls: Speak TLS from the first byte (port 465 style) with ``tls_context``.
        max_connections: More simultaneous connections are answered ``421`` and closed.
        smtp_options: More keyword arguments for ``aiosmtpd.smtp.SMTP``.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        handler: object,
        data_size_limit: int | None,
        hostname: str,
        line_length_limit: int = SMTP.line_length_limit,
        tls_context: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        max_connections: int | None = None,
        smtp_options: dict[str, Any] | None = None,
    ) -> None:
        if implicit_tls and tls_context is None:
            raise ValueError("implicit TLS needs a tls_context")
        self.host = host
        self._requested_port = port
        self._handler = handler
        self._options: dict[str, Any] = {
            "data_size_limit": data_size_limit,
            "hostname": hostname,
            "enable_SMTPUTF8": True,
            "tls_context": None if implicit_tls else tls_context,
            **(smtp_options or {}),
        }
        self._implicit_tls = tls_context if implicit_tls else None
        self._max_connections = max_connections
        self._line_length_limit = line_length_limit
        self._server: asyncio.Server | None = None
        self._connections: set[_Protocol] = set()

    @property
    def port(self) -> int:
        """The bound port (the requested one, or the one picked for port 0)."""
        if self._server is None or not self._server.sockets:
            return self._requested_port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def connection_count(self) -> int:
        """How many SMTP connections are open now."""
        return len(self._connections)

    async def start(self) -> None:
        """Bind and start accepting connections on the running loop.

        Raises:
            OSError: The address cannot be bound (e.g. the port is taken).
        """
        if self._server is not None:
            return
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._make_protocol, host=self.host, port=self._requested_port, ssl=self._implicit_tls
        )
        log.info("SMTP listening on %s:%d", self.host, self.port)

    async def stop(self, *, drain: Callable[[], Awaitable[None]] | None = None) -> None:
        """Stop accepting connections, then close every open one.

        Args:
            drain: Awaited after the listening socket is closed and before open
                connections are dropped (e.g. to let in-flight work finish).
        """
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        if drain is not None:
            await drain()
        for protocol in list(self._connections):
            protocol.abort()
        await server.wait_closed()
        for _ in range(3):  # let connection_lost callbacks run
            if not self._connections:
                break
            await asyncio.sleep(0)

    def _make_protocol(self) -> _Protocol:
        return _Protocol(
            self._handler,
            connections=self._connections,
            max_connections=self._max_connections,
            line_length_limit=self._line_length_limit,
            loop=asyncio.get_running_loop(),
            **self._options,
        )
