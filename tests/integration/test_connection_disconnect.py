"""Disconnect: revoked at sfemu, tokens wiped, webhook token rotated (old URL 404)."""

from __future__ import annotations

import pytest

from sfbridge.salesforce import oauth
from sfbridge.salesforce.errors import ReconnectNeeded
from sfbridge.store import connections
from tests.integration.test_connection_harness import (  # noqa: F401  (fixtures)
    BOX,
    Bridge,
    bridge_fixture,
    sf_fixture,
)


async def test_disconnect_revokes_wipes_and_rotates(bridge: Bridge) -> None:
    app = bridge.new_app()
    await bridge.save_web_server(app)
    await bridge.sign_in()
    conn = await bridge.connection()
    old_hook = conn["webhook_url"]
    assert old_hook
    async with bridge.deps.db.transaction() as tx:
        stored = await connections.get(tx, BOX, bridge.workspace_id)
    assert stored is not None and stored.refresh_token is not None
    old_refresh = stored.refresh_token.reveal()
    assert (await bridge.api.post(old_hook)).status_code == 202  # the hook works before

    out = await bridge.api.post(f"{bridge.base}/disconnect")
    assert out.status_code == 200, out.text
    view = out.json()
    assert view["status"] == "disconnected"
    assert view["last_error"] is None  # Salesforce confirmed the revocation
    assert view["webhook_url"] is None
    assert view["client_id"] == app["client_id"] and view["has_client_secret"]

    # revoked at sfemu: the old refresh token no longer works there
    with pytest.raises(ReconnectNeeded) as info:
        await oauth.refresh(
            bridge.deps.access.http,
            login_url=bridge.sf.url,
            app=oauth.AppCredentials(
                client_id=app["client_id"], client_secret=app["client_secret"]
            ),
            refresh_token=old_refresh,
        )
    assert "invalid_grant" in str(info.value)

    # wiped here, the webhook token rotated
    async with bridge.deps.db.transaction() as tx:
        stored = await connections.get(tx, BOX, bridge.workspace_id)
        new_token = await connections.webhook_token(tx, BOX, bridge.workspace_id)
        raw = await tx.fetch_one("connection_get", {"workspace_id": bridge.workspace_id})
    assert stored is not None
    assert stored.access_token is None and stored.refresh_token is None
    assert stored.issued_at is None
    assert raw is not None
    assert raw["access_token_enc"] is None and raw["refresh_token_enc"] is None
    assert new_token is not None and new_token.reveal() not in old_hook
    missing = await bridge.api.post(old_hook)
    assert missing.status_code == 404 and missing.content == b""
    fresh_hook = bridge.deps.connections.webhook_url(new_token.reveal())
    assert (await bridge.api.post(fresh_hook)).status_code == 202

    # work for the workspace now waits for a reconnect
    bridge.deps.access.forget(bridge.workspace_id)
    with pytest.raises(ReconnectNeeded):
        await bridge.client()
    # disconnecting twice is harmless; reconnecting works
    again = await bridge.api.post(f"{bridge.base}/disconnect")
    assert again.status_code == 200 and again.json()["status"] == "disconnected"
    async with bridge.deps.db.transaction() as tx:
        latest = await connections.webhook_token(tx, BOX, bridge.workspace_id)
    assert latest is not None and latest.reveal() != new_token.reveal()
    await bridge.sign_in()
    conn = await bridge.connection()
    assert conn["status"] == "connected"
    # a reconnect keeps the rotated token: the URL shown is the last one issued
    assert conn["webhook_url"] == bridge.deps.connections.webhook_url(latest.reveal())


async def test_a_client_kept_across_a_disconnect_stops_using_the_old_tokens(
    bridge: Bridge,
) -> None:
    await bridge.save_web_server(bridge.new_app())
    await bridge.sign_in()
    client = await bridge.client()
    assert await client.query_all("SELECT Id FROM User")
    await bridge.api.post(f"{bridge.base}/disconnect")
    # the tokens are revoked at sfemu; the kept client finds no grant and asks for a reconnect
    with pytest.raises(ReconnectNeeded):
        await client.query_all("SELECT Id FROM User")


async def test_disconnect_without_a_connection_is_409(bridge: Bridge) -> None:
    resp = await bridge.api.post(f"{bridge.base}/disconnect")
    assert resp.status_code == 409
    assert resp.json()["error"] == "connection_problem"
