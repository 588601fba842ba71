"""Building outgoing MIME: threading headers, loop markers, tokens, UTF-8 (pure)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from sfbridge.core import loops, mailparse, tokens
from sfbridge.mail.compose import (
    HEADER_OWN,
    MailEnvelope,
    OutgoingEmail,
    build_mime,
    envelope_for,
    html_with_token,
    reply_subject,
    subject_with_token,
    text_with_token,
)
from sfbridge.mail.errors import MailComposeError
from sfbridge.mail.msgid import (
    MAX_REFERENCES,
    make_message_id,
    normalise_message_id,
    references_chain,
)

BASE = OutgoingEmail(
    from_address="support@acme.example",
    from_name="Acme Support",
    to=("zoe@customer.example",),
    subject="Re: Parcel",
    text="On its way.\n",
    message_id="<sfb.1@acme.example>",
    date=dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC),
)


def parse(raw: bytes) -> EmailMessage:
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def header_block(raw: bytes) -> str:
    return raw.split(b"\r\n\r\n", 1)[0].decode("ascii")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<a@b.example>", "<a@b.example>"),
        ("a@b.example", "<a@b.example>"),
        ("  <CAF=x+y/z@mail.gmail.com>  ", "<CAF=x+y/z@mail.gmail.com>"),
        ("no-at-sign-but-seen-in-the-wild", "<no-at-sign-but-seen-in-the-wild>"),
    ],
)
def test_normalise_message_id(value: str, expected: str) -> None:
    assert normalise_message_id(value) == expected


@pytest.mark.parametrize(
    "value",
    ["", "<>", "a b@c", "a@b\r\nBcc: x@y", "<a@b", "é@b.example", "<<a@b>>", "x" * 901],
)
def test_normalise_message_id_refuses(value: str) -> None:
    with pytest.raises(MailComposeError):
        normalise_message_id(value)


@pytest.mark.parametrize(
    ("references", "in_reply_to", "expected"),
    [
        ((), None, ()),
        ((), "c@x", ("<c@x>",)),
        (("<a@x>", "<b@x>"), "<c@x>", ("<a@x>", "<b@x>", "<c@x>")),
        (("<a@x>", "<c@x>", "<b@x>"), "c@x", ("<a@x>", "<b@x>", "<c@x>")),
        (("<a@x>", "a@x", "<b@x>"), None, ("<a@x>", "<b@x>")),
    ],
)
def test_references_chain(
    references: tuple[str, ...], in_reply_to: str | None, expected: tuple[str, ...]
) -> None:
    assert references_chain(references, in_reply_to) == expected


def test_long_references_keep_the_root_and_the_newest() -> None:
    ids = tuple(f"<m{n}@x>" for n in range(50))

    chain = references_chain(ids, "<last@x>")

    assert len(chain) == MAX_REFERENCES
    assert chain[0] == "<m0@x>"
    assert chain[-2:] == ("<m49@x>", "<last@x>")


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Parcel", "Re: Parcel"),
        ("Re: Parcel", "Re: Parcel"),
        ("RE:Parcel", "RE:Parcel"),
        ("AW: Paket", "AW: Paket"),
        ("Re[2]: Parcel", "Re[2]: Parcel"),
        ("Fwd: Parcel", "Re: Fwd: Parcel"),
        ("Regarding parcel", "Re: Regarding parcel"),
        ("  two\r\n lines ", "Re: two lines"),
        ("", "Re:"),
    ],
)
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Parcel", "Re: Parcel [#K3F9Q]"),
        ("Re: Parcel [#K3F9Q]", "Re: Parcel [#K3F9Q]"),
        ("", "[#K3F9Q]"),
    ],
)
def test_subject_with_token(subject: str, expected: str) -> None:
    assert subject_with_token(subject, "[#K3F9Q]") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello.\n\n", "Hello.\n\nRef: [#K3F9Q]\n"),
        ("Hello.\nRef: [#K3F9Q]\n", "Hello.\nRef: [#K3F9Q]\n"),
    ],
)
def test_text_with_token(text: str, expected: str) -> None:
    assert text_with_token(text, "Ref: [#K3F9Q]") == expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            "<html><body><p>Hi</p></body></html>",
            '<html><body><p>Hi</p><p style="color:#888888;font-size:small">'
            "Ref: &lt;K3&gt;</p>\n</body></html>",
        ),
        ("<p>Hi</p>", '<p>Hi</p>\n<p style="color:#888888;font-size:small">Ref: &lt;K3&gt;</p>'),
        ("<p>Hi</p><p>Ref: &lt;K3&gt;</p>", "<p>Hi</p><p>Ref: &lt;K3&gt;</p>"),
    ],
)
def test_html_with_token(html: str, expected: str) -> None:
    assert html_with_token(html, "Ref: <K3>") == expected


def test_make_message_id_uses_a_safe_key_as_is() -> None:
    assert make_message_id(domain="acme.example", key="outbox-12") == (
        "<sfb.outbox-12@acme.example>"
    )


def test_make_message_id_hashes_an_unsafe_key() -> None:
    first = make_message_id(domain="acme.example", key="a/b c")

    assert first == make_message_id(domain="acme.example", key="a/b c")
    assert first != make_message_id(domain="acme.example", key="a:b c")
    assert first == normalise_message_id(first)
    assert "/" not in first


def test_make_message_id_random_and_idn() -> None:
    first = make_message_id(domain="bücher.example")
    assert first != make_message_id(domain="bücher.example")
    assert first.endswith("@xn--bcher-kva.example>")


def test_build_mime_threading_and_loop_headers() -> None:
    msg = dataclasses.replace(
        BASE,
        in_reply_to="<in-2@customer.example>",
        references=("<root@customer.example>",),
        workspace_id="ws-1",
        session_id="s-9",
    )

    parsed = parse(build_mime(msg))

    assert parsed["Message-ID"] == "<sfb.1@acme.example>"
    assert parsed["In-Reply-To"] == "<in-2@customer.example>"
    assert str(parsed["References"]).split() == [
        "<root@customer.example>",
        "<in-2@customer.example>",
    ]
    assert parsed["Date"] == "Mon, 06 May 2024 07:08:09 +0000"
    assert parsed["X-Sfbridge-Workspace"] == "ws-1"
    assert parsed["X-Sfbridge-Session"] == "s-9"
    assert parsed["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert parsed["Auto-Submitted"] is None
    assert parsed["X-Sfbridge"] == "human"
    assert parsed["MIME-Version"] == "1.0"


def test_acknowledgment_is_marked_auto_generated() -> None:
    parsed = parse(build_mime(dataclasses.replace(BASE, auto_generated=True)))

    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["X-Sfbridge"] == "auto-generated"


@pytest.mark.parametrize("auto_generated", [False, True])
def test_our_mail_coming_back_is_a_loop_for_the_core_classifier(auto_generated: bool) -> None:
    """Contract with sfbridge.core: whatever we send, the inbound side knows as ours."""
    raw = build_mime(dataclasses.replace(BASE, auto_generated=auto_generated))

    parsed = mailparse.parse_message(raw)
    found = loops.classify_automated(parsed)

    assert HEADER_OWN == mailparse.OWN_HEADER
    assert found is not None
    assert found.kind == loops.AutomationKind.LOOP


def test_token_helpers_carry_the_core_thread_token() -> None:
    token = tokens.make_thread_token("session-1", b"sixteen-byte-secret!")
    msg = dataclasses.replace(
        BASE,
        subject=subject_with_token(reply_subject("Parcel"), token),
        text=text_with_token("On its way.", token),
    )

    parsed = mailparse.parse_message(build_mime(msg))

    assert tokens.find_thread_tokens(parsed.subject) == [token]
    assert tokens.find_thread_tokens(parsed.text) == [token]


def test_long_message_ids_are_never_encoded_words() -> None:
    long_id = "<" + "x" * 120 + "@mail.customer.example>"
    msg = dataclasses.replace(
        BASE, in_reply_to=long_id, references=tuple(f"<r{n}@c.example>" for n in range(8))
    )

    raw = build_mime(msg)

    headers = header_block(raw)
    assert "=?" not in headers
    assert parse(raw)["In-Reply-To"] == long_id
    references_lines = [
        line for line in headers.split("\r\n") if line.startswith(("References", " <"))
    ]
    assert len(references_lines) == 9  # one id per line, folded between ids
    assert all(len(line) <= 78 or long_id in line for line in references_lines)


def test_utf8_subject_names_and_bodies_round_trip() -> None:
    msg = dataclasses.replace(
        BASE,
        from_name="Équipe Support – Zoë",
        to=("Jürgen Groß <jurgen@kunde.example>",),
        subject="Re: Bestellung über 100 € 🚚",
        text="Grüße aus Köln\n",
        html="<p>Grüße aus Köln</p>",
    )

    raw = build_mime(msg)

    assert raw.isascii()  # any relay can carry it, 8BITMIME or not
    parsed = parse(raw)
    assert parsed["Subject"] == "Re: Bestellung über 100 € 🚚"
    assert parsed["From"].addresses[0].display_name == "Équipe Support – Zoë"
    assert parsed["To"].addresses[0].display_name == "Jürgen Groß"
    plain = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == "Grüße aus Köln\n"
    assert "Grüße aus Köln" in html.get_content()


def test_lines_end_in_crlf_and_stay_short() -> None:
    raw = build_mime(dataclasses.replace(BASE, text="word " * 400 + "\n"))

    lines = raw.split(b"\r\n")
    assert b"\n" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 998


def test_same_value_same_bytes() -> None:
    msg = dataclasses.replace(BASE, html="<p>On its way.</p>")

    assert build_mime(msg) == build_mime(msg)


def test_subject_newlines_are_folded_into_spaces() -> None:
    parsed = parse(build_mime(dataclasses.replace(BASE, subject="Re: one\r\nBcc: evil@x.example")))

    assert parsed["Subject"] == "Re: one Bcc: evil@x.example"
    assert parsed["Bcc"] is None


def test_extra_headers_are_written() -> None:
    msg = dataclasses.replace(BASE, extra_headers=(("X-Case-Id", "500000000000001"),))

    assert parse(build_mime(msg))["X-Case-Id"] == "500000000000001"


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"to": ()}, id="no-recipient"),
        pytest.param({"to": ("not an address",)}, id="bad-to"),
        pytest.param({"to": ("a@x.example, b@x.example",)}, id="two-in-one"),
        pytest.param({"to": ("zoe@customer.example\r\nBcc: evil@x",)}, id="to-injection"),
        pytest.param({"to": ("jörg@kunde.example",)}, id="utf8-local-part"),
        pytest.param({"from_address": "support"}, id="bad-from"),
        pytest.param({"reply_to": "nobody"}, id="bad-reply-to"),
        pytest.param({"message_id": "has space@x"}, id="bad-message-id"),
        pytest.param({"in_reply_to": "<a@b"}, id="bad-in-reply-to"),
        pytest.param({"date": dt.datetime(2024, 1, 1)}, id="naive-date"),
        pytest.param({"session_id": "s1\r\nBcc: evil@x"}, id="header-injection"),
        pytest.param({"extra_headers": (("Message-ID", "<x@y>"),)}, id="managed-header"),
        pytest.param({"extra_headers": (("Bad Name", "v"),)}, id="bad-header-name"),
        pytest.param({"extra_headers": (("X-Ok", "v\nBcc: x"),)}, id="extra-injection"),
    ],
)
def test_build_mime_refuses(changes: dict[str, object]) -> None:
    msg = dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]  # parametrized fields

    with pytest.raises(MailComposeError):
        build_mime(msg)


def test_envelope_collects_recipients_once() -> None:
    msg = dataclasses.replace(
        BASE,
        to=("Zoe <zoe@customer.example>", "ops@münchen.example"),
        cc=("ZOE@customer.example", "boss@customer.example"),
        bcc=("audit@acme.example",),
        envelope_from="bounces@acme.example",
    )

    assert envelope_for(msg) == MailEnvelope(
        mail_from="bounces@acme.example",
        rcpt_tos=(
            "zoe@customer.example",
            "ops@xn--mnchen-3ya.example",
            "boss@customer.example",
            "audit@acme.example",
        ),
    )
    headers = header_block(build_mime(msg))
    assert "audit@acme.example" not in headers
    assert "Cc: ZOE@customer.example, boss@customer.example" in headers
