"""The SMTP test sink itself: recording and fault switches, seen by a plain SMTP client."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator

import aiosmtplib
import pytest

from sfbridge.mail.sink import SmtpSink

RAW = b"From: a@x.example\r\nTo: b@y.example\r\nSubject: hi\r\n\r\nbody\r\n"


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with SmtpSink(max_size_bytes=4096) as running:
        yield running


async def send(sink: SmtpSink, rcpts: list[str] | None = None, raw: bytes = RAW) -> str:
    async with aiosmtplib.SMTP(hostname=sink.host, port=sink.port, start_tls=False) as client:
        _, reply = await client.sendmail("a@x.example", rcpts or ["b@y.example"], raw)
        return reply


async def test_records_envelope_raw_and_parsed_message(sink: SmtpSink) -> None:
    reply = await send(sink)

    [got] = await sink.wait_for(1)
    assert (got.mail_from, got.rcpt_tos, got.raw) == ("a@x.example", ("b@y.example",), RAW)
    assert got.message["Subject"] == "hi"
    assert reply == f"2.0.0 Ok: queued as {got.queue_id}"
    assert (got.tls, got.authenticated_as) == (False, None)


@pytest.mark.parametrize(
    ("stage", "code", "error"),
    [
        ("mail", 421, aiosmtplib.SMTPSenderRefused),
        ("rcpt", 550, aiosmtplib.SMTPRecipientsRefused),
        ("data", 451, aiosmtplib.SMTPDataError),
        ("data", 554, aiosmtplib.SMTPDataError),
    ],
)
async def test_refuse_next_answers_at_its_stage_then_recovers(
    sink: SmtpSink, stage: str, code: int, error: type[Exception]
) -> None:
    sink.refuse_next(1, code=code, stage=stage)  # type: ignore[arg-type]  # parametrized literal

    with pytest.raises(error) as caught:
        await send(sink)
    await send(sink)

    codes = [r.code for r in getattr(caught.value, "recipients", [])] or [
        getattr(caught.value, "code", None)
    ]
    assert codes == [code]
    assert sink.transactions == 2
    assert len(sink.messages) == 1


async def test_faults_are_consumed_in_order(sink: SmtpSink) -> None:
    sink.refuse_next(1, code=451, reply="4.4.1 first")
    sink.drop_next(1, stage="data")

    with pytest.raises(aiosmtplib.SMTPDataError, match=r"4\.4\.1 first"):
        await send(sink)
    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        await send(sink)
    await send(sink)

    assert sink.transactions == 3
    assert len(sink.messages) == 1


async def test_drop_at_rcpt_cuts_the_connection(sink: SmtpSink) -> None:
    sink.drop_next(1, stage="rcpt")

    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        await send(sink)

    assert sink.messages == []


async def test_refused_recipient_leaves_the_others(sink: SmtpSink) -> None:
    sink.refuse_recipient("Gone@Y.example")

    reply = await send(sink, ["gone@y.example", "b@y.example"])

    assert reply.startswith("2.0.0 Ok")
    assert sink.messages[0].rcpt_tos == ("b@y.example",)


async def test_oversize_message_is_refused_with_552(sink: SmtpSink) -> None:
    with pytest.raises(aiosmtplib.SMTPResponseException) as caught:
        await send(sink, raw=RAW + b"x" * 5000 + b"\r\n")

    assert caught.value.code == 552
    assert caught.value.message == "5.3.4 Message size exceeds fixed limit"


async def test_null_sender_is_recorded_empty(sink: SmtpSink) -> None:
    def bounce() -> None:
        with smtplib.SMTP(sink.host, sink.port) as client:
            client.sendmail("<>", ["b@y.example"], RAW)

    await asyncio.to_thread(bounce)

    assert sink.messages[0].mail_from == ""


async def test_wait_for_times_out(sink: SmtpSink) -> None:
    with pytest.raises(TimeoutError):
        await sink.wait_for(1, within=0.05)


async def test_clear_forgets_messages_faults_and_counts(sink: SmtpSink) -> None:
    await send(sink)
    sink.refuse_next(3)
    sink.refuse_recipient("b@y.example")

    sink.clear()
    await send(sink)

    assert sink.transactions == 1
    assert len(sink.messages) == 1


@pytest.mark.parametrize("code", [250, 354, 399, 600])
def test_refusals_need_an_error_code(code: int) -> None:
    sink = SmtpSink()

    with pytest.raises(ValueError, match="4xx or 5xx"):
        sink.refuse_next(code=code)
    with pytest.raises(ValueError, match="4xx or 5xx"):
        sink.refuse_recipient("a@x.example", code=code)
