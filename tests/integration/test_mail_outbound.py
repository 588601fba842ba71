"""SmtpMailer and DevMailbox against a real SMTP server (SmtpSink) on loopback."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
from collections.abc import AsyncIterator

import pytest
import trustme

from sfbridge.mail.compose import MailEnvelope, OutgoingEmail, build_mime
from sfbridge.mail.errors import (
    MailAuthenticationError,
    MailComposeError,
    MailPermanentError,
    MailTemporaryError,
)
from sfbridge.mail.outbound import DevMailbox, MemoryMailbox, SmtpMailer
from sfbridge.mail.sink import SmtpSink

DATE = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)


def reply(**changes: object) -> OutgoingEmail:
    values: dict[str, object] = {
        "from_address": "support@acme.example",
        "from_name": "Acme Support",
        "to": ("Zoë Kunde <zoe@customer.example>",),
        "subject": "Re: Commande n°42 – livraison retardée [#K3F9Q]",
        "text": "Bonjour Zoë,\n\nVotre colis part demain.\n\n— Léa\n",
        "message_id": "<sfb.outbox-7@acme.example>",
        "in_reply_to": "<CAF=abc123@mail.customer.example>",
        "references": ("<root-1@mail.customer.example>",),
        "date": DATE,
        "workspace_id": "ws-acme",
        "session_id": "sess-9",
    }
    values.update(changes)
    return OutgoingEmail(**values)  # type: ignore[arg-type]  # test builder over a dict


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as running:
        yield running


def mailer_for(sink: SmtpSink, **options: object) -> SmtpMailer:
    return SmtpMailer(
        sink.host,
        sink.port,
        starttls=False,
        timeout=5.0,
        local_hostname="test.local",
        **options,  # type: ignore[arg-type]  # test helper passing keyword options through
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_reply_arrives_threaded_with_utf8_headers(sink: SmtpSink) -> None:
    result = await mailer_for(sink).send(reply())

    [got] = await sink.wait_for(1)
    msg = got.message
    assert msg["Subject"] == "Re: Commande n°42 – livraison retardée [#K3F9Q]"
    assert msg["From"].addresses[0].display_name == "Acme Support"
    assert msg["To"].addresses[0].display_name == "Zoë Kunde"
    assert msg["Message-ID"] == "<sfb.outbox-7@acme.example>"
    assert msg["In-Reply-To"] == "<CAF=abc123@mail.customer.example>"
    assert str(msg["References"]).split() == [
        "<root-1@mail.customer.example>",
        "<CAF=abc123@mail.customer.example>",
    ]
    assert msg["X-Sfbridge-Workspace"] == "ws-acme"
    assert msg["X-Sfbridge-Session"] == "sess-9"
    assert msg["Auto-Submitted"] is None  # a rep's reply is a human message
    body = msg.get_body(("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == (
        "Bonjour Zoë,\n\nVotre colis part demain.\n\n— Léa\n"
    )
    assert got.mail_from == "support@acme.example"
    assert got.rcpt_tos == ("zoe@customer.example",)
    assert result.message_id == "<sfb.outbox-7@acme.example>"
    assert result.transport == "smtp"
    assert result.accepted == ("zoe@customer.example",)
    assert result.reply == f"2.0.0 Ok: queued as {got.queue_id}"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Bonjour Zoë,\n.\n..dots lead these lines\n", id="leading-dots"),
        pytest.param("plain ascii\n.\n", id="ascii-dot"),
        pytest.param("a" * 3000 + "\n", id="long-line"),
    ],
)
async def test_relay_receives_exactly_the_built_bytes(sink: SmtpSink, text: str) -> None:
    message = reply(text=text, html="<p>Bonjour <b>Zoë</b></p>", auto_generated=True)

    await mailer_for(sink).send(message)

    [got] = await sink.wait_for(1)
    assert got.raw == build_mime(message)
    assert got.message["Auto-Submitted"] == "auto-generated"
    html = got.message.get_body(("html",))
    assert html is not None
    assert html.get_content().strip() == "<p>Bonjour <b>Zoë</b></p>"


async def test_envelope_uses_bounce_address_and_bcc(sink: SmtpSink) -> None:
    message = reply(envelope_from="bounces+7@acme.example", bcc=("audit@acme.example",))

    await mailer_for(sink).send(message)

    [got] = await sink.wait_for(1)
    assert got.mail_from == "bounces+7@acme.example"
    assert got.rcpt_tos == ("zoe@customer.example", "audit@acme.example")
    assert "audit@acme.example" not in got.raw.decode()


async def test_refused_then_accepted_sends_exactly_once(sink: SmtpSink) -> None:
    sink.refuse_next(2, code=451)
    mailer = mailer_for(sink)

    for _ in range(2):
        with pytest.raises(MailTemporaryError) as caught:
            await mailer.send(reply())
        assert caught.value.code == 451
    await mailer.send(reply())

    assert sink.transactions == 3
    assert len(await sink.wait_for(1)) == 1


@pytest.mark.parametrize(
    ("stage", "code", "error"),
    [
        ("data", 451, MailTemporaryError),
        ("data", 452, MailTemporaryError),
        ("data", 554, MailPermanentError),
        ("data", 552, MailPermanentError),
        ("rcpt", 550, MailPermanentError),
        ("rcpt", 450, MailTemporaryError),
        ("mail", 421, MailTemporaryError),
        ("mail", 553, MailPermanentError),
    ],
)
async def test_refusals_map_to_temporary_or_permanent(
    sink: SmtpSink, stage: str, code: int, error: type[Exception]
) -> None:
    sink.refuse_next(1, code=code, stage=stage)  # type: ignore[arg-type]  # parametrized literal

    with pytest.raises(error) as caught:
        await mailer_for(sink).send(reply())

    assert getattr(caught.value, "code", None) == code
    assert sink.messages == []


async def test_one_refused_recipient_does_not_fail_the_others(sink: SmtpSink) -> None:
    sink.refuse_recipient("gone@customer.example", code=550)

    result = await mailer_for(sink).send(
        reply(to=("zoe@customer.example", "gone@customer.example"))
    )

    assert result.accepted == ("zoe@customer.example",)
    [refused] = result.refused
    assert (refused.address, refused.code) == ("gone@customer.example", 550)
    [got] = await sink.wait_for(1)
    assert got.rcpt_tos == ("zoe@customer.example",)


async def test_message_over_the_relay_size_limit_is_permanent() -> None:
    async with SmtpSink(max_size_bytes=1024) as sink:
        with pytest.raises(MailPermanentError) as caught:
            await mailer_for(sink).send(reply(text="long " * 1000))

        assert caught.value.code == 552
        assert sink.messages == []


async def test_connection_refused_is_temporary() -> None:
    mailer = SmtpMailer("127.0.0.1", free_port(), starttls=False, timeout=2.0)

    with pytest.raises(MailTemporaryError) as caught:
        await mailer.send(reply())

    assert caught.value.code is None


@pytest.mark.parametrize("stage", ["mail", "data"])
async def test_dropped_connection_is_temporary(sink: SmtpSink, stage: str) -> None:
    sink.drop_next(1, stage=stage)  # type: ignore[arg-type]  # parametrized literal

    with pytest.raises(MailTemporaryError):
        await mailer_for(sink).send(reply())

    await mailer_for(sink).send(reply())  # the relay is fine again
    assert len(await sink.wait_for(1)) == 1


async def test_silent_server_times_out_as_temporary() -> None:
    async def never_greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # hold the connection, say nothing
        writer.close()

    server = await asyncio.start_server(never_greet, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        mailer = SmtpMailer("127.0.0.1", port, starttls=False, timeout=0.5)
        with pytest.raises(MailTemporaryError):
            await asyncio.wait_for(mailer.send(reply()), 5)
    finally:
        server.close()


async def test_auth_with_good_credentials() -> None:
    async with SmtpSink(credentials=("relay-user", "s3cret")) as sink:
        await mailer_for(sink, username="relay-user", password="s3cret").send(reply())

        [got] = await sink.wait_for(1)
        assert got.authenticated_as == "relay-user"


async def test_auth_with_bad_credentials_is_authentication_error() -> None:
    async with SmtpSink(credentials=("relay-user", "s3cret")) as sink:
        mailer = mailer_for(sink, username="relay-user", password="wrong")

        with pytest.raises(MailAuthenticationError) as caught:
            await mailer.send(reply())

        assert isinstance(caught.value, MailTemporaryError)
        assert caught.value.code == 535
        assert "wrong" not in repr(mailer) and "wrong" not in str(caught.value)


async def test_unauthenticated_send_to_auth_relay_is_refused() -> None:
    async with SmtpSink(credentials=("relay-user", "s3cret")) as sink:
        with pytest.raises(MailPermanentError) as caught:
            await mailer_for(sink).send(reply())

        assert caught.value.code == 530


@pytest.fixture(scope="module")
def tls_pair() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    return server_ctx, client_ctx


async def test_starttls_required_and_used(tls_pair: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_ctx, client_ctx = tls_pair
    async with SmtpSink(tls_context=server_ctx, require_starttls=True) as sink:
        mailer = SmtpMailer(
            sink.host, sink.port, starttls=True, timeout=5.0, tls_context=client_ctx
        )

        await mailer.send(reply())

        [got] = await sink.wait_for(1)
        assert got.tls is True


async def test_implicit_tls(tls_pair: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_ctx, client_ctx = tls_pair
    async with SmtpSink(tls_context=server_ctx, implicit_tls=True) as sink:
        mailer = SmtpMailer(sink.host, sink.port, timeout=5.0, use_tls=True, tls_context=client_ctx)

        await mailer.send(reply())

        [got] = await sink.wait_for(1)
        assert got.tls is True


async def test_plain_client_against_implicit_tls_is_temporary(
    tls_pair: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_ctx, _ = tls_pair
    async with SmtpSink(tls_context=server_ctx, implicit_tls=True) as sink:
        with pytest.raises(MailTemporaryError):
            await SmtpMailer(sink.host, sink.port, starttls=False, timeout=1.0).send(reply())


async def test_starttls_with_untrusted_certificate_is_temporary(
    tls_pair: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_ctx, _ = tls_pair
    async with SmtpSink(tls_context=server_ctx, require_starttls=True) as sink:
        mailer = SmtpMailer(sink.host, sink.port, starttls=True, timeout=5.0)

        with pytest.raises(MailTemporaryError):
            await mailer.send(reply())

        assert sink.messages == []


async def test_starttls_required_but_not_offered_is_temporary(sink: SmtpSink) -> None:
    mailer = SmtpMailer(sink.host, sink.port, starttls=True, timeout=5.0)

    with pytest.raises(MailTemporaryError):
        await mailer.send(reply())


async def test_bad_message_fails_before_connecting() -> None:
    mailer = SmtpMailer("127.0.0.1", free_port(), starttls=False)

    with pytest.raises(MailComposeError):
        await mailer.send(reply(to=("not an address",)))


async def test_dev_mailbox_stores_the_rendered_message() -> None:
    box = MemoryMailbox()
    message = reply()

    result = await DevMailbox(box.deliver).send(message)

    [stored] = box.messages
    assert stored.raw == build_mime(message)
    assert stored.envelope == MailEnvelope(
        mail_from="support@acme.example", rcpt_tos=("zoe@customer.example",)
    )
    assert stored.message["In-Reply-To"] == "<CAF=abc123@mail.customer.example>"
    assert (result.transport, result.reply) == ("dev-mailbox", stored.id)
    assert result.message_id == "<sfb.outbox-7@acme.example>"


async def test_dev_mailbox_store_failure_is_temporary() -> None:
    async def broken(raw: bytes, envelope: MailEnvelope) -> str:
        raise RuntimeError("database is down")

    with pytest.raises(MailTemporaryError, match="database is down"):
        await DevMailbox(broken).send(reply())
