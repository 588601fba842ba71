"""Operations pages: failed jobs (with Replay) and the diagnostics (the doctor's checks)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from sfbridge import jobs
from sfbridge.errors import BridgeError
from sfbridge.services.doctor import Outcome, diagnose
from sfbridge.web.auth import deps_of
from sfbridge.web.pages.common import go, render_ws, workspace_context

router = APIRouter(include_in_schema=False)

#: How each outcome is marked (a symbol for the eye, the word for screen readers).
MARKS = {
    Outcome.OK.value: "✓",
    Outcome.WARNING.value: "!",
    Outcome.FAILED.value: "✗",
    Outcome.SKIPPED.value: "–",
}


#: What a job does, for the failed-jobs page (the task name stays shown beside it).
JOB_LABELS = {
    "process_inbound_mail": "Read a received email",
    "handoff": "Create the Case",
    "push_message": "Add a message to the Case",
    "send_reply": "Email a reply to the customer",
    "handle_webhook_event": "Apply a change from Salesforce",
    "reconcile_cases": "Catch up on missed Case changes",
}


def job_label(task_name: str) -> str:
    """``sfbridge:handoff`` -> ``Create the Case`` (unknown tasks: the bare name)."""
    short = task_name.rpartition(":")[2]
    return JOB_LABELS.get(short, short.replace("_", " "))


@router.get("/admin/workspaces/{workspace_id}/jobs")
async def failed_jobs(request: Request, workspace_id: str) -> HTMLResponse:
    """Jobs that ran out of attempts, newest first, each with its last error."""
    ctx = await workspace_context(request, workspace_id)
    async with deps_of(request).db.transaction() as tx:
        found = await jobs.list_failed_jobs(tx, workspace_id)
    return render_ws(request, ctx, "failed_jobs.html", tab="jobs", jobs=found, label=job_label)


@router.post("/admin/workspaces/{workspace_id}/jobs/{job_id}/replay")
async def replay(request: Request, workspace_id: str, job_id: int) -> RedirectResponse:
    """Queue a failed job again (the same service as ``POST .../jobs/{id}/replay``)."""
    ctx = await workspace_context(request, workspace_id)
    here = f"{ctx.base}/jobs"
    try:
        async with deps_of(request).db.transaction() as tx:
            await jobs.replay(tx, workspace_id, job_id)
    except BridgeError as exc:
        return go(here, problem=exc.message)
    return go(here, f"Job {job_id} is queued again.")


@router.get("/admin/workspaces/{workspace_id}/diagnostics")
async def diagnostics(request: Request, workspace_id: str) -> HTMLResponse:
    """Run the doctor's checks now; each failed one says how to fix it."""
    ctx = await workspace_context(request, workspace_id)
    checks = await diagnose(deps_of(request), workspace_id)
    counts = {o.value: sum(c.outcome is o for c in checks) for o in Outcome}
    return render_ws(
        request,
        ctx,
        "diagnostics.html",
        tab="diagnostics",
        checks=checks,
        counts=counts,
        marks=MARKS,
    )
