"""Repositories on real Postgres: behaviour, and that a workspace never sees another's rows."""

from __future__ import annotations

import datetime as dt

import pytest

from sfbridge.errors import InvalidRow, MissingReference, SecretTampered
from sfbridge.secrets import SecretBox
from sfbridge.store import apikeys, connections, events, traces, workspaces
from sfbridge.store.db import Database
from sfbridge.store.traces import SalesforceCall, TraceStatus, TraceStep

BOX = SecretBox(bytes(range(32)))
NOW = dt.datetime(2025, 1, 15, 12, 0, tzinfo=dt.UTC)


async def _two_workspaces(db: Database) -> tuple[str, str]:
    async with db.transaction() as tx:
        a = await workspaces.create(tx, name="Acme")
        b = await workspaces.create(tx, name="Globex")
    return a.id, b.id


# --- workspaces ----------------------------------------------------------------------------


async def test_workspace_crud(db: Database) -> None:
    async with db.transaction() as tx:
        ws = await workspaces.create(tx, name="Acme", settings={"email": {"enabled": True}})
        demo = await workspaces.create(tx, name="Demo", is_demo=True)
    async with db.transaction() as tx:
        assert await workspaces.get(tx, ws.id) == ws
        assert await workspaces.get(tx, "missing") is None
        assert [w.id for w in await workspaces.list_all(tx)] == [ws.id, demo.id]
        found = await workspaces.find_demo(tx)
        assert found is not None and found.id == demo.id
        renamed = await workspaces.rename(tx, ws.id, "Acme Corp")
        assert renamed is not None and renamed.name == "Acme Corp"
        merged = await workspaces.merge_settings(tx, ws.id, {"logging": {"mode": "all"}})
        assert merged is not None
        assert merged.settings == {"email": {"enabled": True}, "logging": {"mode": "all"}}
        assert await workspaces.delete(tx, demo.id)
        assert not await workspaces.delete(tx, demo.id)
        assert await workspaces.find_demo(tx) is None


@pytest.mark.parametrize("name", ["", "x" * 201])
async def test_workspace_name_rules(db: Database, name: str) -> None:
    with pytest.raises(InvalidRow):
        async with db.transaction() as tx:
            await workspaces.create(tx, name=name)


async def test_deleting_a_workspace_deletes_what_it_owns(db: Database) -> None:
    a, _ = await _two_workspaces(db)
    async with db.transaction() as tx:
        await apikeys.create_workspace_key(tx, a)
        await events.record(tx, a, query={}, body="x", headers={})
        await workspaces.delete(tx, a)
    async with db.transaction() as tx:
        assert await apikeys.list_keys(tx, a) == []
        assert await events.list_recent(tx, a) == []


# --- api keys ------------------------------------------------------------------------------


async def test_api_key_is_shown_once_stored_hashed_and_authenticates(db: Database) -> None:
    a, _ = await _two_workspaces(db)
    async with db.transaction() as tx:
        new = await apikeys.create_workspace_key(tx, a, label="CI")
    token = new.token.reveal()
    assert token.startswith(f"sfb_{new.key.prefix}_")
    assert token not in repr(new)
    async with db.transaction() as tx:
        stored = await tx.fetch_one("apikey_find_by_prefix", {"prefix": new.key.prefix})
        assert stored is not None
        assert token not in str(stored)
        assert stored["key_hash"] == apikeys.hash_token(token)
        key = await apikeys.authenticate(tx, token)
    assert key is not None
    assert key.workspace_id == a and key.scope is apikeys.Scope.WORKSPACE and key.label == "CI"
    async with db.transaction() as tx:
        listed = await apikeys.list_keys(tx, a)
    assert listed[0].last_used_at is not None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # wrong secret, right prefix
        lambda t: "sfb_000000000000_" + t.split("_", 2)[2],  # unknown prefix
        lambda t: t.replace("sfb_", "sfx_"),
        lambda t: "",
        lambda t: "Bearer " + t,
    ],
)
async def test_api_key_authentication_refuses_wrong_keys(db: Database, mangle: object) -> None:
    a, _ = await _two_workspaces(db)
    async with db.transaction() as tx:
        new = await apikeys.create_workspace_key(tx, a)
    assert callable(mangle)
    async with db.transaction() as tx:
        assert await apikeys.authenticate(tx, mangle(new.token.reveal())) is None


