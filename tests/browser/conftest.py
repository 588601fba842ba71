"""Browser tests: ``sfbridge serve`` as a real process (embedded Postgres, demo org on sfemu,
SMTP listener, worker) driven by Debian's Chromium through Playwright.

Chromium is never downloaded: it is ``/usr/bin/chromium`` (``scripts/test`` installs it with
apt when missing and run as root). Without it these tests are skipped, unless
``SFBRIDGE_REQUIRE_BROWSER=1`` (set by ``scripts/test`` after installing) makes that a failure.
Screenshots go to ``/tmp/sfbridge-browser/``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path("/tmp/sfbridge-browser")
SFBRIDGE = str(Path(sys.executable).parent / "sfbridge")
DEMO_ADDRESS = "support@demo.sfbridge.localhost"
_KEY = re.compile(r"sfb_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")
_CONTROL = re.compile(r"Emulator control plane (\S+) \(key (\S+)\)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    """A running ``sfbridge serve`` and what it printed."""

    proc: subprocess.Popen[str]
    output: list[str]
    data_dir: Path
    base: str
    smtp_port: int
    admin_key: str
    control_url: str
    control_key: str

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the emulator's control plane (``/_emulator/orgs/default`` + ``path``)."""
        request = urllib.request.Request(
            f"{self.control_url}/orgs/default{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"X-Emulator-Key": self.control_key, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def database_url(self) -> str:
        """The URL of the server's embedded Postgres (read from its postmaster.pid)."""
        pid_file = self.data_dir / "pg" / "postmaster.pid"
        assert pid_file.exists(), "the embedded Postgres is not running"
        # Lines: pid, data dir, start time, port, socket dir, listen address, ...
        lines = pid_file.read_text().splitlines()
        if lines[4].strip():
            return f"postgresql://postgres:@/sfbridge?host={lines[4].strip()}"
        return f"postgresql://postgres:@{lines[5].strip()}:{lines[3].strip()}/sfbridge"

    def send_mail(self, *, sender: str, subject: str, body: str, name: str = "") -> None:
        """Send one message to the demo support address over SMTP."""
        msg = EmailMessage()
        msg["From"] = f"{name} <{sender}>" if name else sender
        msg["To"] = DEMO_ADDRESS
        msg["Subject"] = subject
        msg["Message-ID"] = f"<{time.time_ns()}.{sender}>"
        msg.set_content(body)
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as client:
            client.send_message(msg, from_addr=sender, to_addrs=[DEMO_ADDRESS])


def _start(data_dir: Path) -> Served:
    port, smtp_port = free_port(), free_port()
    env = {
        **os.environ,
        "SFBRIDGE_DATA_DIR": str(data_dir),
        "SFBRIDGE_PORT": str(port),
        "SFBRIDGE_SMTP_LISTEN_PORT": str(smtp_port),
        "COLUMNS": "250",
    }
    env.pop("SFBRIDGE_SMTP_HOST", None)  # outgoing mail goes to the dev mailbox
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [SFBRIDGE, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    output: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        output.append(line)
        if "Press Ctrl+C to stop." in line:
            text = "".join(output)
            key, control = _KEY.search(text), _CONTROL.search(text)
            assert key and control, text
            # Keep reading: a full pipe would block the server's logging.
            threading.Thread(target=_drain, args=(proc, output), daemon=True).start()
            return Served(
                proc=proc,
                output=output,
                data_dir=data_dir,
                base=f"http://127.0.0.1:{port}",
                smtp_port=smtp_port,
                admin_key=key.group(0),
                control_url=control.group(1),
                control_key=control.group(2),
            )
    proc.kill()
    raise AssertionError("sfbridge serve did not become ready:\n" + "".join(output))


def _drain(proc: subprocess.Popen[str], output: list[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        output.append(line)


@pytest.fixture(scope="package")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One ``sfbridge serve`` for the browser tests (each test uses its own contacts)."""
    running = _start(tmp_path_factory.mktemp("browser-serve") / "data")
    yield running
    running.proc.send_signal(signal.SIGTERM)
    try:
        running.proc.wait(timeout=40)
    finally:
        if running.proc.poll() is None:
            running.proc.kill()
            running.proc.wait(timeout=10)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: apt-get install chromium (scripts/test does it as root)"
        if os.environ.get("SFBRIDGE_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield launched
    launched.close()


@pytest.fixture
def context(browser: Browser, served: Served) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) that may use the clipboard."""
    ctx = browser.new_context(
        base_url=served.base, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=served.base)
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def sign_in(page: Page, key: str) -> None:
    """Sign in on the login page with ``key``."""
    page.goto("/admin")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.fixture
def admin(page: Page, served: Served) -> Page:
    """A page signed in with the bootstrap admin key."""
    sign_in(page, served.admin_key)
    return page


@pytest.fixture(scope="package")
def demo_id(served: Served) -> str:
    """The demo workspace's id."""
    request = urllib.request.Request(
        f"{served.base}/api/v1/workspaces",
        headers={"Authorization": f"Bearer {served.admin_key}"},
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        spaces = json.loads(resp.read())
    return str(next(w["id"] for w in spaces if w["is_demo"]))


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as ``/tmp/sfbridge-browser/<name>.png``."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def reload_until(page: Page, ready: Callable[[], bool], *, timeout: float = 30.0) -> None:
    """Reload ``page`` until ``ready()`` (work happens in the server's worker meanwhile)."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting on {page.url}")
        time.sleep(0.3)
        page.reload()
