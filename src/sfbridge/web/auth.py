"""API keys: who is calling, and may they touch this workspace?

Keys arrive as ``Authorization: Bearer sfb_...`` (the API) or in the admin pages' session
cookie. A workspace key sees exactly one workspace; an admin key sees all of them. A key of
workspace A asking for workspace B gets 404, as if B did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from sfbridge.deps import Deps
from sfbridge.errors import BridgeError
from sfbridge.store import apikeys
from sfbridge.store.apikeys import Scope

COOKIE = "sfbridge_key"


class NotAuthenticated(BridgeError):
    """Send an API key: `Authorization: Bearer sfb_...` (printed by `sfbridge serve` or made with `sfbridge keys create`)."""


class Forbidden(BridgeError):
    """This API key may not do that; it needs an admin key."""


class WorkspaceNotFound(BridgeError):
    """No such workspace."""


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    scope: Scope
    workspace_id: str | None

    @property
    def is_admin(self) -> bool:
        return self.scope == Scope.ADMIN

    def check_workspace(self, workspace_id: str) -> str:
        """Return ``workspace_id`` if this key may use it; else act as if it did not exist."""
        if self.is_admin or self.workspace_id == workspace_id:
            return workspace_id
        raise WorkspaceNotFound()

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden()


def deps_of(request: Request) -> Deps:
    deps: Deps = request.app.state.deps
    return deps


def presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE) or None


async def principal(request: Request) -> Principal:
    """FastAPI dependency: the caller's key, or 401."""
    token = presented_key(request)
    if not token:
        raise NotAuthenticated()
    deps = deps_of(request)
    async with deps.db.transaction() as tx:
        key = await apikeys.authenticate(tx, token)
    if key is None:
        raise NotAuthenticated(
            "This API key is unknown or revoked; use a current key (sfbridge keys create)."
        )
    return Principal(key_id=key.id, scope=key.scope, workspace_id=key.workspace_id)