async def test_revoked_key_stops_working(db: Database) -> None:
    a, _ = await _two_workspaces(db)
    async with db.transaction() as tx:
        new = await apikeys.create_workspace_key(tx, a)
        assert await apikeys.revoke(tx, a, new.key.id)
        assert not await apikeys.revoke(tx, a, new.key.id)
        assert await apikeys.authenticate(tx, new.token.reveal()) is None


async def test_admin_keys(db: Database) -> None:
    async with db.transaction() as tx:
        new = await apikeys.create_admin_key(tx, label="bootstrap")
        key = await apikeys.authenticate(tx, new.token.reveal())
        assert key is not None and key.scope is apikeys.Scope.ADMIN and key.workspace_id is None
        assert [k.id for k in await apikeys.list_admin_keys(tx)] == [new.key.id]
        assert await apikeys.revoke_admin_key(tx, new.key.id)
        assert await apikeys.authenticate(tx, new.token.reveal()) is None


async def test_key_for_missing_workspace_is_refused(db: Database) -> None:
    with pytest.raises(MissingReference):
        async with db.transaction() as tx:
            await apikeys.create_workspace_key(tx, "missing")


async def test_api_keys_are_isolated(db: Database) -> None:
    a, b = await _two_workspaces(db)
    async with db.transaction() as tx:
        key_a = await apikeys.create_workspace_key(tx, a)
        assert await apikeys.list_keys(tx, b) == []
        assert not await apikeys.revoke(tx, b, key_a.key.id)
        assert not await apikeys.revoke_admin_key(tx, key_a.key.id)
        authenticated = await apikeys.authenticate(tx, key_a.token.reveal())
    assert authenticated is not None and authenticated.workspace_id == a


# --- connections ---------------------------------------------------------------------------


async def _connected(db: Database, ws: str) -> None:
    async with db.transaction() as tx:
        await connections.save_credentials(
            tx,
            BOX,
            ws,
            login_url="https://login.salesforce.com",
            client_id="cid",
            client_secret="cs",
        )
        assert await connections.mark_connected(
            tx,
            BOX,
            ws,
            instance_url="https://acme.my.salesforce.com",
            org_id="00D000000000001",
            user_id="005000000000001",
            username="admin@acme.test",
            is_sandbox=False,
            access_token="at-1",
            refresh_token="rt-1",
            issued_at=NOW,
        )


