"""The token store: access tokens and refresh tokens (and, through :mod:`sfemu.auth_codes`,
the web server flow's authorization codes and approvals).

Access tokens look like Salesforce's (``00D5g000004XyZa!AQ8AQ...``: the org id's first 15
characters, ``!``, random text). Validating one is a single dict lookup plus a clock check, as
it sits on the hot path of every API call. An access token lives for the org's session timeout
(``org.session_timeout_seconds`` after it was issued, read from ``org.now()`` so that tests can
move the clock). Refresh tokens live until revoked; revoking one revokes the access tokens
minted from it.

The store knows orgs only through a :class:`Directory`, bound at construction or by
:func:`sfemu.oauth.oauth_routes`. Without one, expiry is not checked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sfemu.auth_codes import AuthCodes, random_text
from sfemu.model import ApiError
from sfemu.oauth_directory import Directory


@dataclass(frozen=True, kw_only=True, slots=True)
class Session:
    """Who an access token speaks for."""

    org_id: str
    user_id: str
    client_id: str
    issued_at: dt.datetime
    scopes: frozenset[str]


@dataclass(frozen=True, kw_only=True, slots=True)
class IssuedTokens:
    """The result of :meth:`TokenStore.issue` and :meth:`TokenStore.refresh`.

    ``refresh_token`` is set only when a new refresh token was minted.
    """

    access_token: str
    refresh_token: str | None
    session: Session


@dataclass(kw_only=True, slots=True)
class _Access:
    session: Session
    refresh_token: str | None


@dataclass(kw_only=True, slots=True)
class _Refresh:
    #: What the refresh token grants; ``issued_at`` is when the refresh token was minted.
    grant: Session
    access_tokens: set[str] = field(default_factory=set)


def invalid_session() -> ApiError:
    """The REST API's answer to a missing, unknown or expired access token."""
    return ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")


