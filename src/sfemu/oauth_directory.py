"""What the OAuth server needs from the rest of the emulator: orgs, apps, users.

These are structural types: ``sfemu.org.Org`` and ``sfemu.org.ConnectedApp`` satisfy them,
and the emulator's app passes a :class:`Directory` that finds orgs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Protocol

from sfemu.model import Record


class ConnectedAppView(Protocol):
    """What the OAuth server reads from a connected app (``sfemu.org.ConnectedApp``)."""

    @property
    def client_id(self) -> str: ...
    @property
    def client_secret(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def callback_urls(self) -> Collection[str]: ...
    @property
    def scopes(self) -> Collection[str]: ...
    @property
    def refresh_token_rotation(self) -> bool: ...
    @property
    def jwt_public_key_pem(self) -> str | None: ...
    @property
    def client_credentials_user_id(self) -> str | None: ...


class OrgView(Protocol):
    """What the OAuth server reads from an org (``sfemu.org.Org``)."""

    @property
    def org_id(self) -> str: ...
    @property
    def is_sandbox(self) -> bool: ...
    @property
    def session_timeout_seconds(self) -> int: ...
    @property
    def apps(self) -> Mapping[str, ConnectedAppView]: ...

    def now(self) -> dt.datetime: ...

    def check_password(self, username: str, password: str) -> str | None: ...

    def user_by_username(self, username: str) -> Record | None: ...

    @property
    def admin_user_id(self) -> str: ...

    def get(self, record_id: str, *, include_deleted: bool = False) -> Record | None: ...


class Directory(Protocol):
    """How the OAuth server finds orgs. The emulator's app implements it."""

    def org_for_client(self, client_id: str) -> OrgView | None:
        """The org owning the connected app with this consumer key."""

    def org(self, org_id: str) -> OrgView | None:
        """The org with this id (15 or 18 characters)."""

    def org_for_username(self, username: str) -> OrgView | None:
        """The org in which this username exists (usernames are unique across orgs)."""
