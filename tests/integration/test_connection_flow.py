"""The web-server flow's whole life on real parts: our API and OAuth callback over HTTP,
sfemu over HTTP, real Postgres, the job queue.

connect -> authorize (auto-approved) -> callback -> connected -> API call -> tokens expired
-> transparent refresh -> refresh tokens revoked -> needs reconnect -> a job waits (not failed,
not lost) -> reconnect -> the job completes, exactly once.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sfbridge import jobs
from sfbridge.salesforce.errors import ReconnectNeeded
from sfbridge.services.email import sessions as email_api
from sfbridge.services.email.runtime import EmailRuntime
from sfbridge.store.email_sessions import SessionStatus
from tests.integration.test_connection_harness import (  # noqa: F401  (fixtures)
    Bridge,
    bridge_fixture,
    sf_fixture,
)
from tests.integration.test_email_harness import (
    SUPPORT,
    RecordingTransport,
    fast_runtime,
    make_mail,
)


async def drain(bridge: Bridge, rt: EmailRuntime) -> None:
    """Run a worker until no job is ready now."""
    await bridge.deps.jobs.run_worker_async(
        **jobs.worker_options(
            bridge.deps.db,
            context={"email_runtime": rt, "sf_access": bridge.deps.access},
            wait=False,
            concurrency=1,
            install_signal_handlers=False,
            listen_notify=False,
        )
    )


async def job_counts(bridge: Bridge) -> dict[str, int]:
    async with bridge.deps.db.transaction() as tx:
        rows = await tx.fetch_all("doctor_job_counts", {"workspace_id": bridge.workspace_id})
    return {str(r["status"]): int(r["n"]) for r in rows}


def cases(bridge: Bridge) -> list[dict[str, Any]]:
    found = bridge.sf.control("GET", "/records/Case")
    assert isinstance(found, list)
    return found


async def test_connect_refresh_revoke_wait_reconnect_resume(bridge: Bridge) -> None:
    # connect through our API, sfemu's consent (auto-approved) and our callback
    app = bridge.new_app()
    await bridge.save_web_server(app)
    back = await bridge.sign_in()
    assert back.status_code == 303
    conn = await bridge.connection()
    assert conn["status"] == "connected"
    assert conn["username"] == bridge.sf.credentials.username
    assert conn["org_id"] == bridge.sf.org_id
    assert conn["last_error"] is None

    # an API call
    client = await bridge.client()
    user = await client.get("User", bridge.sf.credentials.user_id, ["Username"])
    assert user["Username"] == bridge.sf.credentials.username
    assert bridge.calls.grants == ["authorization_code"]

    # tokens expired by sfemu: the next call refreshes once, transparently
    assert bridge.sf.control("POST", "/expire-tokens")["expired"] >= 1
    rows = await client.query_all("SELECT Id FROM User")
    assert rows
    assert bridge.calls.grants == ["authorization_code", "refresh_token"]
    assert (await bridge.connection())["status"] == "connected"

    # a customer mail arrives while connected (intake runs now)
    rt = fast_runtime(bridge.deps.db, bridge.deps.jobs, bridge.deps.access, RecordingTransport())
    await email_api.add_address(bridge.deps.db, bridge.workspace_id, SUPPORT)
    await email_api.accept_http_mail(rt, bridge.workspace_id, make_mail())
    await drain(bridge, rt)
    sessions = await email_api.list_sessions(bridge.deps.db, bridge.workspace_id)
    assert len(sessions) == 1
    session_id = sessions[0].id

    # the admin revokes sfbridge in Salesforce; the access tokens die too
    assert bridge.sf.control("POST", "/revoke-refresh-tokens")["revoked"] >= 1
    bridge.sf.control("POST", "/expire-tokens")
    with pytest.raises(ReconnectNeeded):
        await client.query_all("SELECT Id FROM User")
    conn = await bridge.connection()
    assert conn["status"] == "needs_reconnect"
    assert "invalid_grant" in conn["last_error"]
    assert conn["webhook_url"] is None
    refreshes = bridge.calls.grants.count("refresh_token")
    assert refreshes == 2  # the dead grant was tried once, not again per call
    with pytest.raises(ReconnectNeeded):
        await client.query_all("SELECT Id FROM User")
    assert bridge.calls.grants.count("refresh_token") == refreshes

    # a hand-off needs Salesforce: its job waits (not failed, not lost)
    await email_api.escalate(rt, bridge.workspace_id, session_id, summary="Printer fire")
    for _ in range(4):
        await drain(bridge, rt)
        await asyncio.sleep(0.15)  # the job comes back after rt.reconnect_wait_seconds
    counts = await job_counts(bridge)
    assert counts.get("failed", 0) == 0
    assert counts.get("todo", 0) >= 1
    async with bridge.deps.db.transaction() as tx:
        assert await jobs.list_failed_jobs(tx, bridge.workspace_id) == []
    detail = await email_api.get_session(bridge.deps.db, bridge.workspace_id, session_id)
    assert detail.session.status == SessionStatus.OPEN and detail.session.case_id is None
    assert cases(bridge) == []

    # reconnect: the waiting job resumes by itself and writes the Case exactly once
    back = await bridge.sign_in()
    assert back.status_code == 303
    assert (await bridge.connection())["status"] == "connected"
    for _ in range(40):
        await drain(bridge, rt)
        detail = await email_api.get_session(bridge.deps.db, bridge.workspace_id, session_id)
        if detail.session.case_id:
            break
        await asyncio.sleep(0.1)
    assert detail.session.status == SessionStatus.HANDED_OFF
    found = cases(bridge)
    assert [c["Id"] for c in found] == [detail.session.case_id]
    assert found[0]["Description"] == "Printer fire"
    assert (await job_counts(bridge)).get("failed", 0) == 0
    # the client kept by this process works again without being rebuilt by hand
    assert await (await bridge.client()).query_all("SELECT Id FROM User")


async def test_a_denied_consent_is_a_clear_400_and_changes_nothing(bridge: Bridge) -> None:
    app = bridge.new_app()
    await bridge.save_web_server(app)
    resp = await bridge.api.post(f"{bridge.base}/connect")
    state = resp.json()["authorize_url"].split("state=")[1].split("&")[0]
    denied = await bridge.api.get(
        "/oauth/callback",
        params={"state": state, "error": "access_denied", "error_description": "end-user denied"},
    )
    assert denied.status_code == 400
    assert "end-user denied" in denied.text
    again = await bridge.api.get("/oauth/callback", params={"state": state, "code": "x"})
    assert again.status_code == 400 and "already used" in again.text
    assert (await bridge.connection())["status"] == "credentials_saved"
