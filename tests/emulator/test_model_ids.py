import pytest

from sfemu import ids

REAL_IDS = [
    ("00558000001N0Ke", "00558000001N0KeAAK"),
    ("a00B000000FSkcv", "a00B000000FSkcvIAD"),
    ("001B000001Lp1Fx", "001B000001Lp1FxIAJ"),
    ("0037Q000007vKjp", "0037Q000007vKjpQAE"),
    ("500xx000000bpkT", "500xx000000bpkTAAQ"),
    ("001D000000IqhSL", "001D000000IqhSLIAZ"),
    ("00Dx0000000BV7z", "00Dx0000000BV7zEAG"),
    ("005x00000012Q9P", "005x00000012Q9PAAU"),
]


@pytest.mark.parametrize(("id15", "id18"), REAL_IDS)
def test_to18_matches_real_ids(id15: str, id18: str) -> None:
    assert ids.to18(id15) == id18
    assert ids.normalize(id15) == id18
    assert ids.normalize(id18) == id18


@pytest.mark.parametrize(
    ("value", "prefix", "valid"),
    [
        ("a00B000000FSjVUIA1", None, True),
        ("a00B000000FSjVUIB1", None, False),  # the recorded MALFORMED_ID case
        ("a00B000000FSjVU", None, True),
        ("a00B000000FSjVU", "a00", True),
        ("a00B000000FSjVU", "001", False),
        ("001B000001Lp1Fx!", None, False),
        ("001B000001Lp1F", None, False),
        ("001B000001Lp1F-x", None, False),
        ("", None, False),
        (None, None, False),
        (12345, None, False),
    ],
)
def test_is_valid(value: object, prefix: str | None, valid: bool) -> None:
    assert ids.is_valid(value, prefix) is valid


@pytest.mark.parametrize("bad", ["a00B000000FSjVUIB1", "short", "001B000001Lp1F$x", ""])
def test_normalize_rejects_bad_ids(bad: str) -> None:
    with pytest.raises(ValueError, match="not a Salesforce id"):
        ids.normalize(bad)
    assert ids.try_normalize(bad) is None


@pytest.mark.parametrize(
    ("number", "width", "text"),
    [(0, 3, "000"), (61, 2, "0z"), (62, 2, "10"), (62**3 - 1, 3, "zzz")],
)
def test_base62(number: int, width: int, text: str) -> None:
    assert ids.base62(number, width) == text


def test_base62_overflow_is_an_error() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        ids.base62(62**3, 3)


def test_factory_mints_valid_sequential_ids_per_prefix() -> None:
    factory = ids.IdFactory(pod="5g")
    first, second = factory.mint("500"), factory.mint("500")
    other = factory.mint("001")
    assert first == ids.to18("5005g0000000001")
    assert second == ids.to18("5005g0000000002")
    assert other == ids.to18("0015g0000000001")
    assert all(ids.is_valid(i) and len(i) == 18 for i in (first, second, other))
    assert factory.counters == {"500": 2, "001": 1}


@pytest.mark.parametrize(("pod", "prefix"), [("5", "500"), ("5g", "50"), ("5g", "5!0")])
def test_factory_rejects_bad_shapes(pod: str, prefix: str) -> None:
    with pytest.raises(ValueError, match="base-62"):
        ids.IdFactory(pod=pod).mint(prefix)
