"""The ``sfbridge`` command: serve, worker, migrate, doctor, keys, setup, emulator."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import sys
import time
import warnings
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import typer
import uvicorn
import uvloop
from rich.console import Console

from sfbridge import __version__, compose, demo, jobs
from sfbridge.deps import Deps
from sfbridge.errors import BridgeError, ConfigError
from sfbridge.mail.inbound import InboundSmtpServer
from sfbridge.services.doctor import Outcome, diagnose
from sfbridge.services.email import apex, intake
from sfbridge.services.email import runtime as email_runtime
from sfbridge.settings import Settings, load_settings
from sfbridge.store import apikeys, migrate, workspaces
from sfbridge.web.app import create_app

app = typer.Typer(
    help="sfbridge connects customer conversations (email, chat, phone) to Salesforce.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
setup_app = typer.Typer(help="Assets to install in Salesforce.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(setup_app, name="setup")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def main() -> None:
    """Entry point of the ``sfbridge`` script."""
    # pgserver's platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI): harmless.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    app()


def _settings(overrides: dict[str, str] | None = None) -> Settings:
    """Settings from the environment; command-line options win over it."""
    try:
        return load_settings({**os.environ, **(overrides or {})})
    except ConfigError as exc:
        err.print(f"[bold red]Configuration error:[/] {exc.message}")
        raise typer.Exit(2) from exc


def _run(coro: Coroutine[Any, Any, int | None]) -> None:
    try:
        # uvloop (installed with uvicorn[standard]) costs 10-20% less CPU per request.
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            code = runner.run(coro)
    except BridgeError as exc:
        err.print(f"[bold red]Error:[/] {exc.message}")
        raise typer.Exit(1) from exc
    if code:
        raise typer.Exit(code)


@app.command()
def version() -> None:
    """Print the version."""
    out.print(f"sfbridge {__version__}")


@app.command(name="migrate")
def migrate_command() -> None:
    """Apply database migrations (safe to run from several machines at once)."""

    async def go() -> None:
        settings = _settings()
        async with compose.database(settings, up_to_date=False) as db:
            report = await migrate.migrate(db)
        applied = ", ".join(report.applied) or "nothing to do"
        out.print(f"[green]Migrations:[/] {applied}")

    _run(go())


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address for the HTTP API and admin pages.")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port for the HTTP API and admin pages.")] = None,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Do not run jobs here.")] = False,
    no_mail: Annotated[bool, typer.Option("--no-mail", help="Do not listen for SMTP.")] = False,
) -> None:
    """Run everything in one process: API, admin pages, job worker and inbound mail.

    Uses the embedded Postgres under the data directory unless DATABASE_URL is set. With no
    Salesforce org connected, it starts sfemu (the built-in emulator) and connects a demo
    workspace to it.
    """
    overrides = {"SFBRIDGE_HOST": host or "", "SFBRIDGE_PORT": str(port or "")}
    settings = _settings({k: v for k, v in overrides.items() if v})
    _logging(settings)
    _run(_serve(settings, worker=not no_worker, mail=not no_mail))


async def _serve(settings: Settings, *, worker: bool, mail: bool) -> int:
    started = time.perf_counter()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with contextlib.AsyncExitStack() as stack:
        db = await stack.enter_async_context(compose.database(settings))
        demo_rt: demo.DemoRuntime | None = None
        if await demo.wanted(settings, db):
            demo_rt = demo.start_emulator(settings.data_dir)
            stack.callback(demo_rt.server.stop)
        http = await stack.enter_async_context(compose.new_http_client())
        deps = compose.build_deps(
            settings,
            db=db,
            http=http,
            demo=demo_rt.org if demo_rt else None,
            extra_login_hosts=(),
        )
        await stack.enter_async_context(deps.jobs.open_async(pool=db.pool))
        demo_ws = await demo.ensure_demo_workspace(deps, demo_rt) if demo_rt else None
        admin_key = await _bootstrap_admin_key(deps)
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(deps),
                host=settings.host,
                port=settings.port,
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=10,
            )
        )
        # uvicorn captures SIGINT/SIGTERM while it serves: a signal ends the HTTP task, which
        # ends the wait below; our own handlers cover the time before and after.
        tasks: list[asyncio.Task[Any]] = [asyncio.create_task(server.serve(), name="http")]
        if worker:
            tasks.append(asyncio.create_task(_worker(deps), name="worker"))
        for hook in _extra_services(deps, mail=mail):
            tasks.append(asyncio.create_task(hook(stop), name="service"))
        while not server.started:
            if tasks[0].done():
                await tasks[0]
                return 1
            await asyncio.sleep(0.02)
        deps.ready = True
        _announce(settings, deps, admin_key, demo_ws, time.perf_counter() - started)
        done_wait = asyncio.create_task(stop.wait())
        await asyncio.wait([done_wait, *tasks], return_when=asyncio.FIRST_COMPLETED)
        out.print("[yellow]Shutting down: finishing work in flight…[/]")
        deps.ready = False
        server.should_exit = True
        stop.set()
        for task in tasks[1:]:
            if task.get_name() == "worker":
                task.cancel()  # procrastinate finishes running jobs within its grace period
        await asyncio.gather(*tasks, return_exceptions=True)
    return 0


def _extra_services(
    deps: Deps, *, mail: bool
) -> list[Callable[[asyncio.Event], Coroutine[Any, Any, None]]]:
    """Feature services ``serve`` also runs: the inbound SMTP listener."""
    return [functools.partial(_mail_listener, deps)] if mail else []


async def _mail_listener(deps: Deps, stop: asyncio.Event) -> None:
    """Accept mail for the workspaces' addresses until ``stop``; stored before the 250."""
    runtime = email_runtime.runtime_from_deps(deps)
    settings = deps.settings
    server = InboundSmtpServer(
        settings.smtp_listen_host,
        settings.smtp_listen_port,
        accept=functools.partial(intake.accept_envelope, runtime),
        resolve_recipient=functools.partial(intake.resolve_recipient, deps.db),
        max_size_bytes=settings.smtp_max_message_bytes,
    )
    await server.start()
    out.print(
        f"  Inbound mail  smtp://{settings.smtp_listen_host}:{server.port} "
        "(add addresses with POST /api/v1/workspaces/<id>/mail-addresses)"
    )
    try:
        await stop.wait()
    finally:
        await server.stop()


