"""Diagnostics: is this workspace's Salesforce setup healthy? Each failed check says how to fix it.

Used by ``sfbridge doctor`` and ``GET /api/v1/workspaces/{id}/doctor``. The Salesforce checks
cost a handful of API calls (limits, and one describe per object, in parallel).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from sfbridge.deps import Deps
from sfbridge.salesforce.errors import (
    ReconnectNeeded,
    RequestRefused,
    SalesforceError,
    TransportFailure,
)
from sfbridge.store import events
from sfbridge.store.connections import ConnectionStatus


class Outcome(enum.StrEnum):
    OK = "ok"
    WARNING = "warning"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, kw_only=True, slots=True)
class Check:
    name: str
    outcome: Outcome
    detail: str
    fix: str = ""


#: Custom fields the email-cases feature uses: (object, field, must be an external id).
REQUIRED_FIELDS = (
    ("Case", "Case_From__c", False),
    ("Case", "conversationId__c", True),
)
CREATE_OBJECTS = ("Case", "CaseComment", "Task", "Lead")
FIELD_FIX = (
    "In Salesforce Setup open Object Manager, {obj}, Fields & Relationships, New: Text (255) "
    "named {label}{ext}; give the integration user edit access (see docs/setup-email-cases.md)."
)


async def diagnose(deps: Deps, workspace_id: str) -> list[Check]:
    """Run every check for a workspace, cheapest first."""
    checks: list[Check] = []
    view = await deps.connections.view(workspace_id)
    if view.status != ConnectionStatus.CONNECTED:
        checks.append(
            Check(
                name="connection",
                outcome=Outcome.FAILED,
                detail=f"status is {view.status.value.replace('_', ' ')}"
                + (f": {view.last_error}" if view.last_error else ""),
                fix="Open the workspace in the admin pages and click Connect to Salesforce.",
            )
        )
    else:
        checks.append(
            Check(
                name="connection",
                outcome=Outcome.OK,
                detail=f"connected as {view.username} to org {view.org_id} ({view.environment})",
            )
        )
        checks.extend(await _salesforce_checks(deps, workspace_id))
    checks.extend(await _local_checks(deps, workspace_id))
    return checks


async def _salesforce_checks(deps: Deps, workspace_id: str) -> list[Check]:
    try:
        client = await deps.access.client(workspace_id)
        limits = await client.limits()
    except ReconnectNeeded as exc:
        return [
            Check(
                name="token",
                outcome=Outcome.FAILED,
                detail=f"Salesforce refused the stored grant ({exc})",
                fix="Click Connect again in the admin pages (the refresh token was revoked or expired).",
            )
        ]
    except RequestRefused as exc:
        return [
            Check(
                name="api access",
                outcome=Outcome.FAILED,
                detail=str(exc),
                fix="Use an edition with API access and give the integration user the "
                "'API Enabled' permission.",
            )
        ]
    except TransportFailure as exc:
        return [
            Check(
                name="api access",
                outcome=Outcome.FAILED,
                detail=str(exc),
                fix="Check that this machine can reach the instance URL (network, proxy, "
                "firewall); in demo mode, start sfbridge serve so the emulated org runs.",
            )
        ]
    except SalesforceError as exc:
        return [
            Check(
                name="api access",
                outcome=Outcome.FAILED,
                detail=str(exc),
                fix="Salesforce refused the call; the detail says why. Retry later if it is "
                "a temporary outage.",
            )
        ]
    checks = [
        Check(name="token and API access", outcome=Outcome.OK, detail="a live API call succeeded")
    ]
    checks.append(_usage_check(limits))
    names = sorted({obj for obj, _f, _e in REQUIRED_FIELDS} | set(CREATE_OBJECTS))
    described = await asyncio.gather(
        *(client.describe(name) for name in names), return_exceptions=True
    )
    by_name: dict[str, dict[str, Any]] = {}
    for name, result in zip(names, described, strict=True):
        if isinstance(result, BaseException):
            checks.append(
                Check(
                    name=f"{name} object",
                    outcome=Outcome.FAILED,
                    detail=f"cannot describe {name}: {result}",
                    fix=f"Give the integration user read access to {name}.",
                )
            )
        else:
            by_name[name] = result
    for obj in CREATE_OBJECTS:
        if obj in by_name:
            ok = bool(by_name[obj].get("createable"))
            checks.append(
                Check(
                    name=f"create {obj}",
                    outcome=Outcome.OK if ok else Outcome.FAILED,
                    detail="allowed" if ok else "not allowed for the integration user",
                    fix="" if ok else f"Give the integration user's profile Create on {obj}.",
                )
            )
    for obj, field, external in REQUIRED_FIELDS:
        checks.append(_field_check(by_name.get(obj), obj, field, external))
    task = by_name.get("Task")
    if task is not None:
        created = _field(task, "CreatedDate")
        ok = bool(created and created.get("createable"))
        checks.append(
            Check(
                name="set audit fields",
                outcome=Outcome.OK if ok else Outcome.WARNING,
                detail="records can carry their real time and author"
                if ok
                else "records will show the sync time, not when the conversation happened",
                fix=""
                if ok
                else "Assign the integration user a permission set with 'Set Audit Fields upon "
                "Record Creation'.",
            )
        )
    return checks


def _field(describe: dict[str, Any], name: str) -> dict[str, Any] | None:
    for f in describe.get("fields", []):
        if str(f.get("name", "")).lower() == name.lower():
            return dict(f)
    return None


def _field_check(describe: dict[str, Any] | None, obj: str, field: str, external: bool) -> Check:
    name = f"{obj}.{field}"
    if describe is None:
        return Check(name=name, outcome=Outcome.SKIPPED, detail=f"{obj} could not be described")
    found = _field(describe, field)
    label = field.removesuffix("__c")
    fix = FIELD_FIX.format(
        obj=obj, label=label, ext=", tick Unique and External ID" if external else ""
    )
    if found is None:
        return Check(name=name, outcome=Outcome.FAILED, detail="missing", fix=fix)
    if not (found.get("createable") and found.get("updateable")):
        return Check(
            name=name,
            outcome=Outcome.FAILED,
            detail="present but not writable by the integration user",
            fix=f"Give the integration user Edit access to {name} (field-level security).",
        )
    if external and not found.get("externalId"):
        return Check(
            name=name,
            outcome=Outcome.WARNING,
            detail="present but not an external id: retries fall back to a slower lookup",
            fix=f"Edit {name} and tick Unique and External ID.",
        )
    return Check(name=name, outcome=Outcome.OK, detail="present and writable")


def _usage_check(limits: dict[str, Any]) -> Check:
    daily = limits.get("DailyApiRequests") or {}
    top, left = int(daily.get("Max", 0)), int(daily.get("Remaining", 0))
    if not top:
        return Check(name="API usage", outcome=Outcome.SKIPPED, detail="the org reported no limit")
    used = (top - left) / top
    outcome = Outcome.OK if used < 0.8 else Outcome.WARNING if used < 0.95 else Outcome.FAILED
    return Check(
        name="API usage",
        outcome=outcome,
        detail=f"{top - left} of {top} daily API requests used ({used:.0%})",
        fix=""
        if outcome is Outcome.OK
        else "Find the integration using the most calls "
        "(Setup, System Overview) or buy more API capacity; sfbridge defers deferrable work above 90%.",
    )


async def _local_checks(deps: Deps, workspace_id: str) -> list[Check]:
    async with deps.db.transaction() as tx:
        last = await events.last_received_at(tx, workspace_id)
        rows = await tx.fetch_all("doctor_job_counts", {"workspace_id": workspace_id})
    checks = []
    if last is None:
        checks.append(
            Check(
                name="webhook",
                outcome=Outcome.WARNING,
                detail="no webhook received yet",
                fix="Install the Named Credential and Apex from docs/setup-email-cases.md, then "
                "create a test Case.",
            )
        )
    else:
        age = dt.datetime.now(dt.UTC) - last
        checks.append(
            Check(name="webhook", outcome=Outcome.OK, detail=f"last received {_ago(age)} ago")
        )
    counts = {row["status"]: int(row["n"]) for row in rows}
    failed, waiting = counts.get("failed", 0), counts.get("todo", 0)
    checks.append(
        Check(
            name="jobs",
            outcome=Outcome.WARNING if failed else Outcome.OK,
            detail=f"{waiting} waiting, {counts.get('doing', 0)} running, {failed} failed",
            fix="See GET /api/v1/workspaces/{id}/jobs/failed and replay them once fixed."
            if failed
            else "",
        )
    )
    return checks


def _ago(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"
