"""Storage of workspaces: one customer's setup (tenant) that owns every other row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sfbridge.store.db import Json, Row, Transaction


@dataclass(frozen=True, kw_only=True, slots=True)
class Workspace:
    """A tenant. ``settings`` holds its feature settings (a JSON object)."""

    id: str
    name: str
    is_demo: bool
    settings: Mapping[str, Any]
    created_at: dt.datetime


def _workspace(row: Row) -> Workspace:
    return Workspace(
        id=row["id"],
        name=row["name"],
        is_demo=row["is_demo"],
        settings=row["settings"],
        created_at=row["created_at"],
    )


async def create(
    tx: Transaction,
    *,
    name: str,
    is_demo: bool = False,
    settings: Mapping[str, Any] | None = None,
) -> Workspace:
    """Create a workspace.

    Raises:
        InvalidRow: The name is empty or longer than 200 characters.
    """
    row = await tx.fetch_required(
        "workspace_create",
        {"name": name, "is_demo": is_demo, "settings": Json(dict(settings or {}))},
    )
    return _workspace(row)


async def get(tx: Transaction, workspace_id: str) -> Workspace | None:
    """Return the workspace, or ``None``."""
    row = await tx.fetch_one("workspace_get", {"workspace_id": workspace_id})
    return None if row is None else _workspace(row)


async def list_all(tx: Transaction) -> list[Workspace]:
    """Return every workspace (for admin keys only), oldest first."""
    return [_workspace(r) for r in await tx.fetch_all("workspace_list")]


async def find_demo(tx: Transaction) -> Workspace | None:
    """Return the installation's demo workspace, if one exists."""
    row = await tx.fetch_one("workspace_find_demo")
    return None if row is None else _workspace(row)


async def rename(tx: Transaction, workspace_id: str, name: str) -> Workspace | None:
    """Rename the workspace; ``None`` if it does not exist."""
    row = await tx.fetch_one("workspace_rename", {"workspace_id": workspace_id, "name": name})
    return None if row is None else _workspace(row)


async def merge_settings(
    tx: Transaction, workspace_id: str, changes: Mapping[str, Any]
) -> Workspace | None:
    """Set the given top-level settings keys (others are kept); ``None`` if no workspace."""
    row = await tx.fetch_one(
        "workspace_merge_settings", {"workspace_id": workspace_id, "changes": Json(dict(changes))}
    )
    return None if row is None else _workspace(row)


async def delete(tx: Transaction, workspace_id: str) -> bool:
    """Delete the workspace and everything it owns; False if it did not exist."""
    return await tx.execute("workspace_delete", {"workspace_id": workspace_id}) == 1
