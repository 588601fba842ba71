"""Encryption at rest for the secrets sfbridge stores (client secrets, tokens, webhook tokens).

A :class:`SecretBox` seals text with AES-256-GCM. The sealed form is one ASCII string::

    v1.<key id>.<base64url(nonce || ciphertext || tag)>

The key id (8 hex characters of the key's SHA-256) names the key that sealed the value,
so a box built with a new key plus the old ones (``previous=``) still opens old values
while sealing new ones with the new key: keys can rotate without a big-bang rewrite.

An optional ``context`` (for example ``"<workspace id>:refresh_token"``) is bound into
the tag as associated data: a value copied to another row or workspace fails to open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sfbridge.errors import ConfigError, SecretTampered, UnknownSecretKey

if TYPE_CHECKING:
    from sfbridge.settings import Settings

KEY_BYTES = 32
_NONCE_BYTES = 12
_VERSION = "v1"


def generate_key() -> bytes:
    """Return a new random 256-bit key."""
    return os.urandom(KEY_BYTES)


def encode_key(key: bytes) -> str:
    """Return the text form of a key (URL-safe base64), as written to files and env vars."""
    return base64.urlsafe_b64encode(key).decode("ascii")


def parse_key(text: str, *, source: str = "SFBRIDGE_ENCRYPTION_KEY") -> bytes:
    """Decode the text form of a key.

    Args:
        text: URL-safe base64 of 32 bytes (standard base64 is accepted too).
        source: Where the text came from, named in the error message.

    Raises:
        ConfigError: The text is not base64 of exactly 32 bytes.
    """
    cleaned = text.strip()
    try:
        key = base64.urlsafe_b64decode(cleaned.replace("+", "-").replace("/", "_") + "==")
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise ConfigError(
            f"{source} must be 32 random bytes in URL-safe base64 (44 characters, e.g. from "
            f"`python -c 'import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode())'`)."
        )
    return key


def key_id(key: bytes) -> str:
    """Return the short public id of a key (8 hex characters of its SHA-256)."""
    return hashlib.sha256(key).hexdigest()[:8]


def load_or_create_key(path: Path) -> bytes:
    """Read the key stored at ``path``, creating it (mode 0600) on first use.

    Creation is atomic (``O_EXCL``): when several processes start at once, one writes
    the key and the others read it.

    Args:
        path: The key file, usually ``<data dir>/secret.key``.

    Raises:
        ConfigError: The file exists but does not hold a valid key, or cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key_file(path)
    except OSError as exc:
        raise ConfigError(
            f"Cannot create the encryption key file {path} ({exc.strerror}); "
            "make the data directory writable or set SFBRIDGE_ENCRYPTION_KEY."
        ) from exc
    key = generate_key()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(encode_key(key) + "\n")
    return key


def _read_key_file(path: Path) -> bytes:
    text = ""
    for _ in range(50):  # another process may be between O_EXCL and write()
        text = path.read_text(encoding="ascii").strip()
        if text:
            break
        time.sleep(0.01)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return parse_key(text, source=f"The key file {path}")


class SecretBox:
    """Seals and opens text with AES-256-GCM under a current key and optional old keys.

    Args:
        key: The current key (32 bytes); new values are sealed with it.
        previous: Older keys still accepted when opening values.
    """

    def __init__(self, key: bytes, *, previous: Sequence[bytes] = ()) -> None:
        for candidate in (key, *previous):
            if len(candidate) != KEY_BYTES:
                raise ConfigError("An encryption key must be exactly 32 bytes.")
        self._current_id = key_id(key)
        self._ciphers = {key_id(k): AESGCM(k) for k in (*previous, key)}

    def __repr__(self) -> str:
        return f"SecretBox(key_id={self._current_id!r})"

    @property
    def key_id(self) -> str:
        """The id of the key new values are sealed with."""
        return self._current_id

    def encrypt(self, plaintext: str, *, context: str = "") -> str:
        """Seal ``plaintext``; ``context`` must be given again to open it."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[self._current_id].encrypt(
            nonce, plaintext.encode("utf-8"), context.encode("utf-8")
        )
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
        return f"{_VERSION}.{self._current_id}.{body}"

    def decrypt(self, sealed: str, *, context: str = "") -> str:
        """Open a value sealed by :meth:`encrypt` with the same ``context``.

        Raises:
            SecretTampered: The value is malformed, altered, or bound to another context.
            UnknownSecretKey: The value was sealed with a key this box does not hold.
        """
        version, _, rest = sealed.partition(".")
        kid, _, body = rest.partition(".")
        if version != _VERSION or not kid or not body:
            raise SecretTampered("A stored secret is not in the expected format.")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise UnknownSecretKey(
                f"A stored secret was encrypted with key {kid}, which is not configured; "
                "restore that key (SFBRIDGE_ENCRYPTION_KEY or secret.key).",
                key_id=kid,
            )
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            plain = cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
        except (binascii.Error, ValueError, InvalidTag) as exc:
            raise SecretTampered() from exc
        return plain.decode("utf-8")


def box_for(settings: Settings) -> SecretBox:
    """Return the installation's box: ``SFBRIDGE_ENCRYPTION_KEY``, else ``<data dir>/secret.key``.

    The key file is created (mode 0600) on first start when no key is configured.
    Keys listed in ``SFBRIDGE_PREVIOUS_ENCRYPTION_KEYS`` still open older values.
    """
    if settings.encryption_key is not None:
        key = parse_key(settings.encryption_key.reveal())
    else:
        key = load_or_create_key(settings.key_file)
    previous = [parse_key(k.reveal()) for k in settings.previous_encryption_keys]
    return SecretBox(key, previous=previous)
