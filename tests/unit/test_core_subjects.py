"""Subjects: prefixes, tags, tokens, reply subjects."""

from __future__ import annotations

import pytest

from sfbridge.core.subjects import (
    clean_subject,
    has_prefix,
    is_forward,
    normalize_subject,
    reply_subject,
)

TOKEN = "[ref:SFB-7K3QX9M2TD]"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Printer broken", "Printer broken"),
        ("Re: Printer broken", "Printer broken"),
        ("RE: RE: re:Printer broken", "Printer broken"),
        ("Fwd: FW: Printer broken", "Printer broken"),
        ("AW: WG: Drucker defekt", "Drucker defekt"),
        ("SV: VS: Skrivaren", "Skrivaren"),
        ("Antw: Printer kapot", "Printer kapot"),
        ("TR: RE : Imprimante", "Imprimante"),
        ("RV: Impresora", "Impresora"),
        ("Re[2]: Printer broken", "Printer broken"),
        ("Re(3): Printer broken", "Printer broken"),
        ("Re：Printer broken", "Printer broken"),
        ("[External] Re: Printer broken", "Printer broken"),
        ("Re: [EXTERNAL] Printer broken", "Printer broken"),
        ("EXTERNAL: Printer broken", "Printer broken"),
        ("*EXTERNAL* RE: Printer broken", "Printer broken"),
        ("(External) Printer broken", "Printer broken"),
        ("Printer broken [SPAM]", "Printer broken"),
        (f"Re: Printer broken {TOKEN}", "Printer broken"),
        ("Re: Printer broken [ref:sfb-7k3qx9m2td]", "Printer broken"),
        ("  Printer \t  broken  ", "Printer broken"),
        ("Warning: printer on fire", "Warning: printer on fire"),
        ("Regarding: the printer", "Regarding: the printer"),
        ("Review of the printer", "Review of the printer"),
        ("Ticket [12345] printer", "Ticket [12345] printer"),
        ("Re:", ""),
        ("(no subject)", ""),
        ("Re: (no subject)", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_clean_subject(raw: str | None, clean: str) -> None:
    assert clean_subject(raw) == clean


@pytest.mark.parametrize(
    ("raw", "tags", "clean"),
    [
        ("[Partner] Re: Hello", ("Partner",), "Hello"),
        ("[External] Hello", (), "[External] Hello"),
        ("[Extern Mail] Hello", ("Extern Mail",), "Hello"),
    ],
)
def test_clean_subject_with_configured_tags(raw: str, tags: tuple[str, ...], clean: str) -> None:
    assert clean_subject(raw, tags=tags) == clean


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Re: Printer Broken", "printer broken"),
        ("AW: PRINTER BROKEN", "Fwd: printer   broken"),
        ("Straße kaputt", "STRASSE KAPUTT"),
        (f"RE: [External] Printer broken {TOKEN}", "printer broken"),
    ],
)
def test_normalize_subject_makes_equal_keys(left: str, right: str) -> None:
    assert normalize_subject(left) == normalize_subject(right) != ""


@pytest.mark.parametrize(
    ("raw", "forward", "prefixed"),
    [
        ("Fwd: Printer", True, True),
        ("WG: Drucker", True, True),
        ("TR: Imprimante", True, True),
        ("[External] FW: Printer", True, True),
        ("Re: Fwd: Printer", False, True),
        ("AW: Drucker", False, True),
        ("Printer", False, False),
        (f"{TOKEN} Printer", False, False),
        ("", False, False),
    ],
)
def test_forward_and_prefix_detection(raw: str, forward: bool, prefixed: bool) -> None:
    assert is_forward(raw) is forward
    assert has_prefix(raw) is prefixed


@pytest.mark.parametrize(
    ("raw", "token", "reply"),
    [
        ("Printer broken", None, "Re: Printer broken"),
        ("Re: Printer broken", None, "Re: Printer broken"),
        ("RE: AW: Re: Printer broken", None, "Re: Printer broken"),
        ("[External] Fwd: Printer broken", None, "Re: Printer broken"),
        (f"Re: Printer broken {TOKEN}", TOKEN, f"Re: Printer broken {TOKEN}"),
        ("Printer broken", TOKEN, f"Re: Printer broken {TOKEN}"),
        ("", None, "Re: (no subject)"),
    ],
)
def test_reply_subject_has_exactly_one_re(raw: str, token: str | None, reply: str) -> None:
    result = reply_subject(raw, token=token)
    assert result == reply
    assert reply_subject(result, token=token) == result