async def _worker(deps: Deps, *, concurrency: int | None = None) -> None:
    await deps.jobs.run_worker_async(
        **jobs.worker_options(
            deps.db,
            concurrency=concurrency or deps.settings.worker_concurrency,
            trace_retention_days=deps.settings.trace_retention_days,
            context={"deps": deps},
            install_signal_handlers=False,
            shutdown_graceful_timeout=20,
        )
    )


async def _bootstrap_admin_key(deps: Deps) -> str | None:
    """Create the first admin key when none exists; it is printed once, never stored plain."""
    async with deps.db.transaction() as tx:
        if await tx.fetch_value("apikey_count_admin"):
            return None
        new = await apikeys.create_admin_key(tx, label="bootstrap (printed by serve)")
    return new.token.reveal()


def _announce(
    settings: Settings,
    deps: Deps,
    admin_key: str | None,
    demo_ws: str | None,
    took: float,
) -> None:
    base = settings.public_url.rstrip("/")
    out.print(f"[bold green]sfbridge {__version__} is ready[/] in {took:.1f} s")
    out.print(f"  Admin pages   {base}/admin")
    out.print(f"  API reference {base}/api/docs")
    out.print(f"  Health        {base}/healthz · {base}/readyz · {base}/metrics")
    if deps.demo is not None:
        out.print(
            f"  [magenta]Demo mode[/]: sfemu (Salesforce emulator) at {deps.demo.instance_url}; "
            f"demo workspace [bold]{demo_ws}[/] is connected to it."
        )
        out.print(f"  Emulator control plane {deps.demo.control_url} (key {deps.demo.control_key})")
    if admin_key:
        out.print(f"  [bold]Admin API key[/] (shown once, store it now): [cyan]{admin_key}[/]")
    else:
        out.print(
            "  Admin API key: already created earlier (make another: sfbridge keys create --admin)"
        )
    out.print("Press Ctrl+C to stop.")


