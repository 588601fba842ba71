"""Phone numbers in one shape: E.164 (``+14155550100``), via ``phonenumbers``.

Stored numbers come typed every which way ("(415) 555-0100", "0049 30/1234567",
"tel:+44-20-7946-0958"); comparing them needs one form. A number is accepted when it is
valid (an assigned range), or, written with an international prefix, when it has a
possible length (ranges newer than the library's metadata). A national number that is not
valid in ``default_region`` is refused rather than guessed. Extensions are dropped.
"""

from __future__ import annotations

import re

import phonenumbers

__all__ = ["digits", "normalize_phone"]

_MAX_INPUT = 64
_INTERNATIONAL_SOURCES = frozenset(
    {
        phonenumbers.CountryCodeSource.FROM_NUMBER_WITH_PLUS_SIGN,
        phonenumbers.CountryCodeSource.FROM_NUMBER_WITH_IDD,
    }
)


def digits(raw: str | None) -> str:
    """Return only the digits of ``raw`` (any script's digits as ASCII), or ``""``."""
    if not raw:
        return ""
    return "".join(str(int(char)) for char in raw if char.isdecimal())


def normalize_phone(raw: str | None, default_region: str = "US") -> str | None:
    """Return ``raw`` in E.164, or ``None`` when it is not a phone number.

    Args:
        raw: the number as typed; ``tel:`` URIs, ``00`` and ``+`` international prefixes,
            national trunk prefixes, letters-free punctuation and extensions are handled.
        default_region: ISO 3166 region for numbers written without a country code.
    """
    if not raw:
        return None
    text = raw.strip()
    if len(text) > _MAX_INPUT:
        return None
    text = re.sub(r"^tel:", "", text, flags=re.IGNORECASE).split(";")[0]
    if len(digits(text)) < 3:
        return None
    try:
        number = phonenumbers.parse(text, default_region.upper() or None, keep_raw_input=True)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        international = number.country_code_source in _INTERNATIONAL_SOURCES
        possible = (
            phonenumbers.is_possible_number_with_reason(number)
            == phonenumbers.ValidationResult.IS_POSSIBLE
        )
        if not (international and possible):
            return None
    number = phonenumbers.PhoneNumber(
        country_code=number.country_code,
        national_number=number.national_number,
        italian_leading_zero=number.italian_leading_zero,
        number_of_leading_zeros=number.number_of_leading_zeros,
    )
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
