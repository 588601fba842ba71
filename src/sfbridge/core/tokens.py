"""Thread tokens: a short signed reference we put in the subject and body of our mail.

A token looks like ``[ref:SFB-7K3QX9M2TD]``. The ten characters are the first 50 bits of
HMAC-SHA256(secret, session id) in Crockford's base32, so nobody can forge a token for a
session or guess one that exists (one chance in 2**50 per try), and it survives readers:
lookups ignore case and read ``O`` as ``0`` and ``I``/``L`` as ``1``. The token carries no
data; the service stores each session's token and looks sessions up by it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence

from sfbridge.core.errors import CoreError

__all__ = [
    "TOKEN_PATTERN",
    "find_thread_tokens",
    "make_thread_token",
    "verify_thread_token",
]

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_LENGTH = 10
_BITS = 5 * _CODE_LENGTH
_CONTEXT = b"sfbridge/thread-token/v1\x00"
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})

#: Matches a token in text, bracketed or not, tolerant of case and spacing.
TOKEN_PATTERN = re.compile(
    r"(?:\[\s*|\b)ref\s*:\s*SFB\s*-?\s*([0-9A-Za-z]{"
    + str(_CODE_LENGTH)
    + r"})(?![0-9A-Za-z])(?:\s*\])?",
    re.IGNORECASE,
)


def _code(session_id: str, secret: bytes) -> str:
    digest = hmac.new(secret, _CONTEXT + session_id.encode("utf-8"), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big") >> (64 - _BITS)
    chars = []
    for _ in range(_CODE_LENGTH):
        chars.append(_ALPHABET[number & 31])
        number >>= 5
    return "".join(reversed(chars))


def _canonical(code: str) -> str | None:
    code = code.upper().translate(_READ_AS)
    if any(char not in _ALPHABET for char in code):
        return None
    return f"[ref:SFB-{code}]"


def make_thread_token(session_id: str, secret: bytes) -> str:
    """Return the thread token of a session, e.g. ``[ref:SFB-7K3QX9M2TD]``.

    The same session and secret always give the same token.

    Args:
        session_id: the session's id, any string.
        secret: the workspace's token key; at least 16 bytes.

    Raises:
        CoreError: the session id is empty or the secret shorter than 16 bytes.
    """
    if not session_id:
        raise CoreError("a thread token needs a session id", field="session_id")
    if len(secret) < 16:
        raise CoreError("the thread token secret must be at least 16 bytes", field="secret")
    return f"[ref:SFB-{_code(session_id, secret)}]"


def find_thread_tokens(text: str) -> list[str]:
    """Return the tokens found in ``text``, canonical and de-duplicated, in order of appearance.

    Canonical means the exact form :func:`make_thread_token` returns, so results can be
    looked up directly. Nothing is verified here: a found token is only a lookup key.
    """
    found: list[str] = []
    for match in TOKEN_PATTERN.finditer(text):
        token = _canonical(match.group(1))
        if token is not None and token not in found:
            found.append(token)
    return found


def verify_thread_token(
    token: str, session_id: str, secret: bytes, *, old_secrets: Sequence[bytes] = ()
) -> bool:
    """Say whether ``token`` is the token of ``session_id`` under ``secret``.

    Args:
        token: a token in any spelling :func:`find_thread_tokens` accepts.
        session_id: the session the token is claimed to belong to.
        secret: the current key.
        old_secrets: keys used before a rotation; tokens they made still verify.
    """
    found = find_thread_tokens(token)
    if len(found) != 1 or not session_id:
        return False
    for key in (secret, *old_secrets):
        if len(key) >= 16 and hmac.compare_digest(found[0], f"[ref:SFB-{_code(session_id, key)}]"):
            return True
    return False