async def test_connection_lifecycle(db: Database) -> None:
    a, _ = await _two_workspaces(db)
    async with db.transaction() as tx:
        assert await connections.get(tx, BOX, a) is None
        saved = await connections.save_credentials(
            tx,
            BOX,
            a,
            login_url="https://login.salesforce.com",
            client_id="cid",
            client_secret="cs",
        )
    assert saved.status is connections.ConnectionStatus.CREDENTIALS_SAVED
    assert saved.client_secret.reveal() == "cs"
    assert "cs" not in repr(saved.client_secret)
    await _connected(db, a)
    async with db.transaction() as tx:
        conn = await connections.get_for_update(tx, BOX, a)
        assert conn is not None
        assert conn.status is connections.ConnectionStatus.CONNECTED
        assert conn.access_token is not None and conn.access_token.reveal() == "at-1"
        raw = await tx.fetch_one("connection_get", {"workspace_id": a})
        assert raw is not None and "at-1" not in str(raw) and "rt-1" not in str(raw)
        # refresh without a new refresh token keeps the old one
        assert await connections.store_tokens(
            tx, BOX, a, access_token="at-2", refresh_token=None, issued_at=NOW
        )
        conn = await connections.get(tx, BOX, a)
        assert conn is not None and conn.refresh_token is not None
        assert conn.refresh_token.reveal() == "rt-1"
        # rotation stores the new refresh token
        await connections.store_tokens(
            tx, BOX, a, access_token="at-3", refresh_token="rt-2", issued_at=NOW
        )
        conn = await connections.get(tx, BOX, a)
        assert conn is not None and conn.refresh_token is not None
        assert conn.refresh_token.reveal() == "rt-2"
        assert await connections.mark_needs_reconnect(tx, a, error="invalid_grant")
        conn = await connections.get(tx, BOX, a)
        assert conn is not None and conn.status is connections.ConnectionStatus.NEEDS_RECONNECT
        assert conn.access_token is None and conn.last_error == "invalid_grant"
        assert await connections.disconnect(tx, a)
        conn = await connections.get(tx, BOX, a)
        assert conn is not None and conn.status is connections.ConnectionStatus.DISCONNECTED
        assert conn.refresh_token is None
        # tokens refreshed after a disconnect are not stored
        assert not await connections.store_tokens(
            tx, BOX, a, access_token="late", refresh_token="late", issued_at=NOW
        )


async def test_saving_credentials_keeps_secret_and_resets_on_new_app(db: Database) -> None:
    a, _ = await _two_workspaces(db)
    await _connected(db, a)
    async with db.transaction() as tx:
        same = await connections.save_credentials(
            tx,
            BOX,
            a,
            login_url="https://login.salesforce.com",
            client_id="cid",
            client_secret=None,
        )
        assert same.status is connections.ConnectionStatus.CONNECTED
        assert same.client_secret.reveal() == "cs"
        other = await connections.save_credentials(
            tx,
            BOX,
            a,
            login_url="https://test.salesforce.com",
            client_id="cid2",
            client_secret="cs2",
        )
        assert other.status is connections.ConnectionStatus.CREDENTIALS_SAVED
        assert other.access_token is None and other.refresh_token is None


async def test_first_save_needs_a_secret(db: Database) -> None:
    a, _ = await _two_workspaces(db)
    with pytest.raises(InvalidRow):
        async with db.transaction() as tx:
            await connections.save_credentials(
                tx,
                BOX,
                a,
                login_url="https://login.salesforce.com",
                client_id="c",
                client_secret=None,
            )


async def test_webhook_token_lookup_and_rotation(db: Database) -> None:
    a, _ = await _two_workspaces(db)
    await _connected(db, a)
    first, second = connections.new_webhook_token(), connections.new_webhook_token()
    assert first != second and len(first) >= 43  # 256 bits
    async with db.transaction() as tx:
        assert await connections.set_webhook_token(tx, BOX, a, first)
        assert await connections.workspace_for_webhook_token(tx, first) == a
        shown = await connections.webhook_token(tx, BOX, a)
        assert shown is not None and shown.reveal() == first
        await connections.set_webhook_token(tx, BOX, a, second)
        assert await connections.workspace_for_webhook_token(tx, first) is None
        assert await connections.workspace_for_webhook_token(tx, second) == a
        assert await connections.workspace_for_webhook_token(tx, "") is None


async def test_oauth_state_is_single_use_and_expires(db: Database) -> None:
    a, _ = await _two_workspaces(db)
    async with db.transaction() as tx:
        await connections.create_oauth_state(tx, BOX, a, state="s1", code_verifier="v1")
        await connections.create_oauth_state(
            tx, BOX, a, state="s2", code_verifier="v2", ttl_seconds=-1
        )
        used = await connections.consume_oauth_state(tx, BOX, "s1")
        assert used is not None and used.workspace_id == a and used.code_verifier.reveal() == "v1"
        assert await connections.consume_oauth_state(tx, BOX, "s1") is None
        assert await connections.consume_oauth_state(tx, BOX, "s2") is None  # expired
        assert await connections.consume_oauth_state(tx, BOX, "unknown") is None


