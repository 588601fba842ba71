"""Traces and failed jobs of a workspace."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from sfbridge import jobs
from sfbridge.services.doctor import diagnose
from sfbridge.store import traces
from sfbridge.store.traces import Trace, TraceStatus
from sfbridge.web.auth import Principal, WorkspaceNotFound, deps_of, principal

router = APIRouter(prefix="/api/v1/workspaces/{workspace_id}", tags=["operations"])
Caller = Annotated[Principal, Depends(principal)]


class TraceOut(BaseModel):
    id: str
    activity_id: str
    activity_type: str
    status: str
    started_at: dt.datetime
    duration_ms: int | None
    steps: list[dict[str, Any]]


class TracePageOut(BaseModel):
    items: list[TraceOut]
    next_cursor: str | None


class FailedJobOut(BaseModel):
    id: int
    task_name: str
    attempts: int
    error_type: str | None
    message: str | None
    failed_at: dt.datetime | None


def _trace(t: Trace, *, with_steps: bool) -> TraceOut:
    steps: list[dict[str, Any]] = []
    if with_steps:
        steps = [
            {
                "name": s.name,
                "status": s.status,
                "duration_ms": s.duration_ms,
                "detail": s.detail,
                "calls": [
                    {
                        "method": c.method,
                        "path": c.path,
                        "status": c.status,
                        "duration_ms": c.duration_ms,
                        "attempts": c.attempts,
                    }
                    for c in s.calls
                ],
            }
            for s in t.steps
        ]
    return TraceOut(
        id=t.id,
        activity_id=t.activity_id,
        activity_type=t.activity_type,
        status=t.status.value,
        started_at=t.started_at,
        duration_ms=t.duration_ms,
        steps=steps,
    )


@router.get("/traces")
async def list_traces(
    request: Request,
    caller: Caller,
    workspace_id: str,
    status: Annotated[
        TraceStatus | None, Query(description="Complete, Complete with errors, Error, Running")
    ] = None,
    activity_type: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=traces.MAX_PAGE)] = 50,
    cursor: str | None = None,
) -> TracePageOut:
    """Pipeline runs, newest first, with filters and keyset paging (pass ``next_cursor``)."""
    caller.check_workspace(workspace_id)
    async with deps_of(request).db.transaction() as tx:
        page = await traces.list_page(
            tx,
            workspace_id,
            status=status,
            activity_type=activity_type,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )
    return TracePageOut(
        items=[_trace(t, with_steps=False) for t in page.items], next_cursor=page.next_cursor
    )


@router.get("/traces/{trace_id}")
async def get_trace(request: Request, caller: Caller, workspace_id: str, trace_id: str) -> TraceOut:
    """One run in full: every step, its detail and the Salesforce calls it made."""
    caller.check_workspace(workspace_id)
    async with deps_of(request).db.transaction() as tx:
        found = await traces.get(tx, workspace_id, trace_id)
    if found is None:
        raise WorkspaceNotFound("No such trace in this workspace.")
    return _trace(found, with_steps=True)


@router.get("/jobs/failed")
async def failed_jobs(request: Request, caller: Caller, workspace_id: str) -> list[FailedJobOut]:
    """Jobs that ran out of attempts, with their last error."""
    caller.check_workspace(workspace_id)
    async with deps_of(request).db.transaction() as tx:
        found = await jobs.list_failed_jobs(tx, workspace_id)
    return [
        FailedJobOut(
            id=j.id,
            task_name=j.task_name,
            attempts=j.attempts,
            error_type=j.error_type,
            message=j.error_message,
            failed_at=j.failed_at,
        )
        for j in found
    ]


@router.post("/jobs/{job_id}/replay", status_code=202)
async def replay_job(
    request: Request, caller: Caller, workspace_id: str, job_id: int
) -> dict[str, str]:
    """Queue a failed job again."""
    caller.check_workspace(workspace_id)
    async with deps_of(request).db.transaction() as tx:
        await jobs.replay(tx, workspace_id, job_id)
    return {"status": "queued"}


class CheckOut(BaseModel):
    name: str
    outcome: str = Field(description="ok | warning | failed | skipped")
    detail: str
    fix: str = Field(description="One sentence: how to fix it (empty when ok).")


@router.get("/doctor")
async def doctor(request: Request, caller: Caller, workspace_id: str) -> list[CheckOut]:
    """Diagnose the workspace's Salesforce setup; every failed check says how to fix it."""
    caller.check_workspace(workspace_id)
    checks = await diagnose(deps_of(request), workspace_id)
    return [
        CheckOut(name=c.name, outcome=c.outcome.value, detail=c.detail, fix=c.fix) for c in checks
    ]
