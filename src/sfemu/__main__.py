"""``python -m sfemu``: run a local Salesforce org.

Prints the default org's credentials once the server listens (one JSON line with
``--json``), then serves until Ctrl-C or SIGTERM. With ``--data FILE`` the state is loaded
from and saved to that file.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from sfemu.faults import Latency
from sfemu.runtime import Emulator
from sfemu.server import ServerError, is_loopback, serve_foreground
from sfemu.tls import TlsFiles, generate

cli = typer.Typer(add_completion=False, help="sfemu: a local Salesforce org for tests and demos.")


def ready_info(
    emulator: Emulator, url: str, *, control: bool, tls: TlsFiles | None
) -> dict[str, Any]:
    """What the CLI prints once ready: how to reach and log in to the default org."""
    state = emulator.default_state
    creds = state.credentials
    info: dict[str, Any] = {
        "instance_url": url,
        "login_url": url,
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "username": creds.username,
        "password": creds.password,
        "org_id": state.org_id,
        "user_id": creds.user_id,
        "control_url": f"{url}/_emulator" if control else None,
        "control_key": emulator.control_key if control else None,
    }
    if tls is not None:
        info["ca_cert"] = str(tls.ca_path)
    return info


def _print_human(info: dict[str, Any]) -> None:
    console = Console(stderr=False, soft_wrap=True)
    console.print("[bold green]sfemu is running[/bold green]")
    for key, value in info.items():
        if value is not None:
            console.print(f"  [bold]{key:<14}[/bold] {value}", highlight=False)
    if info.get("ca_cert"):
        console.print(f"Trust the CA: export REQUESTS_CA_BUNDLE={info['ca_cert']}", highlight=False)
    if info.get("control_url"):
        console.print("Control plane: send the header X-Emulator-Key: <control_key>")
    console.print("Press Ctrl-C to stop.")


def _load_or_create(data: Path | None, seed: str | None) -> Emulator:
    if data is not None and data.exists():
        emulator = Emulator.load(data)
        if emulator.default_org_id is None:
            emulator.create_org(seed=seed, default=True)
        return emulator
    emulator = Emulator(data_path=data)
    emulator.create_org(seed=seed, default=True)
    emulator.flush()
    return emulator


@cli.command()
def run(
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8765,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    tls: Annotated[
        bool, typer.Option("--tls", help="Serve HTTPS with a generated local CA.")
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON line with the credentials when ready.")
    ] = False,
    data: Annotated[
        Path | None, typer.Option(help="Persist state in this JSON file (loaded at start).")
    ] = None,
    seed: Annotated[str | None, typer.Option(help="Seed the default org (e.g. demo).")] = None,
    latency: Annotated[float, typer.Option(help="Added latency per API call, in ms.")] = 0.0,
    control: Annotated[
        bool | None,
        typer.Option(
            "--control/--no-control",
            help="Serve the control plane /_emulator/ (default: on for loopback hosts only).",
        ),
    ] = None,
    tls_dir: Annotated[
        Path | None, typer.Option(help="Where to write the CA and certificate (--tls).")
    ] = None,
) -> None:
    """Start the emulator."""
    control_on = is_loopback(host) if control is None else control
    try:
        emulator = _load_or_create(data, seed)
    except (OSError, ValueError, KeyError) as exc:
        typer.echo(f"sfemu: cannot start: {exc}", err=True)
        raise typer.Exit(2) from exc
    if latency:
        emulator.default_state.latency = Latency(fixed_ms=latency)
    tls_files = None
    if tls:
        directory = tls_dir or Path(tempfile.mkdtemp(prefix="sfemu-tls-"))
        tls_files = generate(directory)

    def on_ready(url: str) -> None:
        info = ready_info(emulator, url, control=control_on, tls=tls_files)
        if json_output:
            sys.stdout.write(json.dumps(info) + "\n")
            sys.stdout.flush()
        else:
            _print_human(info)

    try:
        asyncio.run(
            serve_foreground(
                emulator,
                host=host,
                port=port,
                tls=tls_files,
                control_plane=control_on,
                on_ready=on_ready,
            )
        )
    except ServerError as exc:
        typer.echo(f"sfemu: {exc}", err=True)
        raise typer.Exit(2) from exc
    except KeyboardInterrupt:
        pass


def main() -> None:
    """Console-script entry point."""
    cli()


if __name__ == "__main__":
    main()
