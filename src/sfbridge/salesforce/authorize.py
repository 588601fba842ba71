"""The setup checks and the authorize step: login-URL policy, server-to-server setup rules,
PKCE and the consent URL (no I/O).

Scopes: :func:`authorize_url` asks for ``api refresh_token id`` by default. ``api`` lets us call
REST, ``refresh_token`` gives a long-lived grant (the web-server flow is the only one that gets
one), and ``id`` lets us read the identity URL (org, user, username) right after the callback.
We do not ask for ``full`` (too broad) or ``openid`` (we don't need an id token).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from sfbridge.salesforce.errors import InvalidLoginUrl

PRODUCTION_LOGIN_URL = "https://login.salesforce.com"
SANDBOX_LOGIN_URL = "https://test.salesforce.com"
DEFAULT_SCOPES: tuple[str, ...] = ("api", "refresh_token", "id")

_MY_DOMAIN = ".my.salesforce.com"
_SANDBOX_MY_DOMAIN = ".sandbox.my.salesforce.com"


@dataclass(frozen=True, kw_only=True, slots=True)
class PkcePair:
    """A PKCE verifier (kept server-side with the state) and its S256 challenge."""

    verifier: str = field(repr=False)
    challenge: str


def check_login_url(url: str, *, allowed_hosts: Collection[str] = (), demo: bool = False) -> str:
    """Validate and normalise a login URL against the policy.

    Accepted: ``https://login.salesforce.com``, ``https://test.salesforce.com``, a My Domain
    ``https://NAME.my.salesforce.com`` or ``https://NAME--SBX.sandbox.my.salesforce.com``. Any
    other host (an emulator included) only when ``demo`` is on or the host (``host`` or
    ``host:port``) is in ``allowed_hosts``; those may use ``http``.

    Args:
        url: what the admin typed.
        allowed_hosts: extra hosts the operator allow-listed.
        demo: demo mode accepts any http(s) host.

    Returns:
        The URL as ``scheme://host[:port]`` (lower case, no path, no trailing slash).

    Raises:
        InvalidLoginUrl: with a sentence saying what to fix.
    """
    raw = url.strip()
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidLoginUrl(
            f"login URL {raw!r} is not an http(s) URL; use https://login.salesforce.com, "
            "https://test.salesforce.com or your My Domain URL"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InvalidLoginUrl(
            f"login URL {raw!r} must not carry credentials, a query or a fragment"
        )
    if parts.path not in ("", "/"):
        raise InvalidLoginUrl(f"login URL {raw!r} must be just the host, without a path")
    host = parts.hostname.lower()
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidLoginUrl(f"login URL {raw!r} has an invalid port") from exc
    netloc = host if port is None else f"{host}:{port}"
    allowed = {h.lower() for h in allowed_hosts}
    if demo or host in allowed or netloc in allowed:
        return f"{parts.scheme}://{netloc}"
    if not _is_salesforce_login_host(host):
        raise InvalidLoginUrl(
            f"login host {host!r} is not a Salesforce login host; use login.salesforce.com, "
            "test.salesforce.com or NAME.my.salesforce.com (other hosts must be allow-listed)"
        )
    if parts.scheme != "https":
        raise InvalidLoginUrl(f"login URL {raw!r} must use https")
    if port not in (None, 443):
        raise InvalidLoginUrl(f"login URL {raw!r} must not name a port")
    return f"https://{host}"


def _is_salesforce_login_host(host: str) -> bool:
    if host in ("login.salesforce.com", "test.salesforce.com"):
        return True
    if host.endswith(_MY_DOMAIN):
        name = host[: -len(_MY_DOMAIN)]
        if name.endswith(".sandbox"):
            name = name[: -len(".sandbox")]
        return bool(name) and "." not in name and all(c.isalnum() or c == "-" for c in name)
    return False


def check_client_credentials_login_url(url: str) -> str:
    """Refuse the shared login hosts for the client-credentials flow.

    Salesforce runs this grant only on the org's own My Domain host, so a checked login URL
    (see :func:`check_login_url`) of ``login.salesforce.com`` or ``test.salesforce.com`` is
    refused; a My Domain URL or an allow-listed host passes unchanged.

    Raises:
        InvalidLoginUrl: with a sentence saying what to use instead.
    """
    host = (urlsplit(url).hostname or "").lower()
    if host in ("login.salesforce.com", "test.salesforce.com"):
        raise InvalidLoginUrl(
            f"the client credentials flow does not work on {host}; use your My Domain URL "
            "(https://NAME.my.salesforce.com, sandbox: https://NAME--SBX.sandbox.my.salesforce.com)"
        )
    return url


def private_key_problem(pem: str) -> str | None:
    """Say what is wrong with a JWT-bearer private key, or ``None`` when it can sign.

    The key must be an unencrypted PEM RSA private key (Salesforce verifies RS256 with the
    certificate uploaded to the connected app).
    """
    text = pem.strip()
    if "PRIVATE KEY-----" not in text:
        return (
            "the private key must be PEM text starting with -----BEGIN PRIVATE KEY----- "
            "(or -----BEGIN RSA PRIVATE KEY-----)"
        )
    try:
        key = load_pem_private_key(text.encode("utf-8"), password=None)
    except TypeError:
        return "the private key is protected by a passphrase; export it without one"
    except ValueError:
        return "the private key is not a readable PEM private key; paste the whole file"
    if not isinstance(key, rsa.RSAPrivateKey):
        return "the private key must be an RSA key (Salesforce signs JWT bearer tokens with RS256)"
    return None


def sandbox_from_login_url(url: str) -> bool | None:
    """Tell from the login host whether the org is a sandbox (``None``: the host can't say)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "test.salesforce.com" or host.endswith(_SANDBOX_MY_DOMAIN):
        return True
    if host == "login.salesforce.com" or host.endswith(_MY_DOMAIN):
        return False
    return None


def new_pkce() -> PkcePair:
    """Make a fresh PKCE pair (86-character verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(64)
    return PkcePair(verifier=verifier, challenge=pkce_challenge(verifier))


def pkce_challenge(verifier: str) -> str:
    """Return ``base64url(sha256(verifier))`` without padding (RFC 7636 S256)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(
    login_url: str,
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    code_challenge: str,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    prompt: str | None = None,
) -> str:
    """Build the URL that sends the admin's browser to Salesforce's consent screen.

    Args:
        login_url: a URL that passed :func:`check_login_url`.
        client_id: the connected app's consumer key.
        redirect_uri: our callback URL (must equal the app's callback exactly).
        state: single-use, unguessable, bound to the workspace by the caller.
        code_challenge: :attr:`PkcePair.challenge`.
        scopes: requested scopes (see the module docstring).
        prompt: ``login``/``consent`` to force Salesforce's screens.

    Returns:
        The absolute authorize URL.
    """
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "scope": " ".join(scopes),
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    if prompt:
        params["prompt"] = prompt
    return f"{login_url.rstrip('/')}/services/oauth2/authorize?{urlencode(params)}"
