"""Emulator persistence in-process: round trip of orgs, settings and tokens; debounced saves."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import httpx

from sfemu.faults import Latency
from sfemu.runtime import Emulator
from sfemu.server import serve_in_thread


def _wait_for(path: Path, text: str, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return True
        time.sleep(0.05)
    return False


def test_round_trip_keeps_orgs_settings_and_tokens(tmp_path: Path) -> None:
    emulator = Emulator.with_default_org()
    second = emulator.create_org(name="Second")
    state = emulator.default_state
    state.usage.limit = 42
    state.callouts.add({"object": "Case", "url": "http://127.0.0.1:9/hook"})
    state.org.create("Account", {"Name": "Kept"}, user_id=state.credentials.user_id)
    token = emulator.tokens.issue(
        org_id=state.org_id,
        user_id=state.credentials.user_id,
        client_id=state.credentials.client_id,
    ).access_token
    path = tmp_path / "sfemu.json"
    emulator.save(path)
    assert json.loads(path.read_text())["format"] == 1

    loaded = Emulator.load(path)
    assert loaded.data_path == path
    assert loaded.default_org_id == emulator.default_org_id
    assert set(loaded.orgs) == {state.org_id, second.org_id}
    again = loaded.default_state
    assert again.credentials == state.credentials
    assert again.usage.limit == 42
    assert [r.url for r in again.callouts.rules.values()] == ["http://127.0.0.1:9/hook"]
    assert [r["Name"] for r in again.org.rows("Account")] == ["Kept"]
    assert loaded.tokens.validate(token).org_id == state.org_id
    assert loaded.control_key == emulator.control_key


def test_fresh_emulator_is_saved_once_served(tmp_path: Path) -> None:
    path = tmp_path / "fresh.json"
    emulator = Emulator(data_path=path)
    emulator.create_org(name="Fresh Org")
    running = serve_in_thread(emulator)
    try:
        assert _wait_for(path, "Fresh Org")
    finally:
        running.stop()


def test_api_writes_are_saved_debounced(tmp_path: Path) -> None:
    path = tmp_path / "live.json"
    emulator = Emulator(data_path=path)
    state = emulator.create_org()
    running = serve_in_thread(emulator)
    try:
        token = emulator.tokens.issue(
            org_id=state.org_id,
            user_id=state.credentials.user_id,
            client_id=state.credentials.client_id,
        ).access_token
        response = httpx.post(
            f"{running.url}/services/data/v59.0/sobjects/Account/",
            json={"Name": "Written over HTTP"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201
        assert _wait_for(path, "Written over HTTP")
    finally:
        running.stop()


def test_shutdown_flushes(tmp_path: Path) -> None:
    path = tmp_path / "stop.json"
    emulator = Emulator(data_path=path)
    state = emulator.create_org()
    running = serve_in_thread(emulator)
    state.latency = Latency(fixed_ms=5)
    emulator.mark_dirty()
    running.stop()
    assert json.loads(path.read_text())["orgs"][0]["settings"]["latency"]["fixed_ms"] == 5


def test_reset_keeps_identity(tmp_path: Path) -> None:
    emulator = Emulator.with_default_org()
    state = emulator.default_state
    state.org.create("Account", {"Name": "Gone"}, user_id=state.credentials.user_id)
    state.org.create_connected_app("Extra")
    fresh = emulator.reset_org(state.org_id)
    assert fresh.org_id == state.org_id
    assert fresh.credentials == state.credentials
    assert list(fresh.org.rows("Account")) == []
    assert {a.name for a in fresh.org.apps.values()} == {"sfbridge", "Extra"}
    assert fresh.org.check_password(state.credentials.username, state.credentials.password)


def test_reset_keeps_app_changes_and_org_settings() -> None:
    emulator = Emulator.with_default_org()
    state = emulator.default_state
    app = state.org.apps[state.credentials.client_id]
    state.org.apps[app.client_id] = dataclasses.replace(
        app, callback_urls=(*app.callback_urls, "http://127.0.0.1:9999/cb")
    )
    state.org.session_timeout_seconds = 60
    fresh = emulator.reset_org(state.org_id)
    assert "http://127.0.0.1:9999/cb" in fresh.org.apps[app.client_id].callback_urls
    assert fresh.org.session_timeout_seconds == 60
