"""The composition root: the one place that reads settings and wires concrete parts together.

Entry points (``serve``, ``worker``, ``migrate``, ``doctor``, tests) call :func:`open_deps`
and get a :class:`~sfbridge.deps.Deps`; nothing else builds database pools, HTTP clients or
the job app.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from pathlib import Path

import httpx
from procrastinate import App, Blueprint

from sfbridge import jobs
from sfbridge.deps import DemoOrg, Deps
from sfbridge.salesforce.governor import Governor
from sfbridge.secrets import SecretBox, box_for
from sfbridge.services import refresh, tracing
from sfbridge.services.connections import ConnectionService
from sfbridge.services.email import tasks as email_tasks
from sfbridge.services.sfaccess import SalesforceAccess
from sfbridge.settings import Settings
from sfbridge.store import embedded, migrate
from sfbridge.store.db import Database

#: Timeouts for every Salesforce call: connect fast, allow slow queries.
SALESFORCE_TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=30.0, pool=30.0)


def task_registrars() -> list[Callable[[Blueprint], None]]:
    """Every feature's task registrar (each feature adds its own here)."""
    return [email_tasks.register, refresh.register]


def new_http_client(*, verify: bool | str = True) -> httpx.AsyncClient:
    """The pooled HTTP client for Salesforce (keep-alive, HTTP/1.1)."""
    return httpx.AsyncClient(
        timeout=SALESFORCE_TIMEOUT,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        verify=verify,
        follow_redirects=False,
    )


def build_deps(
    settings: Settings,
    *,
    db: Database,
    http: httpx.AsyncClient,
    box: SecretBox | None = None,
    extra_login_hosts: Sequence[str] = (),
    demo: DemoOrg | None = None,
    registrars: Iterable[Callable[[Blueprint], None]] | None = None,
) -> Deps:
    """Wire every part around an open database and HTTP client."""
    box = box or box_for(settings)
    access = SalesforceAccess(db, box, http, Governor(), recorder_for=tracing.RECORDER.for_org)
    app: App = jobs.create_job_app(
        db, registrars=task_registrars() if registrars is None else registrars
    )
    return Deps(
        settings=settings,
        db=db,
        box=box,
        jobs=app,
        access=access,
        connections=ConnectionService(
            db, box, settings, access, extra_login_hosts=extra_login_hosts
        ),
        demo=demo,
    )


@contextlib.asynccontextmanager
async def database(settings: Settings, *, up_to_date: bool = True) -> AsyncIterator[Database]:
    """Open the configured database (``DATABASE_URL``, or the embedded server in the data dir)
    and bring its schema up to date: every entry point may meet a database an older version
    left behind. Migrating is idempotent and takes a lock, so processes may start together.
    ``up_to_date=False`` leaves the schema alone (``sfbridge migrate`` reports what it applies)."""
    server: embedded.EmbeddedPostgres | None = None
    if settings.database_url is not None:
        url = settings.database_url.reveal()
    else:
        server = await embedded.start(Path(settings.data_dir) / "pg")
        url = server.url
    db = await Database.connect(url, max_size=settings.db_pool_size)
    try:
        if up_to_date:
            await migrate.migrate(db)
        yield db
    finally:
        await db.close()
        if server is not None:
            server.stop()


@contextlib.asynccontextmanager
async def open_deps(
    settings: Settings,
    *,
    extra_login_hosts: Sequence[str] = (),
    demo: DemoOrg | None = None,
    verify: bool | str = True,
) -> AsyncIterator[Deps]:
    """Open everything for one process and close it all on exit (the job app included)."""
    async with database(settings) as db, new_http_client(verify=verify) as http:
        deps = build_deps(
            settings, db=db, http=http, extra_login_hosts=extra_login_hosts, demo=demo
        )
        async with deps.jobs.open_async(pool=db.pool):
            yield deps
