"""The web server flow's state between its steps: authorization codes and app approvals.

A code is minted when a user approves a connected app (or had approved it before) and is
traded once for tokens at ``/services/oauth2/token`` within :data:`CODE_LIFETIME`. Approvals
are remembered per (app, user), so the approval page is shown only the first time.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Authorization codes are short-lived (reference 1.2: about 15 minutes).
CODE_LIFETIME = dt.timedelta(minutes=15)

#: The current time in an org (by org id).
OrgClock = Callable[[str], dt.datetime]


def random_text(length: int) -> str:
    """Random token text of about ``4/3 * length`` characters (letters, digits, ``_`` and ``.``)."""
    # Salesforce tokens use letters, digits and dots; urlsafe text with '-' swapped is close.
    return secrets.token_urlsafe(length).replace("-", ".")


@dataclass(frozen=True, kw_only=True, slots=True)
class AuthCode:
    """A pending authorization code of the web server flow."""

    code: str
    org_id: str
    user_id: str
    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    issued_at: dt.datetime
    code_challenge: str | None = None
    nonce: str | None = None

    def expired(self, now: dt.datetime) -> bool:
        """Whether the code is past :data:`CODE_LIFETIME` at ``now``."""
        return now >= self.issued_at + CODE_LIFETIME

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible data (without the code itself, which keys it when saved)."""
        return {
            "org_id": self.org_id,
            "user_id": self.user_id,
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scopes": sorted(self.scopes),
            "issued_at": self.issued_at.isoformat(),
            "code_challenge": self.code_challenge,
            "nonce": self.nonce,
        }

    @classmethod
    def from_dict(cls, code: str, raw: Mapping[str, Any]) -> AuthCode:
        """Rebuild a code saved with :meth:`to_dict`."""
        return cls(
            code=code,
            org_id=raw["org_id"],
            user_id=raw["user_id"],
            client_id=raw["client_id"],
            redirect_uri=raw["redirect_uri"],
            scopes=frozenset(raw["scopes"]),
            issued_at=dt.datetime.fromisoformat(raw["issued_at"]),
            code_challenge=raw.get("code_challenge"),
            nonce=raw.get("nonce"),
        )


class AuthCodes:
    """Live authorization codes and the approvals users gave connected apps.

    Args:
        clock: the current time in an org, to stamp and expire codes.
    """

    def __init__(self, clock: OrgClock) -> None:
        self._clock = clock
        self._codes: dict[str, AuthCode] = {}
        self._approvals: set[tuple[str, str]] = set()

    def create(
        self,
        *,
        org_id: str,
        user_id: str,
        client_id: str,
        redirect_uri: str,
        scopes: Iterable[str],
        code_challenge: str | None = None,
        nonce: str | None = None,
    ) -> str:
        """Mint a single-use authorization code (valid for :data:`CODE_LIFETIME`)."""
        # Salesforce codes end in '==' and must be URL-encoded on the callback.
        code = f"aPrx{random_text(48)}=="
        self._codes[code] = AuthCode(
            code=code,
            org_id=org_id,
            user_id=user_id,
            client_id=client_id,
            redirect_uri=redirect_uri,
            scopes=frozenset(scopes),
            issued_at=self._clock(org_id),
            code_challenge=code_challenge,
            nonce=nonce,
        )
        return code

    def get(self, code: str) -> AuthCode | None:
        """A live authorization code (expired ones are dropped and read as None)."""
        found = self._codes.get(code)
        if found is None:
            return None
        if found.expired(self._clock(found.org_id)):
            del self._codes[code]
            return None
        return found

    def consume(self, code: str) -> None:
        """Mark a code used: it never works again."""
        self._codes.pop(code, None)

    def approve(self, client_id: str, user_id: str) -> None:
        """Record that a user approved a connected app."""
        self._approvals.add((client_id, user_id))

    def approved(self, client_id: str, user_id: str) -> bool:
        """Whether the user has approved this app before."""
        return (client_id, user_id) in self._approvals

    def to_dict(self) -> dict[str, Any]:
        """Codes and approvals as JSON-compatible data (keys ``codes`` and ``approvals``)."""
        return {
            "codes": {code: c.to_dict() for code, c in self._codes.items()},
            "approvals": sorted([client_id, user_id] for client_id, user_id in self._approvals),
        }

    def load(self, data: Mapping[str, Any]) -> None:
        """Replace the contents with data saved by :meth:`to_dict`."""
        self._codes = {
            code: AuthCode.from_dict(code, raw) for code, raw in data.get("codes", {}).items()
        }
        self._approvals = {(c, u) for c, u in data.get("approvals", [])}
