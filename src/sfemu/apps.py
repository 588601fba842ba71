"""Connected apps: the OAuth clients an org trusts."""

from __future__ import annotations

import secrets
import string
from dataclasses import asdict, dataclass
from typing import Any

DEFAULT_SCOPES: tuple[str, ...] = ("api", "refresh_token", "offline_access", "openid", "id", "web")


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectedApp:
    """An OAuth client: consumer key (``client_id``) and secret, callbacks and scopes."""

    client_id: str
    client_secret: str
    name: str
    callback_urls: tuple[str, ...] = ()
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    refresh_token_rotation: bool = False
    #: PEM public key that verifies JWT bearer assertions (None: JWT flow disabled).
    jwt_public_key_pem: str | None = None
    #: The "run as" user of the client-credentials flow (None: flow disabled).
    client_credentials_user_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        data = asdict(self)
        data["callback_urls"] = list(self.callback_urls)
        data["scopes"] = list(self.scopes)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConnectedApp:
        """Inverse of :meth:`to_dict`."""
        fields = dict(data)
        fields["callback_urls"] = tuple(fields.get("callback_urls", ()))
        fields["scopes"] = tuple(fields.get("scopes", DEFAULT_SCOPES))
        return cls(**fields)


def new_client_id() -> str:
    """A consumer key shaped like Salesforce's (``3MVG9`` + 80 URL-safe characters)."""
    alphabet = string.ascii_letters + string.digits + "._"
    return "3MVG9" + "".join(secrets.choice(alphabet) for _ in range(80))


def new_client_secret() -> str:
    """A consumer secret shaped like Salesforce's (64 upper-case hex characters)."""
    return secrets.token_hex(32).upper()
