"""The client against the real emulator over HTTP: retries, governor, paging, batching.

Faults, latency and limits are set through the emulator's control plane; the client under
test is the production code path with a recording sleep (so retries take no time).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from sfbridge.salesforce import oauth
from sfbridge.salesforce.batching import Subrequest
from sfbridge.salesforce.client import SalesforceClient
from sfbridge.salesforce.errors import (
    BudgetDeferred,
    BudgetPaused,
    LimitExceeded,
    MultipleMatches,
    NotFound,
    RowLocked,
    ServerUnavailable,
    TransportFailure,
    ValidationFailed,
)
from sfbridge.salesforce.governor import Governor, Priority
from sfbridge.salesforce.recorder import MemoryRecorder
from sfbridge.salesforce.retry import RetryPolicy
from sfbridge.salesforce.session import ClientCredentialsRenewer, SessionManager
from sfbridge.salesforce.soql import format_soql
from sfbridge.salesforce.tokens import MemoryTokenStorage
from sfemu.testing import EmulatedSalesforce, emulated_salesforce


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatedSalesforce]:
    with emulated_salesforce(auto_approve=True) as running:
        yield running


@dataclass
class Rig:
    """A fresh org, a connected client, and what it recorded."""

    url: str
    key: str
    org_id: str
    client: SalesforceClient
    recorder: MemoryRecorder
    sleeps: list[float] = field(default_factory=list)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        resp = httpx.request(
            method,
            f"{self.url}/_emulator/orgs/{self.org_id}/{path}",
            json=body,
            headers={"X-Emulator-Key": self.key},
        )
        assert resp.status_code < 300, resp.text
        return resp.json() if resp.content else None

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def fault(self, kind: str, path: str, *, method: str | None = None, count: int = 1) -> None:
        self.control(
            "POST", "faults", {"kind": kind, "path": path, "method": method, "count": count}
        )

    def api_calls(self) -> int:
        return int(self.control("GET", "counters")["total"])


@pytest.fixture
async def rig(server: EmulatedSalesforce) -> AsyncIterator[Rig]:
    key = server.emulator.control_key
    resp = httpx.post(f"{server.url}/_emulator/orgs", json={}, headers={"X-Emulator-Key": key})
    assert resp.status_code == 201, resp.text
    summary = resp.json()
    app = oauth.AppCredentials(
        client_id=summary["client_id"], client_secret=summary["client_secret"]
    )
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=1.0)) as http:
        tokens = await oauth.client_credentials(http, login_url=server.url, app=app)
        session = SessionManager(
            storage=MemoryTokenStorage(tokens),
            renewer=ClientCredentialsRenewer(http=http, login_url=server.url, app=app),
        )
        sleeps: list[float] = []

        async def sleep(seconds: float) -> None:
            sleeps.append(seconds)

        recorder = MemoryRecorder()
        client = SalesforceClient(
            http,
            session,
            governor=Governor(),
            recorder=recorder,
            retry=RetryPolicy(max_attempts=4),
            sleep=sleep,
            rng=random.Random(3),
        )
        yield Rig(server.url, key, summary["org_id"], client, recorder, sleeps)


# ----------------------------------------------------------------------- CRUD and errors


async def test_crud_round_trip_and_typed_errors(rig: Rig) -> None:
    c = rig.client
    case_id = await c.create("Case", {"Subject": "Printer down", "Origin": "Email"})
    assert (await c.get("Case", case_id, ["Subject"]))["Subject"] == "Printer down"
    await c.update("Case", case_id, {"Subject": "Printer fixed"})
    assert (await c.get("Case", case_id))["Subject"] == "Printer fixed"
    with pytest.raises(ValidationFailed) as bad:
        await c.create("Case", {"NoSuchField__c": "x"})
    assert bad.value.status == 400 and bad.value.error_code == "INVALID_FIELD"
    assert await c.delete("Case", case_id) is True
    with pytest.raises(NotFound):
        await c.delete("Case", case_id)
    assert await c.delete("Case", case_id, missing_ok=True) is False


async def test_upsert_by_external_id_and_query_with_quoted_values(rig: Rig) -> None:
    c = rig.client
    conv = "conv-'1'\\x"
    first = await c.upsert_by_external_id("Case", "conversationId__c", conv, {"Subject": "A"})
    again = await c.upsert_by_external_id("Case", "conversationId__c", conv, {"Subject": "B"})
    assert first.created is True and again.created is False and first.id == again.id
    rows = await c.query_all(
        format_soql("SELECT Id, Subject FROM Case WHERE conversationId__c = {}", conv)
    )
    assert [(r["Id"], r["Subject"]) for r in rows] == [(first.id, "B")]
    got = await c.get_by_external_id("Case", "conversationId__c", conv)
    assert got["Id"] == first.id
    assert rig.recorder.calls[0].path.endswith("/sobjects/Case/conversationId__c/<value>")


async def test_search_and_describe(rig: Rig) -> None:
    c = rig.client
    described = await c.describe("Case")
    assert any(f["name"] == "conversationId__c" for f in described["fields"])
    results = await c.search("FIND {zzzznothing} RETURNING Case(Id)")
    assert results == []


# ----------------------------------------------------------------------- retries


async def test_get_is_retried_on_503_then_succeeds(rig: Rig) -> None:
    case_id = await rig.client.create("Case", {"Subject": "x"})
    rig.fault("unavailable", "sobjects/Case/", method="GET", count=2)
    assert (await rig.client.get("Case", case_id))["Id"] == case_id
    assert rig.recorder.calls[-1].attempts == 3 and rig.recorder.calls[-1].status == 200
    assert len(rig.sleeps) == 2


async def test_create_is_not_retried_on_503(rig: Rig) -> None:
    rig.fault("unavailable", "sobjects/Case", method="POST", count=1)
    with pytest.raises(ServerUnavailable):
        await rig.client.create("Case", {"Subject": "x"})
    assert rig.recorder.calls[-1].attempts == 1 and rig.sleeps == []


async def test_lock_is_retried_even_for_a_create(rig: Rig) -> None:
    rig.fault("lock", "sobjects/Case", method="POST", count=2)
    case_id = await rig.client.create("Case", {"Subject": "locked twice"})
    rows = await rig.client.query_all("SELECT Id FROM Case WHERE Subject = 'locked twice'")
    assert [r["Id"] for r in rows] == [case_id]  # exactly one Case
    assert rig.recorder.calls[0].attempts == 3


async def test_lock_exhausts_the_retry_budget(rig: Rig) -> None:
    case_id = await rig.client.create("Case", {"Subject": "x"})
    rig.fault("lock", "sobjects/Case/", method="PATCH", count=10)
    with pytest.raises(RowLocked):
        await rig.client.update("Case", case_id, {"Subject": "y"})
    assert rig.recorder.calls[-1].attempts == 4


async def test_dropped_connection_retried_for_patch_not_for_post(rig: Rig) -> None:
    case_id = await rig.client.create("Case", {"Subject": "x"})
    rig.fault("drop", "sobjects/Case/", method="PATCH", count=1)
    await rig.client.update("Case", case_id, {"Subject": "after drop"})
    assert rig.recorder.calls[-1].attempts == 2
    rig.fault("drop", "sobjects/Case", method="POST", count=1)
    with pytest.raises(TransportFailure) as info:
        await rig.client.create("Case", {"Subject": "maybe"})
    assert info.value.sent is True and rig.recorder.calls[-1].attempts == 1


async def test_read_timeout_is_retried_for_a_get(rig: Rig) -> None:
    recorder = MemoryRecorder()
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=0.2)) as http:
        client = SalesforceClient(
            http,
            rig.client.session,
            governor=Governor(),
            recorder=recorder,
            retry=RetryPolicy(max_attempts=3),
            sleep=rig.sleep,
        )
        rig.control("PUT", "latency", {"fixed_ms": 600})
        try:
            with pytest.raises(TransportFailure) as info:
                await client.limits()
        finally:
            rig.control("PUT", "latency", {"fixed_ms": 0})
    assert info.value.sent is True
    assert recorder.calls[-1].attempts == 3 and recorder.calls[-1].status is None
    assert len(rig.sleeps) == 2


# ----------------------------------------------------------------------- governor


async def test_governor_defers_at_the_threshold_and_lets_urgent_work_go(rig: Rig) -> None:
    rig.control("PUT", "limits", {"daily_limit": 20, "reset_usage": True})
    while True:  # spend the budget up to 90 %
        await rig.client.limits(priority=Priority.URGENT)
        usage = rig.client.governor.usage(rig.org_id)
        assert usage is not None and usage.max == 20
        if usage.fraction >= 0.9:
            break
    before = rig.api_calls()
    with pytest.raises(BudgetDeferred) as info:
        await rig.client.limits(priority=Priority.DEFERRABLE)
    assert info.value.retry_at is not None and info.value.retry_at > dt.datetime.now(dt.UTC)
    assert rig.api_calls() == before  # nothing was sent
    await rig.client.limits(priority=Priority.URGENT)
    assert rig.api_calls() == before + 1


async def test_governor_pauses_the_org_on_request_limit_exceeded(rig: Rig) -> None:
    rig.control("PUT", "limits", {"daily_limit": 3, "reset_usage": True})
    with pytest.raises(LimitExceeded) as info:
        for _ in range(10):
            await rig.client.limits(priority=Priority.URGENT)
    assert info.value.retry_at is not None
    assert rig.client.governor.paused_until(rig.org_id, dt.datetime.now(dt.UTC)) is not None
    before = rig.api_calls()
    with pytest.raises(BudgetPaused):
        await rig.client.limits(priority=Priority.NORMAL)
    with pytest.raises(BudgetPaused):  # the 403 was this minute's urgent probe
        await rig.client.limits(priority=Priority.URGENT)
    assert rig.api_calls() == before  # not retried hot, nothing sent


# ----------------------------------------------------------------------- paging and batching


async def test_query_pages_over_more_than_2000_records(rig: Rig) -> None:
    records = [{"Name": f"Acct {i:05d}"} for i in range(2150)]
    results = await rig.client.collections_create("Account", records)
    assert all(r.success for r in results)
    rig.recorder.calls.clear()
    names = [
        r["Name"]
        async for r in rig.client.query(
            "SELECT Name FROM Account WHERE Name LIKE 'Acct %' ORDER BY Name"
        )
    ]
    assert names == [f"Acct {i:05d}" for i in range(2150)]
    assert len(rig.recorder.calls) == 2
    assert rig.recorder.calls[1].path.startswith("/services/data/v59.0/query/01g")


async def test_collections_chunk_450_records_into_3_calls_mapped_in_order(rig: Rig) -> None:
    records: list[dict[str, Any]] = [{"Name": f"Org {i}"} for i in range(450)]
    records[301] = {"Website": "missing the required Name"}
    results = await rig.client.collections_create("Account", records)
    assert [c.path for c in rig.recorder.calls] == ["/services/data/v59.0/composite/sobjects"] * 3
    assert [r.index for r in results] == list(range(450))
    assert not results[301].success
    failure = results[301].error()
    assert isinstance(failure, ValidationFailed) and failure.error_code == "REQUIRED_FIELD_MISSING"
    ids = {r.id: r.index for r in results if r.success}
    assert len(ids) == 449
    rows = await rig.client.query_all("SELECT Id, Name FROM Account WHERE Name LIKE 'Org %'")
    assert all(row["Name"] == f"Org {ids[row['Id']]}" for row in rows) and len(rows) == 449


async def test_collections_upsert_update_and_delete(rig: Rig) -> None:
    c = rig.client
    recs = [{"conversationId__c": f"k{i}", "Subject": f"s{i}"} for i in range(3)]
    created = await c.collections_upsert("Case", "conversationId__c", recs)
    assert [r.created for r in created] == [True, True, True]
    again = await c.collections_upsert("Case", "conversationId__c", recs)
    assert [r.created for r in again] == [False, False, False]
    ids = [r.id for r in created if r.id]
    updated = await c.collections_update("Case", [{"Id": i, "Subject": "u"} for i in ids])
    assert all(r.success for r in updated)
    deleted = await c.collections_delete([*ids, ids[0]])
    assert [r.success for r in deleted] == [True, True, True, False]


async def test_composite_with_references(rig: Rig) -> None:
    subs = [
        Subrequest(
            method="POST", url="sobjects/Account", reference_id="acct", body={"Name": "Ref Co"}
        ),
        Subrequest(
            method="POST",
            url="sobjects/Contact",
            reference_id="person",
            body={"LastName": "Ref", "AccountId": "@{acct.id}"},
        ),
        Subrequest(
            method="GET", url="sobjects/Account/@{acct.id}?fields=Name", reference_id="read"
        ),
    ]
    results = await rig.client.composite(subs, all_or_none=True)
    assert [r.status for r in results] == [201, 201, 200]
    assert results[2].body["Name"] == "Ref Co"
    assert len(rig.recorder.calls) == 1


async def test_upsert_with_several_matches_raises_multiple_matches(rig: Rig) -> None:
    rig.control(
        "POST",
        "fields",
        {"object": "Account", "name": "Legacy__c", "type": "string", "external_id": True},
    )
    for _ in range(2):
        await rig.client.create("Account", {"Name": "dup", "Legacy__c": "L1"})
    with pytest.raises(MultipleMatches) as info:
        await rig.client.upsert_by_external_id("Account", "Legacy__c", "L1", {"Name": "x"})
    assert len(info.value.urls) == 2
