"""The inbound SMTP listener, driven by Python's smtplib over loopback."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import pytest
import trustme

from sfbridge.mail.inbound import InboundEnvelope, InboundSmtpServer

MAILBOXES = {
    "help@acme.example": "ws-acme",
    "sales@acme.example": "ws-acme",
    "support@globex.example": "ws-globex",
}
LIMIT = 64 * 1024
T = TypeVar("T")


def message(subject: str = "Order 42", body: str = "Where is my parcel?") -> bytes:
    return (
        "From: Zoe <zoe@customer.example>\r\n"
        "To: help@acme.example\r\n"
        f"Subject: {subject}\r\n"
        "Message-ID: <m1@customer.example>\r\n"
        "\r\n"
        f"{body}\r\n"
    ).encode()


@dataclass
class Store:
    """The accept callback's side: commits envelopes, can be told to fail."""

    saved: list[InboundEnvelope] = field(default_factory=list)
    failures: int = 0
    delay: float = 0.0
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def accept(self, envelope: InboundEnvelope) -> str:
        self.started.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures:
            self.failures -= 1
            raise RuntimeError("database unavailable")
        self.saved.append(envelope)
        return f"IN{len(self.saved)}"


async def resolve(address: str) -> str | None:
    return MAILBOXES.get(address.lower())


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
async def server(store: Store) -> AsyncIterator[InboundSmtpServer]:
    listener = InboundSmtpServer(
        "127.0.0.1",
        0,
        accept=store.accept,
        resolve_recipient=resolve,
        max_size_bytes=LIMIT,
        max_recipients=5,
        hostname="mx.sfbridge.test",
    )
    await listener.start()
    yield listener
    await listener.stop()


def client(server: InboundSmtpServer) -> smtplib.SMTP:
    return smtplib.SMTP("127.0.0.1", server.port, local_hostname="client.test", timeout=10)


async def in_thread(fn: Callable[[], T]) -> T:
    return await asyncio.to_thread(fn)


async def test_message_is_accepted_and_handed_over(server: InboundSmtpServer, store: Store) -> None:
    raw = message()

    def send() -> tuple[int, bytes]:
        with client(server) as smtp:
            smtp.ehlo()
            smtp.mail("zoe@customer.example")
            smtp.rcpt("Help@Acme.example")
            return smtp.data(raw)

    code, text = await in_thread(send)

    assert (code, text) == (250, b"2.0.0 Ok: queued as IN1")
    [saved] = store.saved
    assert saved.workspace_id == "ws-acme"
    assert saved.mail_from == "zoe@customer.example"
    assert saved.rcpt_tos == ("Help@Acme.example",)
    assert saved.raw == raw
    assert saved.helo == "client.test"
    assert saved.peer.startswith("127.0.0.1:")
    assert saved.received_at.tzinfo is not None
    assert saved.tls is False
    assert len(saved.digest) == 64


async def test_unknown_recipient_gets_550(server: InboundSmtpServer, store: Store) -> None:
    def send() -> None:
        with client(server) as smtp:
            smtp.sendmail("zoe@customer.example", ["nobody@acme.example"], message())

    with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
        await in_thread(send)

    assert caught.value.recipients == {
        "nobody@acme.example": (550, b"5.1.1 Recipient address rejected: unknown mailbox")
    }
    assert store.saved == []


async def test_known_recipients_go_through_beside_unknown(
    server: InboundSmtpServer, store: Store
) -> None:
    def send() -> dict[str, tuple[int, bytes]]:
        with client(server) as smtp:
            return smtp.sendmail(
                "zoe@customer.example", ["nobody@acme.example", "help@acme.example"], message()
            )

    refused = await in_thread(send)

    assert list(refused) == ["nobody@acme.example"]
    [saved] = store.saved
    assert saved.rcpt_tos == ("help@acme.example",)


async def test_one_envelope_per_workspace(server: InboundSmtpServer, store: Store) -> None:
    rcpts = ["help@acme.example", "support@globex.example", "sales@acme.example"]

    def send() -> tuple[int, bytes]:
        with client(server) as smtp:
            smtp.ehlo()
            smtp.mail("zoe@customer.example")
            for rcpt in rcpts:
                smtp.rcpt(rcpt)
            return smtp.data(message())

    code, text = await in_thread(send)

    assert (code, text) == (250, b"2.0.0 Ok: queued as IN1 IN2")
    routed = {saved.workspace_id: saved.rcpt_tos for saved in store.saved}
    assert routed == {
        "ws-acme": ("help@acme.example", "sales@acme.example"),
        "ws-globex": ("support@globex.example",),
    }
    assert store.saved[0].raw == store.saved[1].raw


