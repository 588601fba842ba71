"""Phone normalisation to E.164."""

from __future__ import annotations

import pytest

from sfbridge.core.phones import digits, normalize_phone


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("(415) 555-0100", "US", "+14155550100"),
        ("415.555.0100", "US", "+14155550100"),
        ("415-555-0100 ext. 12", "US", "+14155550100"),
        ("+1 415 555 0100", "DE", "+14155550100"),
        ("011 44 20 7946 0958", "US", "+442079460958"),
        ("tel:+44-20-7946-0958", "US", "+442079460958"),
        ("TEL:+44-20-7946-0958;ext=1", "US", "+442079460958"),
        ("0049 30/1234567", "DE", "+49301234567"),
        ("030 1234567", "DE", "+49301234567"),
        ("030 / 123 45 67", "de", "+49301234567"),
        ("+39 06 1234 5678", "US", "+390612345678"),
        ("+44 7400 123456", "US", "+447400123456"),
        ("１２１２５５５０１００", "US", "+12125550100"),
        ("030 1234567", "US", None),
        ("555-0100", "US", None),
        ("12", "US", None),
        ("", "US", None),
        (None, "US", None),
        ("call me maybe", "US", None),
        ("+999 1234", "US", None),
        ("1" * 100, "US", None),
    ],
)
def test_normalize_phone(raw: str | None, region: str, e164: str | None) -> None:
    assert normalize_phone(raw, region) == e164


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+1 (415) 555-0100", "14155550100"),
        ("٠١٢٣", "0123"),
        ("no digits", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_digits(raw: str | None, expected: str) -> None:
    assert digits(raw) == expected
