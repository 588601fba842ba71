"""The email-cases API over HTTP (ASGI): clear 4xx for bad input, workspace isolation, dev mailbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from procrastinate import App

from sfbridge.compose import build_deps
from sfbridge.deps import Deps
from sfbridge.services.connections import UnknownWorkspace
from sfbridge.services.email import apex
from sfbridge.services.email.runtime import DevMailboxTransport
from sfbridge.settings import Settings
from sfbridge.store import apikeys, workspaces
from sfbridge.store.db import Database
from sfbridge.web.api import email as email_router
from sfbridge.web.app import create_app
from sfemu.testing import EmulatedSalesforce
from tests.integration.test_email_harness import (  # noqa: F401  (fixtures)
    BOX,
    SUPPORT,
    Harness,
    connect_workspace,
    email_app_fixture,
    fast_runtime,
    make_mail,
    salesforce_fixture,
)


@dataclass
class Api:
    client: httpx.AsyncClient
    other: httpx.AsyncClient  #: a key of another workspace
    workspace_id: str
    harness: Harness
    deps: Deps

    @property
    def base(self) -> str:
        return f"/api/v1/workspaces/{self.workspace_id}"


@pytest.fixture(name="api")
async def api_fixture(
    db: Database, email_app: App, salesforce: EmulatedSalesforce
) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(timeout=30) as http:
        deps = build_deps(
            Settings(public_url="https://bridge.example.com"), db=db, http=http, box=BOX
        )
        rt = fast_runtime(db, email_app, deps.access, DevMailboxTransport(db))
        deps.extras["email_runtime"] = rt
        app = create_app(deps)
        if not any(
            getattr(r, "path", "").endswith("/sessions/{session_id}/escalate") for r in app.routes
        ):
            app.include_router(email_router.router)
        ws = await connect_workspace(db, salesforce)
        async with db.transaction() as tx:
            key = await apikeys.create_workspace_key(tx, ws)
            other_ws = await workspaces.create(tx, name="Other")
            other_key = await apikeys.create_workspace_key(tx, other_ws.id)
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(
                transport=transport,
                base_url="http://test",
                headers={"Authorization": f"Bearer {key.token.reveal()}"},
            ) as client,
            httpx.AsyncClient(
                transport=transport,
                base_url="http://test",
                headers={"Authorization": f"Bearer {other_key.token.reveal()}"},
            ) as other,
        ):
            yield Api(
                client=client,
                other=other,
                workspace_id=ws,
                harness=Harness(
                    db=db, app=email_app, rt=rt, sf=salesforce, workspace_id=ws, http=http
                ),
                deps=deps,
            )


async def test_addresses_list_add_duplicate_and_remove(api: Api) -> None:
    listed = (await api.client.get(f"{api.base}/mail-addresses")).json()
    assert [(a["address"], a["is_support_address"]) for a in listed] == [(SUPPORT, True)]
    resp = await api.client.post(f"{api.base}/mail-addresses", json={"address": "Help@Acme.test"})
    assert resp.status_code == 201 and resp.json()["address"] == "help@acme.test"
    again = await api.client.post(f"{api.base}/mail-addresses", json={"address": "help@acme.test"})
    assert again.status_code == 409 and again.json()["error"] == "address_taken"
    assert (await api.client.delete(f"{api.base}/mail-addresses/help@acme.test")).status_code == 204
    gone = await api.client.delete(f"{api.base}/mail-addresses/help@acme.test")
    assert gone.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"address": "not-an-address"},
        {"address": ""},
        {},
        {"address": "<x>@y"},
    ],
)
async def test_bad_addresses_are_422(api: Api, body: dict[str, object]) -> None:
    resp = await api.client.post(f"{api.base}/mail-addresses", json=body)
    assert resp.status_code == 422
    assert resp.json()["message"]


@pytest.mark.parametrize(
    "settings",
    [
        {"office_hours": {"tz": "Mars/Olympus", "weekly": {}}},
        {"office_hours": {"tz": "UTC", "weekly": {"7": [["09:00", "17:00"]]}}},
        {"office_hours": {"tz": "UTC", "weekly": {"0": [["17:00", "09:00"]]}}},
        {"office_hours": {"tz": "UTC", "weekly": {"0": [["9am", "5pm"]]}}},
        {"marker_field": "Case From"},
        {"reopen_window_days": -1},
        {"owner_id": "nope"},
        {"no_such_setting": True},
    ],
)
async def test_invalid_settings_are_422_and_change_nothing(
    api: Api, settings: dict[str, object]
) -> None:
    resp = await api.client.put(f"{api.base}/email-settings", json=settings)
    assert resp.status_code == 422, resp.text
    current = (await api.client.get(f"{api.base}/email-settings")).json()
    assert current["marker_field"] == "Case_From__c" and current["office_hours"] is None


async def test_settings_round_trip(api: Api) -> None:
    wanted = {
        "handoff_keywords": ["refund"],
        "office_hours": {"tz": "Europe/Berlin", "weekly": {"0": [["09:00", "17:00"]]}},
        "outside_hours_policy": "hold_until_open",
        "priority": "High",
        "comments_published": True,
    }
    resp = await api.client.put(f"{api.base}/email-settings", json=wanted)
    assert resp.status_code == 200, resp.text
    got = (await api.client.get(f"{api.base}/email-settings")).json()
    assert got["handoff_keywords"] == ["refund"]
    assert got["office_hours"]["weekly"] == {"0": [["09:00", "17:00"]]}
    assert got["outside_hours_policy"] == "hold_until_open"
    assert got["comments_published"] is True


async def test_inbound_mail_then_session_then_agent_reply_in_the_dev_mailbox(api: Api) -> None:
    raw = make_mail(body="Where is my parcel?")
    resp = await api.client.post(f"{api.base}/inbound-mail", content=raw)
    assert resp.status_code == 202 and resp.json()["duplicate"] is False
    again = await api.client.post(f"{api.base}/inbound-mail", content=raw)
    assert again.json() == {"inbound_id": resp.json()["inbound_id"], "duplicate": True}
    await api.harness.drain()
    page = (await api.client.get(f"{api.base}/sessions", params={"status": "open"})).json()
    assert len(page["items"]) == 1 and page["next_cursor"] is None
    session_id = page["items"][0]["id"]
    posted = await api.client.post(
        f"{api.base}/sessions/{session_id}/messages",
        json={"text": "It left our warehouse today.", "author_name": "Ava"},
    )
    assert posted.status_code == 201 and posted.json()["author_kind"] == "agent"
    await api.harness.drain()
    box = (await api.client.get(f"{api.base}/dev-mailbox")).json()
    assert "NOT sent" in box["notice"]
    assert len(box["messages"]) == 1
    assert box["messages"][0]["to"] == ["ann@customer.test"]
    assert "It left our warehouse today." in box["messages"][0]["raw"]
    detail = (await api.client.get(f"{api.base}/sessions/{session_id}")).json()
    assert [m["delivery_status"] for m in detail["messages"]] == ["none", "sent"]
    log = (await api.client.get(f"{api.base}/inbound-mail")).json()
    assert [row["status"] for row in log] == ["processed"]


@pytest.mark.parametrize("body", [b"", b"   ", b"just some words, no headers"])
async def test_inbound_mail_that_is_not_mail_is_422(api: Api, body: bytes) -> None:
    resp = await api.client.post(f"{api.base}/inbound-mail", content=body)
    assert resp.status_code == 422
    assert resp.json()["error"] == "invalid_mail"


async def test_paging_sessions(api: Api) -> None:
    for index in range(3):
        await api.harness.receive(make_mail(sender=f"c{index}@customer.test", subject=f"S{index}"))
    first = (await api.client.get(f"{api.base}/sessions", params={"limit": 2})).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = (
        await api.client.get(
            f"{api.base}/sessions", params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    ids = [s["id"] for s in first["items"] + rest["items"]]
    assert len(ids) == 3 == len(set(ids))
    one = await api.client.get(f"{api.base}/sessions", params={"contact": "C1@customer.test"})
    assert [s["contact_address"] for s in one.json()["items"]] == ["c1@customer.test"]
    bad = await api.client.get(f"{api.base}/sessions", params={"cursor": "garbage"})
    assert bad.status_code == 422


async def test_unknown_session_and_other_workspace_are_404(api: Api) -> None:
    await api.harness.receive(make_mail())
    session_id = (await api.client.get(f"{api.base}/sessions")).json()["items"][0]["id"]
    assert (await api.client.get(f"{api.base}/sessions/nope")).status_code == 404
    assert (await api.client.post(f"{api.base}/sessions/nope/escalate")).status_code == 404
    assert (await api.other.get(f"{api.base}/sessions/{session_id}")).status_code == 404
    assert (await api.other.get(f"{api.base}/sessions")).status_code == 404


async def test_escalate_twice_and_escalate_validation(api: Api) -> None:
    await api.harness.receive(make_mail())
    session_id = (await api.client.get(f"{api.base}/sessions")).json()["items"][0]["id"]
    bad = await api.client.post(
        f"{api.base}/sessions/{session_id}/escalate", json={"topic": "x" * 300}
    )
    assert bad.status_code == 422
    ok = await api.client.post(f"{api.base}/sessions/{session_id}/escalate", json={"topic": "T"})
    assert ok.status_code == 202 and ok.json()["queued"] is True
    await api.harness.drain()
    again = await api.client.post(f"{api.base}/sessions/{session_id}/escalate")
    assert again.json()["queued"] is False
    assert [c["Subject"] for c in api.harness.records("Case")] == ["T"]


async def test_setup_apex_names_the_webhook_url(api: Api) -> None:
    resp = await api.client.get(f"{api.base}/setup/apex")
    assert resp.status_code == 200
    body = resp.json()
    assert body["webhook_url"].startswith("https://bridge.example.com/hooks/salesforce/")
    assert body["webhook_url"] in body["instructions"]
    names = [f["name"] for f in body["files"]]
    assert "SfbridgeCalloutTest.cls" in names and "SfbridgeCaseCommentTrigger.trigger" in names
    callout = next(f["body"] for f in body["files"] if f["name"] == "SfbridgeCallout.cls")
    assert "@future(callout=true)" in callout and "callout:sfbridge?caseId=" in callout


async def test_apex_setup_text_holds_what_the_api_serves(api: Api) -> None:
    text = await apex.apex_setup_text(api.deps, api.workspace_id)
    body = (await api.client.get(f"{api.base}/setup/apex")).json()
    assert body["webhook_url"].startswith("https://bridge.example.com/hooks/salesforce/")
    assert f"URL '{body['webhook_url']}'" in text
    assert len(body["files"]) == 5
    for file in body["files"]:
        assert f"// ===== {file['name']} =====\n{file['body']}" in text


async def test_apex_setup_text_before_connecting_and_for_no_workspace(api: Api) -> None:
    async with api.harness.db.transaction() as tx:
        fresh = await workspaces.create(tx, name="Not connected yet")
    text = await apex.apex_setup_text(api.deps, fresh.id)
    assert "<connect Salesforce first: the webhook URL appears then>" in text
    assert "/hooks/salesforce/" not in text
    with pytest.raises(UnknownWorkspace):
        await apex.apex_setup_text(api.deps, "ws_that_does_not_exist")
