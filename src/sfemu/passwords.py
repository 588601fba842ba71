"""Password hashing for emulated users (only a salted hash is ever stored)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

#: PBKDF2 rounds: low on purpose. These are emulator test users; a fast hash keeps test
#: orgs cheap to build while still never storing a password in clear.
_ROUNDS = 20_000


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """A ``pbkdf2_sha256$rounds$salt$hash`` string for ``password``."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _ROUNDS)
    return f"pbkdf2_sha256${_ROUNDS}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches a hash made by :func:`hash_password`."""
    try:
        scheme, rounds, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt_hex), int(rounds))
    return hmac.compare_digest(digest.hex(), digest_hex)
