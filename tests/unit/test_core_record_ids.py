"""Record ids: the checksum against real ids (reference section 4), and normalisation."""

from __future__ import annotations

import pytest

from sfbridge.core import record_ids
from sfbridge.core.errors import CoreError

# Real 15-character ids and the suffix Salesforce gives them.
REAL = [
    ("00558000001N0Ke", "AAK"),
    ("a00B000000FSkcv", "IAD"),
    ("001B000001Lp1Fx", "IAJ"),
    ("0037Q000007vKjp", "QAE"),
    ("500xx000000bpkT", "AAQ"),
    ("001D000000IqhSL", "IAZ"),
    ("00Dx0000000BV7z", "EAG"),
    ("005x00000012Q9P", "AAU"),
]


@pytest.mark.parametrize(("id15", "suffix"), REAL)
def test_checksum_of_real_ids(id15: str, suffix: str) -> None:
    assert record_ids.checksum(id15) == suffix


@pytest.mark.parametrize(("id15", "suffix"), REAL)
def test_to18_adds_the_checksum_and_keeps_a_right_18(id15: str, suffix: str) -> None:
    assert record_ids.to18(id15) == id15 + suffix
    assert record_ids.to18(id15 + suffix) == id15 + suffix


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("  500xx000000bpkT ", "500xx000000bpkTAAQ"),  # whitespace from a query string
        ("a00B000000FSjVUIB1", None),  # wrong suffix: Salesforce says MALFORMED_ID
        ("a00B000000FSjVUIA1", "a00B000000FSjVUIA1"),  # its valid form
        ("500xx000000bpkTAA", None),  # 17 characters
        ("500xx000000bpk", None),  # 14 characters
        ("500xx000000bpkTAAQX", None),  # 19 characters
        ("500xx000000bp-T", None),  # not base 62
        ("", None),
        ("500xx000000bpkt", "500xx000000bpktAAA"),  # case matters: another record
    ],
)
def test_to18_table(given: str, expected: str | None) -> None:
    assert record_ids.to18(given) == expected


@pytest.mark.parametrize("bad", ["", "500xx000000bpkTAAQ", "500xx000000bp-T", "short"])
def test_checksum_refuses_what_is_not_a_15_character_id(bad: str) -> None:
    with pytest.raises(CoreError):
        record_ids.checksum(bad)
