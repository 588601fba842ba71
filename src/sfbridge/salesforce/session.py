"""The session manager: current tokens, single-flight refresh, daily keep-alive refresh.

Single flight has two layers:

- in process, an ``asyncio.Lock`` plus a generation check: a caller passes the token it saw
  fail; once inside the lock, if the current token differs, someone else already refreshed
  and the caller just uses the new one;
- across processes, :class:`~sfbridge.salesforce.tokens.RefreshLock` (a Postgres advisory lock
  in production) and a reload from storage inside it: if another process already stored a
  new token, we use it instead of refreshing again (which, with rotation, would burn the
  refresh token the other process just stored).

A renewal that fails for good marks the storage "needs reconnect" and raises
:class:`~sfbridge.salesforce.errors.ReconnectNeeded`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from sfbridge.salesforce import oauth
from sfbridge.salesforce.clock import Clock, system_clock
from sfbridge.salesforce.errors import ReconnectNeeded
from sfbridge.salesforce.tokens import LocalRefreshLock, RefreshLock, TokenSet, TokenStorage


class Renewer(Protocol):
    """Gets a new token set; each OAuth flow renews its own way."""

    async def renew(self, current: TokenSet) -> TokenSet:
        """Return new tokens for the connection that ``current`` belongs to.

        Raises:
            ReconnectNeeded: the grant is dead.
        """
        ...


@dataclass(frozen=True, kw_only=True)
class RefreshTokenRenewer:
    """Renews with the refresh-token grant (web-server flow connections)."""

    http: httpx.AsyncClient
    login_url: str
    app: oauth.AppCredentials = field(repr=False)
    clock: Clock = system_clock

    async def renew(self, current: TokenSet) -> TokenSet:
        """Refresh; keep the old refresh token unless Salesforce rotated it."""
        if not current.refresh_token:
            raise ReconnectNeeded("no refresh token stored")
        fresh = await oauth.refresh(
            self.http,
            login_url=self.login_url,
            app=self.app,
            refresh_token=current.refresh_token,
            clock=self.clock,
        )
        return fresh.with_refresh_token_of(current)


@dataclass(frozen=True, kw_only=True)
class JwtBearerRenewer:
    """Renews by signing a new JWT assertion (no refresh token exists in this flow)."""

    http: httpx.AsyncClient
    login_url: str
    client_id: str
    username: str
    private_key_pem: str = field(repr=False)
    audience: str | None = None
    clock: Clock = system_clock

    async def renew(self, current: TokenSet) -> TokenSet:
        """Run the JWT-bearer grant again."""
        return await oauth.jwt_bearer(
            self.http,
            login_url=self.login_url,
            client_id=self.client_id,
            username=self.username,
            private_key_pem=self.private_key_pem,
            audience=self.audience,
            clock=self.clock,
        )


@dataclass(frozen=True, kw_only=True)
class ClientCredentialsRenewer:
    """Renews with the client-credentials grant (no refresh token exists in this flow)."""

    http: httpx.AsyncClient
    login_url: str
    app: oauth.AppCredentials = field(repr=False)
    clock: Clock = system_clock

    async def renew(self, current: TokenSet) -> TokenSet:
        """Run the client-credentials grant again."""
        return await oauth.client_credentials(
            self.http, login_url=self.login_url, app=self.app, clock=self.clock
        )


class SessionManager:
    """Hands out the current tokens and refreshes them, once, when they go stale.

    Args:
        storage: where the tokens live.
        renewer: how to get new tokens.
        lock: cross-process refresh lock (defaults to an in-process lock).
        clock: time source for :meth:`ensure_fresh`.
    """

    def __init__(
        self,
        *,
        storage: TokenStorage,
        renewer: Renewer,
        lock: RefreshLock | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self._storage = storage
        self._renewer = renewer
        self._lock = lock or LocalRefreshLock()
        self._clock = clock
        self._local = asyncio.Lock()
        self._tokens: TokenSet | None = None
        # the access token whose renewal found a dead grant, and why: no second attempt
        self._dead: tuple[str, str] | None = None
        #: How many renewals this manager ran (for tests and metrics).
        self.refresh_count = 0

    async def current(self) -> TokenSet:
        """Return the tokens to use now, loading them from storage on first use.

        Raises:
            ReconnectNeeded: nothing is stored (never connected, or disconnected).
        """
        if self._tokens is None:
            async with self._local:
                if self._tokens is None:
                    self._tokens = await self._storage.load()
        if self._tokens is None:
            raise ReconnectNeeded("not connected: no tokens stored")
        return self._tokens

    async def refresh(self, stale: TokenSet) -> TokenSet:
        """Replace ``stale`` with fresh tokens, unless someone already did.

        Args:
            stale: the tokens the caller saw fail (401 INVALID_SESSION_ID).

        Returns:
            Tokens different from ``stale``.

        Raises:
            ReconnectNeeded: the grant is dead; storage has been marked.
        """
        async with self._local:
            if self._tokens is not None and self._tokens.access_token != stale.access_token:
                return self._tokens
            if self._dead is not None and self._dead[0] == stale.access_token:
                raise ReconnectNeeded(self._dead[1])
            async with self._lock.hold():
                stored = await self._storage.load()
                if stored is not None and stored.access_token != stale.access_token:
                    self._tokens = stored
                    return stored
                base = stored or stale
                try:
                    fresh = await self._renewer.renew(base)
                except ReconnectNeeded as exc:
                    self._dead = (stale.access_token, exc.reason)
                    await self._storage.mark_needs_reconnect(exc.reason)
                    self._tokens = None
                    raise
                fresh = fresh.with_refresh_token_of(base)
                await self._storage.save(fresh)
                self.refresh_count += 1
                self._tokens = fresh
                return fresh

    async def ensure_fresh(self, max_age: dt.timedelta = dt.timedelta(hours=24)) -> bool:
        """Refresh when the tokens were issued more than ``max_age`` ago.

        Run daily from a periodic job: it keeps idle refresh tokens from expiring under an
        org's idle-timeout policy and surfaces a dead grant before real work needs it.

        Returns:
            ``True`` when a refresh happened.

        Raises:
            ReconnectNeeded: not connected, or the grant is dead (storage marked).
        """
        self._tokens = None  # another process may have refreshed: trust storage
        tokens = await self.current()
        if self._clock() - tokens.issued_at < max_age:
            return False
        await self.refresh(tokens)
        return True

    def forget(self) -> None:
        """Drop the cached tokens so the next call reloads them (after a reconnect)."""
        self._tokens = None
        self._dead = None
