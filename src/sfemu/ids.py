"""Salesforce record ids: 15/18-character forms, checksums and minting.

A 15-character id is case-sensitive base-62: a 3-character key prefix (the object type),
a 2-character pod, one reserved character and a 9-character record number. The 18-character
form appends a 3-character checksum that encodes where the upper-case letters are, so the id
survives case-insensitive systems. The API accepts both and always returns 18.
"""

from __future__ import annotations

import string

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_ALNUM = frozenset(_BASE62)


#: Upper-case letters -> "1", everything else -> "0": a bit string of where capitals are.
_UPPER_BITS = str.maketrans(
    {c: ("1" if "A" <= c <= "Z" else "0") for c in string.digits + string.ascii_letters}
)


def _suffix(id15: str) -> str:
    # Chunk k of 5 chars gives bit i for char i (first char = bit 0): read it reversed.
    bits = id15.translate(_UPPER_BITS)
    return (
        _SUFFIX_ALPHABET[int(bits[4::-1], 2)]
        + _SUFFIX_ALPHABET[int(bits[9:4:-1], 2)]
        + _SUFFIX_ALPHABET[int(bits[14:9:-1], 2)]
    )


def to18(id15: str) -> str:
    """The 18-character form of a 15-character id.

    Args:
        id15: a 15-character id (an 18-character id is accepted and re-derived from its
            first 15 characters).

    Raises:
        ValueError: when the id is not 15 or 18 base-62 characters.
    """
    if len(id15) not in (15, 18) or not _ALNUM.issuperset(id15):
        raise ValueError(f"not a Salesforce id: {id15!r}")
    return id15[:15] + _suffix(id15[:15])


def is_valid(record_id: object, prefix: str | None = None) -> bool:
    """True when ``record_id`` is a well-formed id (checksum included) with that key prefix."""
    if not isinstance(record_id, str) or len(record_id) not in (15, 18):
        return False
    if not _ALNUM.issuperset(record_id):
        return False
    if len(record_id) == 18 and record_id[15:] != _suffix(record_id[:15]):
        return False
    return prefix is None or record_id.startswith(prefix)


def normalize(record_id: str) -> str:
    """The 18-character form of a 15- or 18-character id.

    Raises:
        ValueError: on a wrong length, a non base-62 character or a bad checksum.
    """
    if not is_valid(record_id):
        raise ValueError(f"not a Salesforce id: {record_id!r}")
    return to18(record_id)


def try_normalize(record_id: object) -> str | None:
    """Like :func:`normalize`, but None instead of an exception."""
    if not isinstance(record_id, str) or not is_valid(record_id):
        return None
    return record_id if len(record_id) == 18 else record_id + _suffix(record_id)


def key_prefix(record_id: str) -> str:
    """The 3-character key prefix naming the object type."""
    return record_id[:3]


def base62(number: int, width: int) -> str:
    """``number`` in base 62 (``0-9A-Za-z``), left-padded with zeros to ``width``."""
    if number < 0:
        raise ValueError("negative number")
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(_BASE62[rest])
    text = "".join(reversed(digits)) or "0"
    if len(text) > width:
        raise ValueError(f"{number} does not fit in {width} base-62 digits")
    return text.rjust(width, "0")


class IdFactory:
    """Mints ids as ``prefix + pod + "0" + 9-char base-62 counter``, returned in 18 chars.

    Counters are per key prefix and never go back (as in Salesforce, a rolled-back insert
    burns its id).
    """

    def __init__(self, pod: str = "5g", counters: dict[str, int] | None = None) -> None:
        if len(pod) != 2 or not _ALNUM.issuperset(pod):
            raise ValueError(f"pod must be 2 base-62 characters: {pod!r}")
        self.pod = pod
        self.counters: dict[str, int] = dict(counters or {})

    def mint(self, prefix: str) -> str:
        """A new 18-character id for the object with key prefix ``prefix``."""
        if len(prefix) != 3 or not _ALNUM.issuperset(prefix):
            raise ValueError(f"key prefix must be 3 base-62 characters: {prefix!r}")
        number = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = number
        return to18(prefix + self.pod + "0" + base62(number, 9))
