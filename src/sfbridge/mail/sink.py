"""A real SMTP server on loopback that records what it receives, with fault switches.

Tests and benchmarks point `SmtpMailer` (or the whole service) at an `SmtpSink` to
see exactly what would have reached a relay, and to make the relay misbehave:

    async with SmtpSink() as sink:
        sink.refuse_next(2, code=451)           # the next two transactions get 451
        ...                                      # the service retries
        [message] = await sink.wait_for(1)
        assert message.message["In-Reply-To"] == "<...>"

Faults are chosen per mail transaction, in the order they were queued; each queued
transaction consumes one. A ``refuse`` fault answers its stage (MAIL, RCPT or the end
of DATA) with the given code; a ``drop`` fault closes the connection at its stage
without a reply (at ``data``: after the whole message was received, the case where
the sender cannot know whether it was queued).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import itertools
import ssl
from collections import deque
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from types import TracebackType
from typing import Literal, Self

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from sfbridge.mail.listener import SmtpListener, TransactionEnvelope

Stage = Literal["mail", "rcpt", "data"]


@dataclass(frozen=True, kw_only=True, slots=True)
class SinkMessage:
    """A message the sink accepted.

    Attributes:
        mail_from: The reverse path (empty for ``MAIL FROM:<>``).
        rcpt_tos: The recipients.
        raw: The message bytes as received.
        message: ``raw`` parsed with ``email.policy.default``.
        peer: The client's address.
        authenticated_as: The AUTH user name, if the client authenticated.
        tls: Whether the transaction ran over TLS (STARTTLS or implicit).
        queue_id: The id the sink put in its 250 reply.
        received_at: When the DATA ended (UTC).
    """

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage
    peer: str
    authenticated_as: str | None
    tls: bool
    queue_id: str
    received_at: dt.datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class _Fault:
    action: Literal["refuse", "drop"]
    stage: Stage
    reply: str


class SmtpSink:
    """A recording SMTP server on the running event loop.

    Args:
        host: Address to bind.
        port: Port to bind; 0 picks a free one (see `port`).
        credentials: ``(user, password)`` to require AUTH (PLAIN/LOGIN; allowed
            without TLS, since the sink only serves tests).
        tls_context: Offer STARTTLS with this server context.
        require_starttls: Refuse mail before STARTTLS.
        implicit_tls: Speak TLS from the first byte (port 465 style) with ``tls_context``.
        max_size_bytes: Largest message accepted (advertised as SIZE).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        credentials: tuple[str, str] | None = None,
        tls_context: ssl.SSLContext | None = None,
        require_starttls: bool = False,
        implicit_tls: bool = False,
        max_size_bytes: int | None = 10 * 1024 * 1024,
    ) -> None:
        self.messages: list[SinkMessage] = []
        self.transactions = 0
        """Mail transactions started (MAIL FROM seen), including refused ones."""
        self._faults: deque[_Fault] = deque()
        self._refused_rcpts: dict[str, str] = {}
        self._credentials = credentials
        self._implicit_tls = implicit_tls
        self._ids = itertools.count(1)
        self._arrived = asyncio.Condition()
        options: dict[str, object] = {"require_starttls": require_starttls, "timeout": 30}
        if credentials is not None:
            # AUTH is offered without TLS (loopback tests); handle_MAIL demands it.
            options |= {
                "auth_require_tls": False,
                "authenticator": self._authenticate,
            }
        self._listener = SmtpListener(
            host,
            port,
            handler=self,
            data_size_limit=max_size_bytes,
            hostname="sink.sfbridge.test",
            tls_context=tls_context,
            implicit_tls=implicit_tls,
            smtp_options=options,
        )

    @property
    def host(self) -> str:
        """The bound address."""
        return self._listener.host

    @property
    def port(self) -> int:
        """The bound port."""
        return self._listener.port

    async def start(self) -> None:
        """Start listening on the running loop."""
        await self._listener.start()

    async def stop(self) -> None:
        """Stop listening and drop open connections."""
        await self._listener.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def refuse_next(
        self, count: int = 1, *, code: int = 451, reply: str | None = None, stage: Stage = "data"
    ) -> None:
        """Refuse the next ``count`` transactions with ``code`` at ``stage``.

        Args:
            count: How many transactions to refuse.
            code: A 4xx or 5xx reply code.
            reply: The reply text; default: a generic one for the code.
            stage: ``mail`` (MAIL FROM), ``rcpt`` (every RCPT TO) or ``data`` (end of DATA).
        """
        if not 400 <= code < 600:
            raise ValueError(f"a refusal needs a 4xx or 5xx code, not {code}")
        text = reply or ("4.3.0 Sink says try again later" if code < 500 else "5.7.1 Sink says no")
        self._faults.extend(
            _Fault(action="refuse", stage=stage, reply=f"{code} {text}") for _ in range(count)
        )

    def refuse_recipient(self, address: str, *, code: int = 550, reply: str | None = None) -> None:
        """Always refuse RCPT TO for one address (others in the same message go through).

        Args:
            address: The address to refuse (compared case-insensitively).
            code: A 4xx or 5xx reply code.
            reply: The reply text; default: a generic one for the code.
        """
        if not 400 <= code < 600:
            raise ValueError(f"a refusal needs a 4xx or 5xx code, not {code}")
        text = reply or ("4.2.1 Mailbox busy" if code < 500 else "5.1.1 No such user")
        self._refused_rcpts[address.lower()] = f"{code} {text}"

    def drop_next(self, count: int = 1, *, stage: Stage = "data") -> None:
        """Drop the connection, without a reply, in the next ``count`` transactions.

        Args:
            count: How many transactions to cut.
            stage: ``mail``, ``rcpt`` or ``data`` (after the whole message arrived).
        """
        self._faults.extend(_Fault(action="drop", stage=stage, reply="") for _ in range(count))

    def clear(self) -> None:
        """Forget received messages, pending faults and the transaction count."""
        self.messages.clear()
        self._faults.clear()
        self._refused_rcpts.clear()
        self.transactions = 0

    async def wait_for(self, count: int, within: float = 5.0) -> list[SinkMessage]:
        """Wait until at least ``count`` messages arrived.

        Args:
            count: How many messages to wait for.
            within: Seconds before giving up.

        Returns:
            The messages received so far (at least ``count``).

        Raises:
            TimeoutError: Fewer messages arrived in time.
        """
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(lambda: len(self.messages) >= count)
        return list(self.messages)

    # aiosmtpd hooks ---------------------------------------------------------------

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        assert isinstance(envelope, TransactionEnvelope)
        self.transactions += 1
        if self._credentials is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.fault = self._faults.popleft() if self._faults else None
        outcome = await self._fault_at(server, envelope, "mail")
        if outcome is not None:
            return outcome
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        assert isinstance(envelope, TransactionEnvelope)
        outcome = await self._fault_at(server, envelope, "rcpt")
        if outcome is not None:
            return outcome
        refused = self._refused_rcpts.get(address.lower())
        if refused is not None:
            return refused
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope, TransactionEnvelope)
        outcome = await self._fault_at(server, envelope, "data")
        if outcome is not None:
            return outcome
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)  # policy.default builds EmailMessage
        queue_id = f"SINK{next(self._ids):06d}"
        mail_from = envelope.mail_from or ""
        record = SinkMessage(
            mail_from="" if mail_from == "<>" else mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=raw,
            message=parsed,
            peer=str(session.peer),
            authenticated_as=_login_name(session),
            tls=self._implicit_tls or session.ssl is not None,
            queue_id=queue_id,
            received_at=dt.datetime.now(dt.UTC),
        )
        async with self._arrived:
            self.messages.append(record)
            self._arrived.notify_all()
        return f"250 2.0.0 Ok: queued as {queue_id}"

    async def _fault_at(
        self, server: SMTP, envelope: TransactionEnvelope, stage: Stage
    ) -> str | None:
        fault = envelope.fault
        if not isinstance(fault, _Fault) or fault.stage != stage:
            return None
        if fault.action == "refuse":
            return fault.reply
        assert server.transport is not None
        server.transport.abort()  # type: ignore[attr-defined]  # a socket transport
        await asyncio.sleep(3600)  # cancelled by connection_lost at once
        return None  # pragma: no cover

    def _authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: object,
    ) -> AuthResult:
        if self._credentials is None or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = self._credentials
        ok = auth_data.login == user.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def _login_name(session: Session) -> str | None:
    data: object = getattr(session, "auth_data", None)  # aiosmtpd types it as None
    if isinstance(data, LoginPassword):
        return data.login.decode("utf-8", "replace")
    return None