async def test_connections_are_isolated(db: Database) -> None:
    a, b = await _two_workspaces(db)
    await _connected(db, a)
    token = connections.new_webhook_token()
    async with db.transaction() as tx:
        await connections.set_webhook_token(tx, BOX, a, token)
        assert await connections.get(tx, BOX, b) is None
        assert await connections.webhook_token(tx, BOX, b) is None
        assert not await connections.store_tokens(
            tx, BOX, b, access_token="x", refresh_token="y", issued_at=NOW
        )
        assert not await connections.mark_needs_reconnect(tx, b, error="x")
        assert not await connections.disconnect(tx, b)
        assert not await connections.set_webhook_token(tx, BOX, b, "stolen")
        conn = await connections.get(tx, BOX, a)
        assert conn is not None and conn.status is connections.ConnectionStatus.CONNECTED


async def test_a_sealed_secret_copied_to_another_workspace_does_not_open(db: Database) -> None:
    a, b = await _two_workspaces(db)
    await _connected(db, a)
    async with db.transaction() as tx:
        row = await tx.fetch_one("connection_get", {"workspace_id": a})
        assert row is not None
        await tx.execute(
            "connection_save_credentials",
            {
                "workspace_id": b,
                "login_url": "https://login.salesforce.com",
                "client_id": "cid",
                "client_secret_enc": row["client_secret_enc"],
            },
        )
    with pytest.raises(SecretTampered):
        async with db.transaction() as tx:
            await connections.get(tx, BOX, b)


# --- webhook events ------------------------------------------------------------------------


async def test_events_record_without_secret_headers(db: Database) -> None:
    a, _ = await _two_workspaces(db)
    async with db.transaction() as tx:
        event_id = await events.record(
            tx,
            a,
            query={"type": "case_comment"},
            body='{"CaseId":"500"}',
            headers={
                "Content-Type": "application/json",
                "Authorization": "Bearer x",
                "X-Webhook-Token": "t",
                "Cookie": "c",
            },
        )
        event = await events.get(tx, a, event_id)
        assert event is not None
        assert event.headers == {"content-type": "application/json"}
        assert (
            event.query == {"type": "case_comment"} and event.status is events.EventStatus.RECEIVED
        )
        assert await events.mark(tx, a, event_id, events.EventStatus.PROCESSED)
        done = await events.get(tx, a, event_id)
        assert done is not None and done.processed_at is not None
        assert await events.last_received_at(tx, a) == event.received_at


async def test_events_are_isolated(db: Database) -> None:
    a, b = await _two_workspaces(db)
    async with db.transaction() as tx:
        event_id = await events.record(tx, a, query={}, body="x", headers={})
        assert await events.get(tx, b, event_id) is None
        assert not await events.mark(tx, b, event_id, events.EventStatus.IGNORED)
        assert await events.list_recent(tx, b) == []
        assert await events.last_received_at(tx, b) is None
        still = await events.get(tx, a, event_id)
        assert still is not None and still.status is events.EventStatus.RECEIVED


# --- traces --------------------------------------------------------------------------------

STEP = TraceStep(
    name="match",
    status="ok",
    duration_ms=12,
    detail="1 contact",
    calls=(
        SalesforceCall(
            method="GET", path="/services/data/v62.0/query", status=200, duration_ms=9, attempts=2
        ),
    ),
)


async def test_trace_start_finish_get(db: Database) -> None:
    a, _ = await _two_workspaces(db)
    async with db.transaction() as tx:
        trace_id = await traces.start(tx, a, activity_id="call-1", activity_type="call")
        running = await traces.get(tx, a, trace_id)
        assert running is not None and running.status is TraceStatus.RUNNING and running.steps == ()
        assert await traces.finish(
            tx, a, trace_id, status=TraceStatus.COMPLETE, duration_ms=40, steps=[STEP]
        )
        done = await traces.get(tx, a, trace_id)
    assert done is not None
    assert done.status is TraceStatus.COMPLETE and done.duration_ms == 40
    assert done.steps == (STEP,)


