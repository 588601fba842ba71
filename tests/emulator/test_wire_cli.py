"""``python -m sfemu`` as a process: the ready line, TLS, control-plane default, persistence."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow


@contextmanager
def sfemu_process(*args: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sfemu", "--port", "0", "--json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"sfemu exited: {process.stderr.read() if process.stderr else ''}")
        yield process, json.loads(line)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=15)


def _token(info: dict[str, Any], verify: Any = True) -> str:
    response = httpx.post(
        f"{info['login_url']}/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "username": info["username"],
            "password": info["password"],
        },
        verify=verify,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_ready_line_has_the_credentials() -> None:
    with sfemu_process() as (_, info):
        assert {
            "instance_url",
            "login_url",
            "client_id",
            "client_secret",
            "username",
            "password",
            "control_url",
            "control_key",
            "org_id",
        } <= set(info)
        assert info["instance_url"].startswith("http://127.0.0.1:")
        assert "ca_cert" not in info
        token = _token(info)
        limits = httpx.get(
            f"{info['instance_url']}/services/data/v59.0/limits",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert limits.status_code == 200
        control = httpx.get(
            f"{info['control_url']}/orgs", headers={"X-Emulator-Key": info["control_key"]}
        )
        assert [o["org_id"] for o in control.json()] == [info["org_id"]]


def test_tls_prints_the_ca_and_serves_https(tmp_path: Path) -> None:
    with sfemu_process("--tls", "--tls-dir", str(tmp_path)) as (_, info):
        assert info["instance_url"].startswith("https://127.0.0.1:")
        assert Path(info["ca_cert"]).is_file()
        context = ssl.create_default_context(cafile=info["ca_cert"])
        assert (
            httpx.get(f"{info['instance_url']}/services/data/", verify=context).status_code == 200
        )
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{info['instance_url']}/services/data/", verify=ssl.create_default_context())


def test_control_plane_is_off_on_public_addresses() -> None:
    # Binding all interfaces is the point: the control plane must then stay off.
    with sfemu_process("--host", "0.0.0.0", "--seed", "minimal") as (_, info):  # noqa: S104
        assert info["control_url"] is None and info["control_key"] is None
        port = info["instance_url"].rsplit(":", 1)[1]
        response = httpx.get(f"http://127.0.0.1:{port}/_emulator/orgs")
        assert response.status_code == 404


def test_latency_option() -> None:
    with sfemu_process("--latency", "120") as (_, info):
        token = _token(info)
        response = httpx.get(
            f"{info['instance_url']}/services/data/v59.0/limits",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.elapsed.total_seconds() >= 0.12


def test_state_survives_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "org.json"
    with sfemu_process("--data", str(data)) as (process, info):
        token = _token(info)
        api = f"{info['instance_url']}/services/data/v59.0"
        created = httpx.post(
            f"{api}/sobjects/Account/",
            json={"Name": "Persisted"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert created.status_code == 201
        account_id = created.json()["id"]
        httpx.post(
            f"{info['control_url']}/orgs/default/fields",
            json={"object": "Account", "name": "Tier__c"},
            headers={"X-Emulator-Key": info["control_key"]},
        ).raise_for_status()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
    assert data.is_file()
    with sfemu_process("--data", str(data)) as (_, again):
        assert again["org_id"] == info["org_id"]
        assert again["client_id"] == info["client_id"]
        assert again["control_key"] == info["control_key"]
        api = f"{again['instance_url']}/services/data/v59.0"
        old_token = httpx.get(
            f"{api}/sobjects/Account/{account_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert old_token.status_code == 200
        assert old_token.json()["Name"] == "Persisted"
        assert "Tier__c" in old_token.json()


def test_changes_are_saved_without_a_clean_shutdown(tmp_path: Path) -> None:
    data = tmp_path / "org.json"
    with sfemu_process("--data", str(data)) as (process, info):
        token = _token(info)
        api = f"{info['instance_url']}/services/data/v59.0"
        created = httpx.post(
            f"{api}/sobjects/Case/",
            json={"Subject": "debounced"},
            headers={"Authorization": f"Bearer {token}"},
        )
        case_id = created.json()["id"]
        deadline = 50
        while deadline and "debounced" not in data.read_text():
            deadline -= 1
            subprocess.run(["sleep", "0.1"], check=True)
        process.kill()
        process.wait(timeout=15)
    with sfemu_process("--data", str(data)) as (_, again):
        fresh = _token(again)
        api = f"{again['instance_url']}/services/data/v59.0"
        found = httpx.get(
            f"{api}/sobjects/Case/{case_id}", headers={"Authorization": f"Bearer {fresh}"}
        )
        assert found.json()["Subject"] == "debounced"