class TokenStore:
    """Every token the emulator has issued, across orgs.

    Args:
        directory: Finds an org by id, to check expiry against its clock and timeout.
    """

    def __init__(self, directory: Directory | None = None) -> None:
        self._directory = directory
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, _Refresh] = {}
        #: The web server flow's authorization codes and approvals, on the orgs' clocks.
        self.codes = AuthCodes(self._now)

    def bind(self, directory: Directory) -> None:
        """Use this directory to look orgs up (``oauth_routes`` calls it)."""
        self._directory = directory

    def _now(self, org_id: str) -> dt.datetime:
        org = self._directory.org(org_id) if self._directory else None
        return org.now() if org is not None else dt.datetime.now(dt.UTC)

    # -- access tokens -------------------------------------------------------------------

    def validate(self, access_token: str) -> Session:
        """The session behind an access token.

        Raises:
            ApiError: 401 ``INVALID_SESSION_ID`` when the token is unknown, revoked or expired,
                or its org no longer exists.
        """
        entry = self._access.get(access_token)
        if entry is None:
            raise invalid_session()
        session = entry.session
        if self._directory is not None:
            org = self._directory.org(session.org_id)
            if org is None:
                raise invalid_session()
            age = org.now() - session.issued_at
            if age.total_seconds() >= org.session_timeout_seconds:
                self._drop_access(access_token)
                raise invalid_session()
        return session

    def issue(
        self,
        *,
        org_id: str,
        user_id: str,
        client_id: str,
        scopes: Iterable[str] = ("api",),
        with_refresh_token: bool = False,
        issued_at: dt.datetime | None = None,
    ) -> IssuedTokens:
        """Mint an access token (and a refresh token when asked).

        Args:
            org_id: The org's 18-character id.
            user_id: The user the session runs as.
            client_id: The connected app's consumer key.
            scopes: Granted scopes.
            with_refresh_token: Also mint a refresh token linked to the access token.
            issued_at: Issue time; defaults to the org's clock.

        Returns:
            The tokens and the session they stand for.
        """
        session = Session(
            org_id=org_id,
            user_id=user_id,
            client_id=client_id,
            issued_at=issued_at or self._now(org_id),
            scopes=frozenset(scopes),
        )
        refresh_token: str | None = None
        if with_refresh_token:
            refresh_token = self._new_refresh_token(session)
        access_token = self._new_access_token(session, refresh_token)
        return IssuedTokens(access_token=access_token, refresh_token=refresh_token, session=session)

    def _new_access_token(self, session: Session, refresh_token: str | None) -> str:
        token = f"{session.org_id[:15]}!{random_text(72)}"
        self._access[token] = _Access(session=session, refresh_token=refresh_token)
        if refresh_token is not None:
            self._refresh[refresh_token].access_tokens.add(token)
        return token

    def _new_refresh_token(self, session: Session) -> str:
        token = f"5Aep861{random_text(60)}"
        self._refresh[token] = _Refresh(grant=session)
        return token

    def _drop_access(self, access_token: str) -> None:
        entry = self._access.pop(access_token, None)
        if entry is not None and entry.refresh_token is not None:
            family = self._refresh.get(entry.refresh_token)
            if family is not None:
                family.access_tokens.discard(access_token)

    # -- refresh tokens ------------------------------------------------------------------

    def refresh(
        self,
        refresh_token: str,
        *,
        client_id: str,
        rotate: bool = False,
        issued_at: dt.datetime | None = None,
    ) -> IssuedTokens | None:
        """Mint a new access token from a refresh token.

        Args:
            refresh_token: The refresh token presented.
            client_id: The app presenting it; a token of another app is refused.
            rotate: Replace the refresh token with a new one; the old one stops working.
                Access tokens already issued stay valid and move to the new token.
            issued_at: Issue time; defaults to the org's clock.

        Returns:
            The new tokens (``refresh_token`` set only when rotated), or ``None`` when the
            refresh token is unknown, revoked or not this app's.
        """
        family = self._refresh.get(refresh_token)
        if family is None or family.grant.client_id != client_id:
            return None
        grant = family.grant
        session = replace(grant, issued_at=issued_at or self._now(grant.org_id))
        current = refresh_token
        new_refresh: str | None = None
        if rotate:
            del self._refresh[refresh_token]
            new_refresh = self._new_refresh_token(session)
            moved = self._refresh[new_refresh]
            moved.access_tokens = family.access_tokens
            for token in family.access_tokens:
                self._access[token].refresh_token = new_refresh
            current = new_refresh
        access_token = self._new_access_token(session, current)
        return IssuedTokens(access_token=access_token, refresh_token=new_refresh, session=session)

    def refresh_session(self, refresh_token: str) -> Session | None:
        """The session a refresh token would grant, or None when it is not valid."""
        family = self._refresh.get(refresh_token)
        return family.grant if family is not None else None

    def revoke(self, token: str) -> bool:
        """Revoke an access or refresh token (a refresh token takes its access tokens along).

        Returns:
            False when the token is not known.
        """
        family = self._refresh.pop(token, None)
        if family is not None:
            for access_token in family.access_tokens:
                self._access.pop(access_token, None)
            return True
        if token in self._access:
            self._drop_access(token)
            return True
        return False

    def expire_all(self, org_id: str) -> int:
        """Invalidate every access token of an org (refresh tokens keep working).

        Returns:
            How many access tokens were dropped.
        """
        doomed = [t for t, e in self._access.items() if e.session.org_id == org_id]
        for token in doomed:
            self._drop_access(token)
        return len(doomed)

    def revoke_refresh_tokens(self, org_id: str) -> int:
        """Revoke every refresh token of an org. Access tokens live on until they expire.

        Returns:
            How many refresh tokens were revoked.
        """
        doomed = [t for t, f in self._refresh.items() if f.grant.org_id == org_id]
        for token in doomed:
            for access_token in self._refresh.pop(token).access_tokens:
                self._access[access_token].refresh_token = None
        return len(doomed)

    # -- persistence ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Everything the store holds, as JSON-compatible data."""
        return {
            "access": {
                token: {**_session_to_dict(entry.session), "refresh_token": entry.refresh_token}
                for token, entry in self._access.items()
            },
            "refresh": {token: _session_to_dict(f.grant) for token, f in self._refresh.items()},
            **self.codes.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], directory: Directory | None = None) -> TokenStore:
        """Rebuild a store saved with :meth:`to_dict`."""
        store = cls(directory)
        for token, raw in data.get("refresh", {}).items():
            store._refresh[token] = _Refresh(grant=_session_from_dict(raw))
        for token, raw in data.get("access", {}).items():
            refresh_token = raw.get("refresh_token")
            if refresh_token not in store._refresh:
                refresh_token = None
            store._access[token] = _Access(
                session=_session_from_dict(raw), refresh_token=refresh_token
            )
            if refresh_token is not None:
                store._refresh[refresh_token].access_tokens.add(token)
        store.codes.load(data)
        return store


def _session_to_dict(session: Session) -> dict[str, Any]:
    return {
        "org_id": session.org_id,
        "user_id": session.user_id,
        "client_id": session.client_id,
        "issued_at": session.issued_at.isoformat(),
        "scopes": sorted(session.scopes),
    }


def _session_from_dict(raw: Mapping[str, Any]) -> Session:
    return Session(
        org_id=raw["org_id"],
        user_id=raw["user_id"],
        client_id=raw["client_id"],
        issued_at=dt.datetime.fromisoformat(raw["issued_at"]),
        scopes=frozenset(raw["scopes"]),
    )
