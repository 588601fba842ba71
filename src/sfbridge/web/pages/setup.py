"""Setup pages: the email-cases settings form and the Apex to install in Salesforce."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from sfbridge.core.office_hours import OutsideHoursPolicy
from sfbridge.services.email import apex
from sfbridge.services.email import sessions as email_api
from sfbridge.web.auth import deps_of
from sfbridge.web.pages.common import WorkspaceContext, go, render_ws, workspace_context
from sfbridge.web.pages.settings_form import WEEKDAYS, SettingsFormInvalid, from_form, to_form

router = APIRouter(include_in_schema=False)

POLICIES = (
    (
        OutsideHoursPolicy.HANDOFF_AND_ACK.value,
        "Create the Case now and tell the customer when we reply",
    ),
    (OutsideHoursPolicy.HOLD_UNTIL_OPEN.value, "Wait: create the Case when the office opens"),
)


def _settings_page(
    request: Request,
    ctx: WorkspaceContext,
    form: dict[str, str],
    problems: tuple[str, ...] = (),
    bad: frozenset[str] = frozenset(),
) -> HTMLResponse:
    return render_ws(
        request,
        ctx,
        "email_settings.html",
        tab="settings",
        form=form,
        problems=problems,
        bad=bad,
        weekdays=WEEKDAYS,
        policies=POLICIES,
        status_code=422 if problems else 200,
    )


@router.get("/admin/workspaces/{workspace_id}/email-settings")
async def email_settings(request: Request, workspace_id: str) -> HTMLResponse:
    """The settings form, filled with the saved settings (or the defaults)."""
    ctx = await workspace_context(request, workspace_id)
    current = await email_api.get_settings(deps_of(request).db, workspace_id)
    return _settings_page(request, ctx, to_form(current))


@router.post("/admin/workspaces/{workspace_id}/email-settings", response_model=None)
async def save_email_settings(request: Request, workspace_id: str) -> Response:
    """Save the form (the same service as ``PUT .../email-settings``); on a mistake, show the
    form again with what was typed and one sentence per wrong field."""
    ctx = await workspace_context(request, workspace_id)
    posted = await request.form()
    form = {k: v for k, v in posted.items() if isinstance(v, str)}
    try:
        chosen = from_form(form)
    except SettingsFormInvalid as exc:
        return _settings_page(request, ctx, form, exc.problems, exc.fields)
    await email_api.put_settings(deps_of(request).db, workspace_id, chosen)
    return go(f"{ctx.base}/email-settings", "Email settings saved.")


@router.get("/admin/workspaces/{workspace_id}/apex")
async def apex_setup(request: Request, workspace_id: str) -> HTMLResponse:
    """The Apex (callout class, triggers, test class) with this workspace's webhook URL."""
    ctx = await workspace_context(request, workspace_id)
    view = await deps_of(request).connections.view(workspace_id)
    bundle = apex.render_bundle(webhook_url=view.webhook_url)
    steps = [line.partition(". ")[2] or line for line in bundle.instructions.splitlines()]
    return render_ws(request, ctx, "apex.html", tab="apex", bundle=bundle, steps=steps)
