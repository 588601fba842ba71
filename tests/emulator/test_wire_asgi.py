"""The app in-process through httpx's ASGI transport: no socket, the same behaviour."""

from __future__ import annotations

import httpx
import pytest

from sfemu.app import create_app
from sfemu.faults import ConnectionDropped
from sfemu.runtime import Emulator


def _client(emulator: Emulator) -> httpx.AsyncClient:
    state = emulator.default_state
    token = emulator.tokens.issue(
        org_id=state.org_id,
        user_id=state.credentials.user_id,
        client_id=state.credentials.client_id,
    ).access_token
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(emulator)),
        base_url="https://sfemu.test/services/data/v59.0",
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_crud_and_query_in_process() -> None:
    emulator = Emulator.with_default_org()
    async with _client(emulator) as client:
        created = await client.post("/sobjects/Account/", json={"Name": "In process"})
        assert created.status_code == 201
        page = await client.get("/query", params={"q": "SELECT Name FROM Account"})
        assert [r["Name"] for r in page.json()["records"]] == ["In process"]
        resources = (await client.get("/")).json()
        assert resources["identity"].startswith("https://sfemu.test/id/")
    assert emulator.default_state.usage.counters["POST sobjects/{sobject}"] == 1


async def test_drop_fault_without_a_server_raises_into_the_client() -> None:
    emulator = Emulator.with_default_org()
    emulator.default_state.faults.add({"kind": "drop"})
    async with _client(emulator) as client:
        with pytest.raises(ConnectionDropped):
            await client.get("/limits")


async def test_oauth_token_endpoint_in_process() -> None:
    emulator = Emulator.with_default_org()
    creds = emulator.default_state.credentials
    transport = httpx.ASGITransport(app=create_app(emulator))
    async with httpx.AsyncClient(transport=transport, base_url="https://sfemu.test") as client:
        response = await client.post(
            "/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": creds.client_id,
                "client_secret": creds.client_secret,
            },
        )
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        limits = await client.get(
            "/services/data/v59.0/limits", headers={"Authorization": f"Bearer {token}"}
        )
        assert limits.status_code == 200
