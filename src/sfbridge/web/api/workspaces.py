"""Workspaces and their API keys."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from sfbridge.store import apikeys, workspaces
from sfbridge.store.apikeys import ApiKey
from sfbridge.store.workspaces import Workspace
from sfbridge.web.auth import Principal, WorkspaceNotFound, deps_of, principal

router = APIRouter(prefix="/api/v1", tags=["workspaces"])
Caller = Annotated[Principal, Depends(principal)]


class WorkspaceOut(BaseModel):
    id: str
    name: str
    is_demo: bool
    created_at: dt.datetime


class NewWorkspace(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class KeyOut(BaseModel):
    id: str
    prefix: str
    label: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class NewKey(BaseModel):
    label: str = Field(default="", max_length=200)


class CreatedKey(BaseModel):
    key: KeyOut
    api_key: str = Field(description="The full key. Shown only this once; store it now.")


class CreatedWorkspace(BaseModel):
    workspace: WorkspaceOut
    api_key: str = Field(description="A key for this workspace. Shown only this once.")


def _ws(w: Workspace) -> WorkspaceOut:
    return WorkspaceOut(id=w.id, name=w.name, is_demo=w.is_demo, created_at=w.created_at)


def _key(k: ApiKey) -> KeyOut:
    return KeyOut(
        id=k.id,
        prefix=k.prefix,
        label=k.label,
        created_at=k.created_at,
        last_used_at=k.last_used_at,
        revoked_at=k.revoked_at,
    )


@router.get("/workspaces")
async def list_workspaces(request: Request, caller: Caller) -> list[WorkspaceOut]:
    """Every workspace the key can see (an admin key: all; a workspace key: its own)."""
    async with deps_of(request).db.transaction() as tx:
        if caller.is_admin:
            found = await workspaces.list_all(tx)
        else:
            one = await workspaces.get(tx, caller.workspace_id or "")
            found = [one] if one else []
    return [_ws(w) for w in found]


@router.post("/workspaces", status_code=201)
async def create_workspace(
    request: Request, caller: Caller, body: NewWorkspace
) -> CreatedWorkspace:
    """Create a workspace (admin key only) and its first API key."""
    caller.require_admin()
    async with deps_of(request).db.transaction() as tx:
        ws = await workspaces.create(tx, name=body.name.strip())
        key = await apikeys.create_workspace_key(tx, ws.id, label="first key")
    return CreatedWorkspace(workspace=_ws(ws), api_key=key.token.reveal())


@router.get("/workspaces/{workspace_id}")
async def get_workspace(request: Request, caller: Caller, workspace_id: str) -> WorkspaceOut:
    caller.check_workspace(workspace_id)
    async with deps_of(request).db.transaction() as tx:
        ws = await workspaces.get(tx, workspace_id)
    if ws is None:
        raise WorkspaceNotFound()
    return _ws(ws)


@router.get("/workspaces/{workspace_id}/keys")
async def list_keys(request: Request, caller: Caller, workspace_id: str) -> list[KeyOut]:
    caller.check_workspace(workspace_id)
    async with deps_of(request).db.transaction() as tx:
        return [_key(k) for k in await apikeys.list_keys(tx, workspace_id)]


@router.post("/workspaces/{workspace_id}/keys", status_code=201)
async def create_key(
    request: Request, caller: Caller, workspace_id: str, body: NewKey
) -> CreatedKey:
    """Create another key for the workspace; the full key is returned only now."""
    caller.check_workspace(workspace_id)
    async with deps_of(request).db.transaction() as tx:
        if await workspaces.get(tx, workspace_id) is None:
            raise WorkspaceNotFound()
        new = await apikeys.create_workspace_key(tx, workspace_id, label=body.label)
    return CreatedKey(key=_key(new.key), api_key=new.token.reveal())


@router.delete("/workspaces/{workspace_id}/keys/{key_id}", status_code=204)
async def revoke_key(request: Request, caller: Caller, workspace_id: str, key_id: str) -> None:
    caller.check_workspace(workspace_id)
    async with deps_of(request).db.transaction() as tx:
        if not await apikeys.revoke(tx, workspace_id, key_id):
            raise WorkspaceNotFound("No such key in this workspace.")
