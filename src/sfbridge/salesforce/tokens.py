"""Token values and the two seams the session manager needs: storage and a refresh lock.

The lead implements :class:`TokenStorage` and :class:`RefreshLock` on Postgres (encrypted
columns; an advisory lock per connection). The in-memory twins here have the same behaviour
and serve tests and single-process tools.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sfbridge.salesforce.errors import OAuthFailed


@dataclass(frozen=True, kw_only=True, slots=True)
class TokenSet:
    """What a successful token-endpoint call gives us. Secrets never appear in ``repr``.

    Attributes:
        access_token: the bearer token for API calls.
        refresh_token: the long-lived grant (web-server flow only); ``None`` for JWT bearer
            and client credentials, which renew by running their grant again.
        instance_url: where API calls go (``https://MyDomain.my.salesforce.com``).
        id_url: the identity URL ``https://login.../id/{orgId}/{userId}``.
        issued_at: when Salesforce issued the access token (UTC).
        scope: the granted scopes, space separated (as Salesforce returns them).
    """

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    instance_url: str
    id_url: str = ""
    issued_at: dt.datetime
    scope: str = ""

    @property
    def org_id(self) -> str | None:
        """The 18-character org id from the identity URL, if it has the usual shape."""
        parts = _id_parts(self.id_url)
        return parts[0] if parts else None

    @property
    def user_id(self) -> str | None:
        """The 18-character user id from the identity URL, if it has the usual shape."""
        parts = _id_parts(self.id_url)
        return parts[1] if parts else None

    def with_refresh_token_of(self, previous: TokenSet | None) -> TokenSet:
        """Keep ``previous``'s refresh token when this response carried none.

        Salesforce returns a new refresh token only when rotation is on; otherwise the old
        one stays valid and must be kept.
        """
        if self.refresh_token or previous is None or not previous.refresh_token:
            return self
        return replace(self, refresh_token=previous.refresh_token)

    def to_dict(self) -> dict[str, Any]:
        """Serialise for storage (the storage encrypts it; never log this)."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "instance_url": self.instance_url,
            "id_url": self.id_url,
            "issued_at": self.issued_at.isoformat(),
            "scope": self.scope,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TokenSet:
        """Inverse of :meth:`to_dict`."""
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=data.get("refresh_token"),
            instance_url=str(data["instance_url"]),
            id_url=str(data.get("id_url", "")),
            issued_at=dt.datetime.fromisoformat(str(data["issued_at"])),
            scope=str(data.get("scope", "")),
        )


def _id_parts(id_url: str) -> tuple[str, str] | None:
    parts = [p for p in id_url.split("/") if p]
    if len(parts) >= 3 and parts[-3] == "id":
        return parts[-2], parts[-1]
    return None


def token_set_from_response(body: Mapping[str, Any], *, now: dt.datetime) -> TokenSet:
    """Parse a token-endpoint success body.

    Args:
        body: the JSON object Salesforce returned.
        now: fallback for ``issued_at`` when the body lacks it.

    Returns:
        The parsed :class:`TokenSet`.

    Raises:
        OAuthFailed: the body lacks ``access_token`` or ``instance_url``.
    """
    access = body.get("access_token")
    instance = body.get("instance_url")
    if not isinstance(access, str) or not isinstance(instance, str) or not access:
        raise OAuthFailed("invalid_response", "token response lacks access_token/instance_url")
    issued = now
    raw = body.get("issued_at")
    if isinstance(raw, str | int) and str(raw).isdigit():
        issued = dt.datetime.fromtimestamp(int(raw) / 1000, dt.UTC)
    refresh = body.get("refresh_token")
    return TokenSet(
        access_token=access,
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        instance_url=instance.rstrip("/"),
        id_url=str(body.get("id", "")),
        issued_at=issued,
        scope=str(body.get("scope", "")),
    )


class TokenStorage(Protocol):
    """Where one connection's tokens live (Postgres, encrypted, in production)."""

    async def load(self) -> TokenSet | None:
        """Return the stored tokens, or ``None`` when not connected."""
        ...

    async def save(self, tokens: TokenSet) -> None:
        """Store new tokens, including a rotated refresh token."""
        ...

    async def mark_needs_reconnect(self, reason: str) -> None:
        """Record that the grant is dead; the connection shows "needs reconnect"."""
        ...


class RefreshLock(Protocol):
    """Cross-process single flight for token refresh (an advisory lock in production)."""

    def hold(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Return a context manager that holds the lock while open."""
        ...


class MemoryTokenStorage:
    """In-memory :class:`TokenStorage` for tests and single-process tools.

    Args:
        tokens: the initial tokens, if connected.
    """

    def __init__(self, tokens: TokenSet | None = None) -> None:
        self.tokens = tokens
        self.needs_reconnect: str | None = None
        self.saves = 0

    async def load(self) -> TokenSet | None:
        """Return the stored tokens."""
        return self.tokens

    async def save(self, tokens: TokenSet) -> None:
        """Replace the stored tokens and clear any reconnect mark."""
        self.tokens = tokens
        self.needs_reconnect = None
        self.saves += 1

    async def mark_needs_reconnect(self, reason: str) -> None:
        """Remember the reason; keep the tokens for inspection."""
        self.needs_reconnect = reason


class LocalRefreshLock:
    """A :class:`RefreshLock` over one ``asyncio.Lock`` (single process only)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    def hold(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Hold the in-process lock."""
        return self._held()

    @contextlib.asynccontextmanager
    async def _held(self) -> AsyncIterator[None]:
        async with self._lock:
            yield
