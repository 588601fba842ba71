"""Salesforce record ids: the 15-character form and the case-safe 18-character form.

An 18-character id is the 15-character id (case-sensitive base 62) plus a 3-character
checksum of where its capital letters are. The API accepts either and always returns 18,
but Apex's ``String.valueOf(id)`` and old reports may hand out 15, so ids from outside are
compared in their 18-character form.
"""

from __future__ import annotations

import re

from sfbridge.core.errors import CoreError

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")


def checksum(id15: str) -> str:
    """The 3-character suffix that makes a 15-character id case-safe.

    Each group of 5 characters gives one letter: bit ``i`` is set when its ``i``-th
    character is an upper-case letter.

    Raises:
        CoreError: ``id15`` is not 15 alphanumeric characters.
    """
    if len(id15) != 15 or not _ID.match(id15):
        raise CoreError(f"{id15!r} is not a 15-character record id.", field="id")
    chunks = (id15[k : k + 5] for k in range(0, 15, 5))
    return "".join(
        _SUFFIX_ALPHABET[sum(1 << i for i, c in enumerate(chunk) if "A" <= c <= "Z")]
        for chunk in chunks
    )


def to18(record_id: str) -> str | None:
    """The 18-character form of a record id, or ``None`` when ``record_id`` is not one.

    A 15-character id gets its checksum; an 18-character id is returned as is when its
    checksum is right (``None`` when it is not: Salesforce rejects it as MALFORMED_ID).
    """
    text = record_id.strip()
    if not _ID.match(text):
        return None
    suffix = checksum(text[:15])
    if len(text) == 18 and text[15:] != suffix:
        return None
    return text[:15] + suffix
