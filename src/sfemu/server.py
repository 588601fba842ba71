"""Serving the emulator with uvicorn: in a background thread (tests, sfbridge) or in the
foreground (the CLI).

``serve_in_thread(emulator)`` binds a free loopback port by default and returns once the
server accepts connections::

    running = serve_in_thread(Emulator.with_default_org())
    ...  # talk to running.url
    running.stop()
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import Scope

from sfemu.app import create_app
from sfemu.runtime import Emulator
from sfemu.tls import TlsFiles

STARTUP_TIMEOUT = 15.0


class ServerError(RuntimeError):
    """The server could not start."""


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port`` 0 picks a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when the
    # protocol number says TCP (proto 0 would leave Nagle on: ~40 ms per response).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServerError(f"cannot bind {host}:{port}: {exc}") from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _url(host: str, port: int, tls: TlsFiles | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}"


def _dropper(server: uvicorn.Server) -> Callable[[Scope], bool]:
    """Close the socket of the connection serving ``scope`` without any response."""

    def drop(scope: Scope) -> bool:
        client = scope.get("client")
        for protocol in list(server.server_state.connections):
            if getattr(protocol, "scope", None) is scope:
                protocol.transport.abort()
                return True
        for protocol in list(server.server_state.connections):
            peer = protocol.transport.get_extra_info("peername")
            if client and peer and tuple(peer[:2]) == tuple(client):
                protocol.transport.abort()
                return True
        return False

    return drop


def build_server(
    emulator: Emulator,
    *,
    tls: TlsFiles | None = None,
    control_plane: bool = True,
    log_level: str = "warning",
) -> uvicorn.Server:
    """A uvicorn server for the emulator's app (not started)."""
    app = create_app(emulator, control_plane=control_plane)
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        ssl_certfile=str(tls.cert_path) if tls else None,
        ssl_keyfile=str(tls.key_path) if tls else None,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    app.state.data_api.dropper = _dropper(server)
    return server


@dataclass(frozen=True, slots=True, kw_only=True)
class RunningServer:
    """A server running in a background thread."""

    url: str
    host: str
    port: int
    emulator: Emulator
    ca_path: Path | None = None
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _loops: list[asyncio.AbstractEventLoop] = field(repr=False)

    def stop(self, timeout: float = 10.0) -> None:
        """Shut down (lifespan shutdown runs: callouts drained, state saved).

        Open keep-alive connections are cut at once: a TLS close would otherwise wait for
        clients that keep idle sockets in their pools.
        """
        server = self._server
        server.should_exit = True
        for loop in self._loops:
            if loop.is_running():
                loop.call_soon_threadsafe(_abort_connections, server)
        self._thread.join(timeout)


def _abort_connections(server: uvicorn.Server) -> None:
    for protocol in list(server.server_state.connections):
        protocol.transport.abort()


def serve_in_thread(
    emulator: Emulator,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: TlsFiles | None = None,
    *,
    control_plane: bool = True,
) -> RunningServer:
    """Start the emulator in a daemon thread and wait until it accepts connections.

    Args:
        emulator: the state to serve.
        host: address to bind.
        port: port to bind (0: a free one).
        tls: certificate files for HTTPS (None: plain HTTP).
        control_plane: mount ``/_emulator/``.

    Returns:
        The running server; call ``stop()`` when done.

    Raises:
        ServerError: when the server does not start in time.
    """
    sock = bind_socket(host, port)
    bound_port = sock.getsockname()[1]
    server = build_server(emulator, tls=tls, control_plane=control_plane)
    failure: list[BaseException] = []
    loops: list[asyncio.AbstractEventLoop] = []

    async def main() -> None:
        loops.append(asyncio.get_running_loop())
        await server.serve(sockets=[sock])

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to the starting thread
            failure.append(exc)
        finally:
            sock.close()

    thread = threading.Thread(target=run, name=f"sfemu-{bound_port}", daemon=True)
    thread.start()
    waited = 0.0
    while not server.started:
        if failure or not thread.is_alive():
            raise ServerError(f"sfemu did not start: {failure[0] if failure else 'exited'}")
        if waited > STARTUP_TIMEOUT:
            server.should_exit = True
            raise ServerError("sfemu did not start in time")
        threading.Event().wait(0.01)
        waited += 0.01
    return RunningServer(
        url=_url(host, bound_port, tls),
        host=host,
        port=bound_port,
        emulator=emulator,
        ca_path=tls.ca_path if tls else None,
        _server=server,
        _thread=thread,
        _loops=loops,
    )


async def serve_foreground(
    emulator: Emulator,
    *,
    host: str,
    port: int,
    tls: TlsFiles | None,
    control_plane: bool,
    on_ready: Callable[[str], Awaitable[Any] | None],
) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn's handlers); call ``on_ready(url)`` once listening."""
    sock = bind_socket(host, port)
    bound_port = sock.getsockname()[1]
    server = build_server(emulator, tls=tls, control_plane=control_plane, log_level="warning")

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.01)
        result = on_ready(_url(host, bound_port, tls))
        if result is not None:
            await result

    announcer = asyncio.create_task(announce())
    try:
        await server.serve(sockets=[sock])
    finally:
        announcer.cancel()
        sock.close()