async def test_ehlo_advertises_size(server: InboundSmtpServer) -> None:
    def ehlo() -> str | None:
        with client(server) as smtp:
            smtp.ehlo()
            return smtp.esmtp_features.get("size")

    assert await in_thread(ehlo) == str(LIMIT)


async def test_declared_oversize_is_refused_at_mail_from(
    server: InboundSmtpServer, store: Store
) -> None:
    big = message(body="x" * 70 + ("\r\n" + "x" * 70) * 1000)

    def send() -> None:
        with client(server) as smtp:
            smtp.sendmail("zoe@customer.example", ["help@acme.example"], big)

    with pytest.raises(smtplib.SMTPSenderRefused) as caught:
        await in_thread(send)

    assert (caught.value.smtp_code, caught.value.smtp_error) == (
        552,
        b"5.3.4 Message size exceeds fixed limit",
    )
    assert store.saved == []


async def test_undeclared_oversize_is_refused_after_data(
    server: InboundSmtpServer, store: Store
) -> None:
    big = message(body="x" * 70 + ("\r\n" + "x" * 70) * 1000)

    def send() -> tuple[int, bytes]:
        with client(server) as smtp:
            smtp.ehlo()
            smtp.mail("zoe@customer.example")  # no SIZE= parameter
            smtp.rcpt("help@acme.example")
            return smtp.data(big)

    assert await in_thread(send) == (552, b"5.3.4 Message size exceeds fixed limit")
    assert store.saved == []


async def test_failed_accept_answers_451_and_the_retry_lands_once(
    server: InboundSmtpServer, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    store.failures = 1

    def send() -> dict[str, tuple[int, bytes]]:
        with client(server) as smtp:
            return smtp.sendmail("zoe@customer.example", ["help@acme.example"], message())

    with caplog.at_level(logging.ERROR, logger="sfbridge.mail.inbound"):
        with pytest.raises(smtplib.SMTPDataError) as caught:
            await in_thread(send)
        await asyncio.sleep(0)

    assert (caught.value.smtp_code, caught.value.smtp_error) == (
        451,
        b"4.3.0 Temporary failure, please retry",
    )
    assert store.saved == []
    assert any("451" in record.getMessage() for record in caplog.records)

    assert await in_thread(send) == {}  # the sending MTA retries
    assert len(store.saved) == 1


async def test_failing_resolver_answers_451_at_rcpt(store: Store) -> None:
    async def broken(address: str) -> str | None:
        raise RuntimeError("database unavailable")

    listener = InboundSmtpServer(
        "127.0.0.1", 0, accept=store.accept, resolve_recipient=broken, hostname="mx.test"
    )
    await listener.start()
    try:

        def send() -> None:
            with client(listener) as smtp:
                smtp.sendmail("zoe@customer.example", ["help@acme.example"], message())

        with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
            await in_thread(send)
        assert caught.value.recipients["help@acme.example"][0] == 451
    finally:
        await listener.stop()


async def test_too_many_recipients_get_452(server: InboundSmtpServer, store: Store) -> None:
    def send() -> list[int]:
        with client(server) as smtp:
            smtp.ehlo()
            smtp.mail("zoe@customer.example")
            codes = [smtp.rcpt("help@acme.example")[0] for _ in range(6)]
            smtp.data(message())
            return codes

    assert await in_thread(send) == [250, 250, 250, 250, 250, 452]
    assert len(store.saved[0].rcpt_tos) == 5


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"no headers at all, just text\r\n", id="no-headers"),
        pytest.param(
            b"Subject: caf\xe9 latin-1\r\nFrom: <<<broken\r\n\r\n\xff\xfe body\r\n", id="8bit"
        ),
        pytest.param(b"Subject: long\r\n\r\n" + b"y" * 5000 + b"\r\n", id="overlong-line"),
        pytest.param(
            b"Content-Type: multipart/mixed; boundary=zzz\r\n\r\n--zzz\r\n", id="cut-mime"
        ),
    ],
)
async def test_malformed_message_is_stored_as_is(
    server: InboundSmtpServer, store: Store, raw: bytes
) -> None:
    def send() -> dict[str, tuple[int, bytes]]:
        with client(server) as smtp:
            return smtp.sendmail("zoe@customer.example", ["help@acme.example"], raw)

    assert await in_thread(send) == {}
    assert [saved.raw for saved in store.saved] == [raw]


async def test_null_sender_is_accepted_as_empty(server: InboundSmtpServer, store: Store) -> None:
    def send() -> dict[str, tuple[int, bytes]]:
        with client(server) as smtp:
            return smtp.sendmail("<>", ["help@acme.example"], message(subject="Undelivered"))

    assert await in_thread(send) == {}
    assert store.saved[0].mail_from == ""