@app.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(help="Jobs run at once.")] = None,
) -> None:
    """Run only a job worker (add as many as you like, on any machine with the same DATABASE_URL)."""
    settings = _settings()
    _logging(settings)

    async def go() -> None:
        async with compose.open_deps(settings) as deps:
            out.print(
                f"[green]Worker started[/] (concurrency {concurrency or settings.worker_concurrency})."
            )
            await _worker(deps, concurrency=concurrency)

    with contextlib.suppress(KeyboardInterrupt):
        _run(go())


@app.command()
def doctor(
    workspace: Annotated[
        str | None, typer.Option(help="The workspace id (default: every workspace).")
    ] = None,
) -> None:
    """Check each workspace's Salesforce setup; every failed check says how to fix it."""
    settings = _settings()

    async def go() -> int:
        async with compose.open_deps(settings) as deps:
            async with deps.db.transaction() as tx:
                found = await workspaces.list_all(tx)
            chosen = [w for w in found if workspace in (None, w.id)]
            if not chosen:
                err.print("No such workspace." if workspace else "No workspaces yet.")
                return 2
            failed = 0
            for ws in chosen:
                out.print(f"[bold]{ws.name}[/] ({ws.id})")
                for check in await diagnose(deps, ws.id):
                    mark = _MARKS[check.outcome]
                    out.print(f"  {mark} {check.name}: {check.detail}")
                    if check.fix:
                        out.print(f"      [dim]fix:[/] {check.fix}")
                    failed += check.outcome is Outcome.FAILED
            return 1 if failed else 0

    _run(go())


_MARKS = {
    Outcome.OK: "[green]✓[/]",
    Outcome.WARNING: "[yellow]![/]",
    Outcome.FAILED: "[red]✗[/]",
    Outcome.SKIPPED: "[dim]-[/]",
}


@keys_app.command("create")
def keys_create(
    admin: Annotated[bool, typer.Option("--admin", help="A key for every workspace.")] = False,
    workspace: Annotated[str | None, typer.Option(help="The workspace id.")] = None,
    label: Annotated[str, typer.Option(help="What the key is for.")] = "",
) -> None:
    """Create an API key and print it (only this once)."""
    if admin == bool(workspace):
        err.print("Give exactly one of --admin or --workspace ID.")
        raise typer.Exit(2)
    settings = _settings()

    async def go() -> None:
        async with compose.database(settings) as db, db.transaction() as tx:
            if admin:
                new = await apikeys.create_admin_key(tx, label=label)
            else:
                new = await apikeys.create_workspace_key(tx, workspace or "", label=label)
        out.print(new.token.reveal())

    _run(go())


@setup_app.command("apex")
def setup_apex(
    workspace: Annotated[str, typer.Option(help="The workspace id.")],
) -> None:
    """Print the Named Credential settings and the Apex (class, triggers, test) to install."""
    settings = _settings()

    async def go() -> None:
        async with compose.open_deps(settings) as deps:
            out.print(await apex.apex_setup_text(deps, workspace), markup=False, highlight=False)

    _run(go())


@app.command()
def emulator(
    args: Annotated[
        list[str] | None, typer.Argument(help="Options for sfemu (see --help).")
    ] = None,
) -> None:
    """Run sfemu, the Salesforce emulator, on its own (same as `python -m sfemu`)."""
    from sfemu.__main__ import main as sfemu_main

    sys.argv = ["sfemu", *(args or [])]
    sfemu_main()


def _logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.value,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in (
        "httpx",
        "httpcore",
        "procrastinate",
        "aiosmtpd",
        "mail.log",
        "uvicorn.error",
        "pgserver",
    ):
        logging.getLogger(noisy).setLevel(
            max(logging.WARNING, logging.getLevelName(settings.log_level.value))
        )