async def test_trace_list_filters_and_pages(db: Database) -> None:
    a, _ = await _two_workspaces(db)
    statuses = [TraceStatus.COMPLETE, TraceStatus.ERROR, TraceStatus.COMPLETE_WITH_ERRORS]
    async with db.transaction() as tx:
        for i in range(9):
            await traces.record(
                tx,
                a,
                activity_id=f"act-{i}",
                activity_type="call" if i % 2 else "chat",
                status=statuses[i % 3],
                started_at=NOW + dt.timedelta(minutes=i // 2),  # pairs share a start time
                duration_ms=i,
                steps=[],
            )
    seen: list[str] = []
    cursor = None
    async with db.transaction() as tx:
        while True:
            page = await traces.list_page(tx, a, limit=4, cursor=cursor)
            seen.extend(t.activity_id for t in page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert len(seen) == 9 and len(set(seen)) == 9
        starts = [t.started_at for t in (await traces.list_page(tx, a, limit=200)).items]
        assert starts == sorted(starts, reverse=True)
        errors = await traces.list_page(tx, a, status=TraceStatus.ERROR)
        assert {t.activity_id for t in errors.items} == {"act-1", "act-4", "act-7"}
        calls = await traces.list_page(tx, a, activity_type="call")
        assert {t.activity_id for t in calls.items} == {"act-1", "act-3", "act-5", "act-7"}
        window = await traces.list_page(
            tx, a, since=NOW + dt.timedelta(minutes=1), until=NOW + dt.timedelta(minutes=3)
        )
        assert {t.activity_id for t in window.items} == {"act-2", "act-3", "act-4", "act-5"}
        one = await traces.list_page(tx, a, activity_id="act-8")
        assert [t.duration_ms for t in one.items] == [8]


async def test_trace_bad_cursor_and_running_finish_are_refused(db: Database) -> None:
    a, _ = await _two_workspaces(db)
    async with db.transaction() as tx:
        with pytest.raises(InvalidRow):
            await traces.list_page(tx, a, cursor="not-a-cursor")
        trace_id = await traces.start(tx, a, activity_id="x", activity_type="call")
        with pytest.raises(InvalidRow):
            await traces.finish(
                tx, a, trace_id, status=TraceStatus.RUNNING, duration_ms=1, steps=[]
            )


async def test_trace_purge_removes_only_old_traces(db: Database) -> None:
    a, b = await _two_workspaces(db)
    now = dt.datetime.now(dt.UTC)
    async with db.transaction() as tx:
        for ws in (a, b):
            for age in (40, 29):
                await traces.record(
                    tx,
                    ws,
                    activity_id=f"{ws}-{age}",
                    activity_type="call",
                    status=TraceStatus.COMPLETE,
                    started_at=now - dt.timedelta(days=age),
                    duration_ms=1,
                    steps=[],
                )
        assert await traces.purge_older_than(tx, days=30) == 2
        for ws in (a, b):
            left = await traces.list_page(tx, ws)
            assert [t.activity_id for t in left.items] == [f"{ws}-29"]


async def test_traces_are_isolated(db: Database) -> None:
    a, b = await _two_workspaces(db)
    async with db.transaction() as tx:
        trace_id = await traces.start(tx, a, activity_id="call-1", activity_type="call")
        assert await traces.get(tx, b, trace_id) is None
        assert not await traces.finish(
            tx, b, trace_id, status=TraceStatus.ERROR, duration_ms=1, steps=[]
        )
        assert (await traces.list_page(tx, b)).items == ()
        assert (await traces.list_page(tx, b, activity_id="call-1")).items == ()
        still = await traces.get(tx, a, trace_id)
        assert still is not None and still.status is TraceStatus.RUNNING
