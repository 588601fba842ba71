"""Trace every pipeline run: its steps, their outcome and the Salesforce calls they made.

Usage::

    async with tracing.run(db, workspace_id, activity_type="email_handoff",
                           activity_id=session_id) as run:
        async with run.step("find contact") as step:
            contacts = await client.query(...)      # calls land on this step
            step.detail = "1 contact matched"
        async with run.step("set marker field") as step:
            step.warn("Case_From__c is missing; add it (see sfbridge doctor)")

The run's status is ``Error`` when the block raises, ``Complete with errors`` when a step
warned or failed but the run went on, else ``Complete``. The Salesforce client records its
calls through :data:`RECORDER`, which appends to the current step (a context variable), so one
client can serve many concurrent runs. Nothing personal or secret is recorded: paths arrive
already redacted by the client.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import datetime as dt
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sfbridge.store import traces
from sfbridge.store.db import Database
from sfbridge.store.traces import SalesforceCall, TraceStatus, TraceStep

OK = "ok"
WARNING = "warning"
FAILED = "error"


@dataclass(slots=True)
class Step:
    """A step in progress. Set ``detail``; call :meth:`warn` for a non-fatal problem."""

    name: str
    detail: str = ""
    status: str = OK
    calls: list[SalesforceCall] = field(default_factory=list)

    def warn(self, detail: str) -> None:
        """Mark the step as done with a problem worth an admin's attention."""
        self.status = WARNING
        self.detail = detail


@dataclass(slots=True)
class Run:
    """A pipeline run being traced; create it with :func:`run`."""

    steps: list[TraceStep] = field(default_factory=list)

    @contextlib.asynccontextmanager
    async def step(self, name: str) -> AsyncIterator[Step]:
        """Time a step; calls made inside it are attached to it."""
        current = Step(name=name)
        token = _CURRENT.set(current)
        started = time.perf_counter()
        try:
            yield current
        except BaseException as exc:
            current.status = FAILED
            current.detail = current.detail or _describe(exc)
            raise
        finally:
            _CURRENT.reset(token)
            self.steps.append(
                TraceStep(
                    name=current.name,
                    status=current.status,
                    duration_ms=_ms_since(started),
                    detail=current.detail,
                    calls=tuple(current.calls),
                )
            )

    def note(self, name: str, detail: str, *, status: str = OK) -> None:
        """Record an instant step (a decision, not work)."""
        self.steps.append(TraceStep(name=name, status=status, duration_ms=0, detail=detail))

    @property
    def status(self) -> TraceStatus:
        if any(s.status in (WARNING, FAILED) for s in self.steps):
            return TraceStatus.COMPLETE_WITH_ERRORS
        return TraceStatus.COMPLETE


_CURRENT: contextvars.ContextVar[Step | None] = contextvars.ContextVar(
    "sfbridge_trace_step", default=None
)


class _StepRecorder:
    """Appends every Salesforce call to the current step, if any, and counts calls by org
    and HTTP status (``0``: no response) for the metrics endpoint."""

    def __init__(self) -> None:
        self.counts: collections.Counter[tuple[str, int]] = collections.Counter()

    def for_org(self, org_id: str) -> _OrgRecorder:
        """The :class:`CallRecorder` to give the client of one org."""
        return _OrgRecorder(self, org_id)

    def add(self, org_id: str, call: SalesforceCall) -> None:
        self.counts[(org_id, call.status or 0)] += 1
        step = _CURRENT.get()
        if step is not None:
            step.calls.append(call)


@dataclass(frozen=True, slots=True)
class _OrgRecorder:
    """One org's view of the recorder (what a SalesforceClient calls)."""

    recorder: _StepRecorder
    org_id: str

    def record(
        self, method: str, path: str, status: int | None, duration_ms: float, attempts: int
    ) -> None:
        self.recorder.add(
            self.org_id,
            SalesforceCall(
                method=method,
                path=path,
                status=status,
                duration_ms=round(duration_ms),
                attempts=attempts,
            ),
        )


#: Give ``RECORDER.for_org(org_id)`` to every SalesforceClient.
RECORDER = _StepRecorder()


@contextlib.asynccontextmanager
async def run(
    db: Database, workspace_id: str, *, activity_type: str, activity_id: str
) -> AsyncIterator[Run]:
    """Trace a pipeline run; the trace is stored when the block ends, even when it raises."""
    current = Run()
    started_at = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    status = TraceStatus.ERROR
    try:
        yield current
        status = current.status
    finally:
        async with db.transaction() as tx:
            await traces.record(
                tx,
                workspace_id,
                activity_id=activity_id,
                activity_type=activity_type,
                status=status,
                started_at=started_at,
                duration_ms=_ms_since(started),
                steps=current.steps,
            )


def _ms_since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]
