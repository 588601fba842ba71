"""Server helpers: socket binding, loopback detection, TLS files."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import httpx
import pytest

from sfemu import tls
from sfemu.runtime import Emulator
from sfemu.server import ServerError, bind_socket, is_loopback, serve_in_thread


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),  # noqa: S104 - a host string, nothing is bound
        ("10.1.2.3", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_bound_socket_is_tcp_so_accepted_sockets_get_nodelay() -> None:
    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockname()[1] > 0
    finally:
        sock.close()


def test_busy_port_is_a_server_error() -> None:
    sock = bind_socket("127.0.0.1", 0)
    try:
        with pytest.raises(ServerError, match="cannot bind"):
            bind_socket("127.0.0.1", sock.getsockname()[1])
    finally:
        sock.close()


def test_tls_files_serve_https(tmp_path: Path) -> None:
    files = tls.generate(tmp_path)
    assert files.key_path.stat().st_mode & 0o777 == 0o600
    running = serve_in_thread(Emulator.with_default_org(), tls=files)
    try:
        assert running.url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(files.ca_path))
        for host in ("127.0.0.1", "localhost"):
            url = f"https://{host}:{running.port}/services/data/"
            assert httpx.get(url, verify=context).status_code == 200
    finally:
        running.stop()
