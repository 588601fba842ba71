"""SOSL term parsing and matching (pure, table-driven)."""

from __future__ import annotations

import pytest

from sfemu import sosl_terms
from sfemu.model import ApiError


def matches(term: str, *values: tuple[str, str]) -> bool:
    parsed = sosl_terms.parse(term)
    return sosl_terms.evaluate(parsed, lambda word: sosl_terms.word_matches(word, values))


@pytest.mark.parametrize(
    ("term", "values", "expected"),
    [
        ("acme", [("name", "Acme Corp")], True),
        ("ACME", [("name", "acme corp")], True),
        ("acm", [("name", "Acme Corp")], False),
        ("acm*", [("name", "Acme Corp")], True),
        ("a*e", [("name", "Acme Corp")], True),
        ("ac?e", [("name", "Acme Corp")], True),
        ("ac?", [("name", "Acme Corp")], False),
        ("corp acme", [("name", "Acme Corp")], True),
        ('"corp acme"', [("name", "Acme Corp")], False),
        ('"acme corp"', [("name", "Acme Corp Ltd")], True),
        ("acme ltd", [("name", "Acme"), ("text", "Ltd")], True),
        ('"acme ltd"', [("name", "Acme"), ("text", "Ltd")], False),
        ("acme OR zeta", [("name", "Zeta")], True),
        ("acme AND zeta", [("name", "Zeta")], False),
        ("zeta AND NOT acme", [("name", "Zeta")], True),
        ("NOT acme", [("name", "Zeta")], True),
        ("(acme OR zeta) AND corp", [("name", "Zeta Corp")], True),
        ("jane@example.com", [("email", "Jane@Example.com")], True),
        ("jane@example.com", [("email", "june@example.com")], False),
        ("café", [("name", "Café Rouge")], True),
        (r"a\-b", [("name", "a-b")], True),
        (r"xy\*", [("name", "xyz")], False),
        (r"xy\*", [("name", "xy*")], True),
        # Phone fields: digits only, suffix either way, seven digits at least.
        ("4155550100", [("phone", "(415) 555-0100")], True),
        ("(415) 555-0100", [("phone", "+1 415.555.0100")], True),
        ("+1 (415) 555-0100", [("phone", "555-0100")], True),
        ("5550100", [("phone", "(415) 555-0100")], True),
        ("550100", [("phone", "(415) 555-0100")], False),
        ("4155550100", [("phone", "0100")], False),
        ("4155550101", [("phone", "(415) 555-0100")], False),
        ("4155550100", [("text", "call 415 555 0100")], False),
        ("555 0100", [("text", "call 415 555 0100")], True),
    ],
)
def test_matching(term: str, values: list[tuple[str, str]], expected: bool) -> None:
    assert matches(term, *values) is expected


@pytest.mark.parametrize(
    ("term", "needle"),
    [
        ("", "No search term found"),
        ("   ", "No search term found"),
        ("a", "longer than one character"),
        ("*", "longer than one character"),
        ("(acme", "missing ')'"),
        ('"acme', "unmatched quote"),
        ("acme OR", "ends with an operator"),
        ("OR acme", "unexpected operator"),
        ("acme)", "unexpected token"),
        ("acme\\", "ends with a backslash"),
    ],
)
def test_parse_errors(term: str, needle: str) -> None:
    with pytest.raises(ApiError) as err:
        sosl_terms.parse(term)
    assert err.value.error_code == "MALFORMED_SEARCH"
    assert needle in err.value.message
