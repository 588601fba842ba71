"""`sfbridge serve` as a newcomer runs it: a real process, embedded Postgres, demo org."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

SFBRIDGE = str(Path(sys.executable).parent / "sfbridge")
KEY = re.compile(r"sfb_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    proc: subprocess.Popen[str]
    base: str
    output: list[str]

    def admin_key(self) -> str | None:
        found = KEY.search("".join(self.output))
        return found.group(0) if found else None


def start(data_dir: Path, port: int) -> Served:
    env = {
        **os.environ,
        "SFBRIDGE_DATA_DIR": str(data_dir),
        "SFBRIDGE_PORT": str(port),
        "SFBRIDGE_SMTP_LISTEN_PORT": str(free_port()),
        "COLUMNS": "200",
    }
    proc = subprocess.Popen(
        [SFBRIDGE, "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        output.append(line)
        if "Press Ctrl+C to stop." in line:
            return Served(proc, f"http://127.0.0.1:{port}", output)
    proc.kill()
    raise AssertionError("serve did not become ready:\n" + "".join(output))


def stop(served: Served) -> int:
    served.proc.send_signal(signal.SIGTERM)
    try:
        return served.proc.wait(timeout=40)
    finally:
        if served.proc.poll() is None:
            served.proc.kill()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    s = start(tmp_path / "data", free_port())
    yield s
    if s.proc.poll() is None:
        stop(s)


def test_serve_starts_ready_with_demo_workspace_and_stops_cleanly(
    served: Served, tmp_path: Path
) -> None:
    key = served.admin_key()
    assert key, "the first start prints a bootstrap admin key"
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=served.base, timeout=10) as http:
        assert http.get("/readyz").json()["ready"] is True
        spaces = http.get("/api/v1/workspaces", headers=auth).json()
        demo = [w for w in spaces if w["is_demo"]]
        assert len(demo) == 1
        conn = http.get(f"/api/v1/workspaces/{demo[0]['id']}/connection", headers=auth).json()
        assert conn["status"] == "connected"
        assert conn["redirect_uri"] == f"{served.base}/oauth/callback"
        assert conn["webhook_url"].startswith(f"{served.base}/hooks/salesforce/")
        assert "client_secret" not in conn
        # The webhook: the exact request of the reference Apex (JSON type, empty body).
        hook = http.post(
            conn["webhook_url"] + "?caseId=5005g00000AbCdEAAV",
            headers={"Content-Type": "application/json"},
            content=b"",
        )
        assert hook.status_code == 202
        assert http.post("/hooks/salesforce/" + "x" * 43 + "?caseId=1").status_code == 404
        assert 'sfbridge_connections{status="connected"} 1.0' in http.get("/metrics").text
        # The doctor calls the demo org through the Salesforce client: counted per org.
        checks = http.get(f"/api/v1/workspaces/{demo[0]['id']}/doctor", headers=auth).json()
        assert {"name": "token and API access", "outcome": "ok"}.items() <= checks[1].items()
        wanted = f'sfbridge_salesforce_calls{{org="{conn["org_id"]}",status="200"}}'
        assert wanted in http.get("/metrics").text
    assert stop(served) == 0


def test_workspace_key_never_reaches_another_workspace(served: Served) -> None:
    key = served.admin_key()
    admin = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=served.base, timeout=10) as http:
        a = http.post("/api/v1/workspaces", json={"name": "A"}, headers=admin).json()
        b = http.post("/api/v1/workspaces", json={"name": "B"}, headers=admin).json()
        key_a = {"Authorization": f"Bearer {a['api_key']}"}
        b_id = b["workspace"]["id"]
        assert [w["name"] for w in http.get("/api/v1/workspaces", headers=key_a).json()] == ["A"]
        for method, path, body in [
            ("GET", f"/api/v1/workspaces/{b_id}", None),
            ("GET", f"/api/v1/workspaces/{b_id}/connection", None),
            (
                "PUT",
                f"/api/v1/workspaces/{b_id}/connection",
                {"client_id": "x", "client_secret": "y"},
            ),
            ("GET", f"/api/v1/workspaces/{b_id}/traces", None),
            ("GET", f"/api/v1/workspaces/{b_id}/keys", None),
            ("POST", f"/api/v1/workspaces/{b_id}/keys", {"label": "steal"}),
            ("GET", f"/api/v1/workspaces/{b_id}/jobs/failed", None),
        ]:
            resp = http.request(method, path, json=body, headers=key_a)
            assert resp.status_code == 404, (method, path, resp.text)
        # B is untouched: no credentials saved, one key only.
        conn_b = http.get(f"/api/v1/workspaces/{b_id}/connection", headers=admin).json()
        assert conn_b["status"] == "not_configured"
        assert len(http.get(f"/api/v1/workspaces/{b_id}/keys", headers=admin).json()) == 1
        # A workspace key cannot create workspaces; no key gets a 401 with what to do.
        assert http.post("/api/v1/workspaces", json={"name": "C"}, headers=key_a).status_code == 403
        unauth = http.get("/api/v1/workspaces")
        assert unauth.status_code == 401 and "Bearer" in unauth.json()["message"]


def test_bad_input_gets_a_clear_4xx(served: Served) -> None:
    admin = {"Authorization": f"Bearer {served.admin_key()}"}
    with httpx.Client(base_url=served.base, timeout=10) as http:
        ws = http.post("/api/v1/workspaces", json={"name": "A"}, headers=admin).json()
        ws_id = ws["workspace"]["id"]
        empty = http.post("/api/v1/workspaces", json={"name": ""}, headers=admin)
        assert empty.status_code == 422 and "name" in empty.json()["message"]
        evil = http.put(
            f"/api/v1/workspaces/{ws_id}/connection",
            json={
                "client_id": "abc",
                "client_secret": "s",
                "login_url": "https://evil.example.com",
            },
            headers=admin,
        )
        assert evil.status_code == 422, evil.text
        assert evil.json()["error"] == "invalid_login_url"
        no_creds = http.post(f"/api/v1/workspaces/{ws_id}/connection/connect", headers=admin)
        assert no_creds.status_code == 409 and "Save" in no_creds.json()["message"]
        saved = http.put(
            f"/api/v1/workspaces/{ws_id}/connection",
            json={
                "client_id": "abc",
                "client_secret": "topsecret",
                "login_url": "https://test.salesforce.com",
            },
            headers=admin,
        )
        assert saved.status_code == 200 and "topsecret" not in saved.text
        assert saved.json()["status"] == "credentials_saved"
        started = http.post(f"/api/v1/workspaces/{ws_id}/connection/connect", headers=admin)
        url = started.json()["authorize_url"]
        assert url.startswith("https://test.salesforce.com/services/oauth2/authorize?")
        assert "code_challenge_method=S256" in url and "state=" in url
        reused = http.get("/oauth/callback", params={"state": "forged", "code": "x"})
        assert reused.status_code == 400


def test_restart_keeps_state_and_prints_no_new_key(tmp_path: Path) -> None:
    port = free_port()
    first = start(tmp_path / "data", port)
    key = first.admin_key()
    assert stop(first) == 0
    second = start(tmp_path / "data", port)
    try:
        assert second.admin_key() is None
        with httpx.Client(base_url=second.base, timeout=10) as http:
            spaces = http.get("/api/v1/workspaces", headers={"Authorization": f"Bearer {key}"})
            assert spaces.status_code == 200
            demo = [w for w in spaces.json() if w["is_demo"]]
            assert len(demo) == 1
    finally:
        assert stop(second) == 0
