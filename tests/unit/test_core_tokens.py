"""Thread tokens and Message-IDs."""

from __future__ import annotations

import re

import pytest

from sfbridge.core.errors import CoreError
from sfbridge.core.threading import make_message_id
from sfbridge.core.tokens import find_thread_tokens, make_thread_token, verify_thread_token

SECRET = b"0123456789abcdef-workspace-key"
OTHER = b"fedcba9876543210-another-key!!"


def test_token_shape_is_short_and_stable() -> None:
    token = make_thread_token("session-1", SECRET)
    assert re.fullmatch(r"\[ref:SFB-[0-9A-HJKMNP-TV-Z]{10}\]", token)
    assert make_thread_token("session-1", SECRET) == token
    assert make_thread_token("session-2", SECRET) != token
    assert make_thread_token("session-1", OTHER) != token


def test_tokens_of_many_sessions_do_not_collide() -> None:
    tokens = {make_thread_token(f"s{i}", SECRET) for i in range(5000)}
    assert len(tokens) == 5000


@pytest.mark.parametrize(
    ("session_id", "secret"),
    [("", SECRET), ("s1", b""), ("s1", b"short")],
)
def test_make_thread_token_refuses_bad_input(session_id: str, secret: bytes) -> None:
    with pytest.raises(CoreError):
        make_thread_token(session_id, secret)


def _spellings(token: str) -> list[str]:
    code = token[len("[ref:SFB-") : -1]
    return [
        token,
        token.lower(),
        f"ref:SFB-{code}",
        f"[ ref : SFB-{code} ]",
        f"[ref:SFB{code}]",
    ]


def test_find_accepts_tolerant_spellings() -> None:
    token = make_thread_token("session-1", SECRET)
    for spelling in _spellings(token):
        assert find_thread_tokens(f"Re: Hello {spelling} thanks") == [token], spelling


def test_find_reads_confusable_letters() -> None:
    token = "[ref:SFB-0123456789]"
    assert find_thread_tokens("[ref:SFB-O123456789]") == [token]
    assert find_thread_tokens("[ref:SFB-0I23456789]") == [token]
    assert find_thread_tokens("[ref:SFB-0L23456789]") == [token]


@pytest.mark.parametrize(
    "text",
    [
        "no token here",
        "[ref:SFB-123]",
        "[ref:SFB-0123456789AB]",
        "xref:SFB-0123456789",
        "[ref:SFB-UUUUUUUUUU]",
        "[ref:ABC-0123456789]",
    ],
)
def test_find_ignores_non_tokens(text: str) -> None:
    assert find_thread_tokens(text) == []


def test_find_returns_each_token_once_in_order() -> None:
    first = make_thread_token("a", SECRET)
    second = make_thread_token("b", SECRET)
    text = f"{second} quoted {first} and again {second.lower()}"
    assert find_thread_tokens(text) == [second, first]


@pytest.mark.parametrize(
    ("session_id", "secret", "old", "valid"),
    [
        ("session-1", SECRET, (), True),
        ("session-2", SECRET, (), False),
        ("session-1", OTHER, (), False),
        ("session-1", OTHER, (SECRET,), True),
        ("", SECRET, (), False),
    ],
)
def test_verify(session_id: str, secret: bytes, old: tuple[bytes, ...], valid: bool) -> None:
    token = make_thread_token("session-1", SECRET)
    assert verify_thread_token(token, session_id, secret, old_secrets=old) is valid
    assert verify_thread_token(token.lower(), session_id, secret, old_secrets=old) is valid


def test_verify_rejects_garbage() -> None:
    assert not verify_thread_token("hello", "session-1", SECRET)


@pytest.mark.parametrize("domain", ["acme.test", "mail.example.com", "localhost", "ACME.TEST"])
def test_make_message_id(domain: str) -> None:
    first = make_message_id(domain)
    assert re.fullmatch(rf"<sfb\.[0-9a-f]{{32}}@{re.escape(domain.lower())}>", first)
    assert make_message_id(domain) != first


@pytest.mark.parametrize(
    "domain", ["", "acme test", "<acme.test>", "a@b.c", "-acme.test", "acme..test"]
)
def test_make_message_id_refuses_bad_domains(domain: str) -> None:
    with pytest.raises(CoreError):
        make_message_id(domain)