async def test_burst_of_100_messages(server: InboundSmtpServer, store: Store) -> None:
    def sender(worker: int) -> None:
        with client(server) as smtp:
            for n in range(10):
                smtp.sendmail(
                    f"c{worker}@customer.example",
                    ["help@acme.example"],
                    message(subject=f"burst {worker}-{n}"),
                )

    await asyncio.gather(*(asyncio.to_thread(sender, w) for w in range(10)))

    assert len(store.saved) == 100
    assert len({saved.digest for saved in store.saved}) == 100


async def test_accept_completes_when_client_hangs_up(
    server: InboundSmtpServer, store: Store
) -> None:
    store.delay = 0.3

    def send_and_vanish() -> None:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            stream = sock.makefile("rwb")
            stream.readline()
            for line in (
                b"EHLO client.test",
                b"MAIL FROM:<zoe@customer.example>",
                b"RCPT TO:<help@acme.example>",
                b"DATA",
            ):
                stream.write(line + b"\r\n")
                stream.flush()
                while stream.readline()[3:4] == b"-":
                    pass
            stream.write(message() + b".\r\n")
            stream.flush()

    await in_thread(send_and_vanish)  # closes before the 250
    await store.started.wait()
    await asyncio.sleep(0.5)

    assert len(store.saved) == 1


async def test_stop_waits_for_in_flight_accept(store: Store) -> None:
    store.delay = 0.3
    listener = InboundSmtpServer(
        "127.0.0.1", 0, accept=store.accept, resolve_recipient=resolve, hostname="mx.test"
    )
    await listener.start()

    def send() -> None:
        with client(listener) as smtp:
            smtp.sendmail("zoe@customer.example", ["help@acme.example"], message())

    sending = asyncio.ensure_future(in_thread(send))
    await store.started.wait()
    await listener.stop()

    assert len(store.saved) == 1
    await asyncio.gather(sending, return_exceptions=True)
    with pytest.raises(OSError):
        await in_thread(lambda: client(listener).close())


async def test_starttls_is_offered_and_used(store: Store) -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    listener = InboundSmtpServer(
        "127.0.0.1",
        0,
        accept=store.accept,
        resolve_recipient=resolve,
        hostname="mx.test",
        tls_context=server_ctx,
        max_connections=1,  # the TLS upgrade is the same connection, not a second one
    )
    await listener.start()
    try:

        def send() -> dict[str, tuple[int, bytes]]:
            with client(listener) as smtp:
                smtp.starttls(context=client_ctx)
                return smtp.sendmail("zoe@customer.example", ["help@acme.example"], message())

        assert await in_thread(send) == {}
        assert store.saved[0].tls is True
    finally:
        await listener.stop()


async def test_leading_dots_survive_transparency(server: InboundSmtpServer, store: Store) -> None:
    raw = b"Subject: dots\r\n\r\n.\r\n..two\r\n.three\r\n"

    def send() -> dict[str, tuple[int, bytes]]:
        with client(server) as smtp:
            return smtp.sendmail("zoe@customer.example", ["help@acme.example"], raw)

    assert await in_thread(send) == {}
    assert store.saved[0].raw == raw


async def test_connections_over_the_limit_get_421(store: Store) -> None:
    listener = InboundSmtpServer(
        "127.0.0.1",
        0,
        accept=store.accept,
        resolve_recipient=resolve,
        hostname="mx.test",
        max_connections=1,
    )
    await listener.start()
    try:
        first = await in_thread(lambda: client(listener))
        with pytest.raises(smtplib.SMTPConnectError) as caught:
            await in_thread(lambda: client(listener))
        assert caught.value.smtp_code == 421
        await in_thread(first.quit)
        await asyncio.sleep(0.05)

        def send() -> dict[str, tuple[int, bytes]]:
            with client(listener) as smtp:
                return smtp.sendmail("zoe@customer.example", ["help@acme.example"], message())

        assert await in_thread(send) == {}
    finally:
        await listener.stop()


async def test_port_in_use_fails_to_start(server: InboundSmtpServer, store: Store) -> None:
    second = InboundSmtpServer(
        "127.0.0.1", server.port, accept=store.accept, resolve_recipient=resolve, hostname="mx"
    )

    with pytest.raises(OSError):
        await second.start()


async def test_start_and_stop_are_idempotent(store: Store) -> None:
    listener = InboundSmtpServer(
        "127.0.0.1", 0, accept=store.accept, resolve_recipient=resolve, hostname="mx"
    )
    await listener.start()
    port = listener.port
    await listener.start()
    assert listener.port == port
    await listener.stop()
    await listener.stop()
