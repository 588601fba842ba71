"""JWTs in the OAuth server: JWT bearer assertions in, OpenID Connect id tokens out.

A JWT bearer assertion (RFC 7523) is an RS256 JWT signed with the private key whose
certificate the admin uploaded to the connected app: ``iss`` = consumer key, ``sub`` =
username, ``aud`` = the login host, ``exp``. The checks run in the order that gives each
failure the error Salesforce reports (reference 1.3).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from sfemu.oauth_errors import (
    BAD_AUDIENCE,
    EXPIRED_ASSERTION,
    INVALID_ASSERTION,
    invalid_grant,
    invalid_request,
)

#: Lifetime of an id token (the ``exp`` claim).
ID_TOKEN_LIFETIME = dt.timedelta(minutes=5)


@dataclass(frozen=True, kw_only=True, slots=True)
class Assertion:
    """The claims of a JWT bearer assertion that passed its checks."""

    issuer: str
    subject: str


def unverified_issuer(assertion: str) -> str:
    """The ``iss`` claim, read before the signature can be checked (it names the app).

    Raises:
        OAuthError: ``invalid_request`` when there is no assertion, ``invalid_grant`` /
            ``invalid assertion`` when it is not a JWT or has no issuer.
    """
    if not assertion:
        raise invalid_request("assertion is required")
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise invalid_grant(INVALID_ASSERTION) from exc
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise invalid_grant(INVALID_ASSERTION)
    return issuer


def _public_key(pem: str) -> RSAPublicKey:
    data = pem.encode()
    key = (
        x509.load_pem_x509_certificate(data).public_key()
        if b"BEGIN CERTIFICATE" in data
        else load_pem_public_key(data)
    )
    if not isinstance(key, RSAPublicKey):
        raise invalid_grant(INVALID_ASSERTION)
    return key


def verify_assertion(
    assertion: str,
    *,
    public_key_pem: str | None,
    audiences: Collection[str],
    now: dt.datetime,
) -> Assertion:
    """Check a JWT bearer assertion's signature, audience and expiry.

    Args:
        assertion: The compact JWT from the ``assertion`` form field.
        public_key_pem: The app's certificate or public key (PEM); None fails every assertion.
        audiences: Accepted ``aud`` values (compared without a trailing slash).
        now: The org's clock, for ``exp``.

    Returns:
        The issuer and subject.

    Raises:
        OAuthError: ``invalid_grant`` with ``invalid assertion`` (signature, format),
            ``Audience validation failed`` or ``expired authorization code``.
    """
    if not public_key_pem:
        raise invalid_grant(INVALID_ASSERTION)
    try:
        key = _public_key(public_key_pem)
        claims: dict[str, Any] = jwt.decode(
            assertion,
            key,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_aud": False, "verify_iat": False},
        )
    except (jwt.PyJWTError, ValueError) as exc:
        raise invalid_grant(INVALID_ASSERTION) from exc
    accepted = {a.rstrip("/") for a in audiences}
    aud = claims.get("aud")
    presented = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not any(isinstance(a, str) and a.rstrip("/") in accepted for a in presented):
        raise invalid_grant(BAD_AUDIENCE)
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise invalid_grant(INVALID_ASSERTION)
    if now.timestamp() >= exp:
        raise invalid_grant(EXPIRED_ASSERTION)
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise invalid_grant(INVALID_ASSERTION)
    return Assertion(issuer=str(claims.get("iss", "")), subject=subject)


def _half_hash(value: str) -> str:
    digest = hashlib.sha256(value.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def id_token(
    *,
    issuer: str,
    identity_url: str,
    client_id: str,
    client_secret: str,
    access_token: str,
    issued_at: dt.datetime,
    nonce: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """An OpenID Connect id token, signed HS256 with the client secret.

    Salesforce signs its id tokens RS256 with an org key; HS256 keyed by the client secret
    is what OIDC defines for confidential clients and needs no key publishing.

    Args:
        issuer: The login URL (``iss``).
        identity_url: The identity URL (``sub``, as Salesforce sets it).
        client_id: The audience.
        client_secret: The signing key.
        access_token: Hashed into ``at_hash``.
        issued_at: ``iat``; ``exp`` is five minutes later.
        nonce: Echoed when the authorize request carried one.
        extra: Further claims (names, email).

    Returns:
        The compact JWT.
    """
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": identity_url,
        "aud": client_id,
        "iat": int(issued_at.timestamp()),
        "exp": int((issued_at + ID_TOKEN_LIFETIME).timestamp()),
        "at_hash": _half_hash(access_token),
    }
    if nonce:
        claims["nonce"] = nonce
    if extra:
        claims.update(extra)
    return jwt.encode(claims, client_secret, algorithm="HS256")
