"""Session manager: single-flight refresh in and across processes, rotation, dead grants."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from sfbridge.salesforce.errors import ReconnectNeeded
from sfbridge.salesforce.session import SessionManager
from sfbridge.salesforce.tokens import LocalRefreshLock, MemoryTokenStorage, TokenSet

T0 = dt.datetime(2024, 3, 1, 10, 0, tzinfo=dt.UTC)


def _tokens(n: int, refresh: str | None = "r0", at: dt.datetime = T0) -> TokenSet:
    return TokenSet(
        access_token=f"a{n}",
        refresh_token=refresh,
        instance_url="https://acme.my.salesforce.com",
        id_url="https://login.salesforce.com/id/00D000000000001AAA/005000000000001AAA",
        issued_at=at,
    )


class CountingRenewer:
    """Issues a1, a2 ... and optionally rotates the refresh token; can be told to fail."""

    def __init__(self, *, rotate: bool = False, dead: bool = False) -> None:
        self.calls = 0
        self.seen_refresh: list[str | None] = []
        self.rotate = rotate
        self.dead = dead

    async def renew(self, current: TokenSet) -> TokenSet:
        self.calls += 1
        self.seen_refresh.append(current.refresh_token)
        await asyncio.sleep(0.01)  # let the other callers pile up
        if self.dead:
            raise ReconnectNeeded("invalid_grant: expired access/refresh token")
        refresh = f"r{self.calls}" if self.rotate else None
        return _tokens(100 + self.calls, refresh=refresh, at=T0 + dt.timedelta(hours=1))


async def test_current_loads_once_and_raises_when_not_connected() -> None:
    storage = MemoryTokenStorage(_tokens(1))
    mgr = SessionManager(storage=storage, renewer=CountingRenewer())
    assert (await mgr.current()).access_token == "a1"
    storage.tokens = _tokens(2)
    assert (await mgr.current()).access_token == "a1"  # cached
    mgr.forget()
    assert (await mgr.current()).access_token == "a2"
    empty = SessionManager(storage=MemoryTokenStorage(), renewer=CountingRenewer())
    with pytest.raises(ReconnectNeeded, match="not connected"):
        await empty.current()


async def test_fifty_concurrent_refreshes_run_one_renewal() -> None:
    storage = MemoryTokenStorage(_tokens(1))
    renewer = CountingRenewer()
    mgr = SessionManager(storage=storage, renewer=renewer)
    stale = await mgr.current()
    results = await asyncio.gather(*(mgr.refresh(stale) for _ in range(50)))
    assert renewer.calls == 1
    assert mgr.refresh_count == 1
    assert {r.access_token for r in results} == {"a101"}
    assert storage.saves == 1
    assert storage.tokens is not None and storage.tokens.refresh_token == "r0"  # kept: no rotation


async def test_two_processes_sharing_storage_and_lock_refresh_once() -> None:
    storage = MemoryTokenStorage(_tokens(1))
    lock = LocalRefreshLock()  # stands in for the Postgres advisory lock
    renewer = CountingRenewer(rotate=True)
    p1 = SessionManager(storage=storage, renewer=renewer, lock=lock)
    p2 = SessionManager(storage=storage, renewer=renewer, lock=lock)
    s1, s2 = await p1.current(), await p2.current()
    results = await asyncio.gather(
        *(p1.refresh(s1) for _ in range(25)), *(p2.refresh(s2) for _ in range(25))
    )
    assert renewer.calls == 1  # p2 found p1's new token in storage and used it
    assert {r.access_token for r in results} == {"a101"}
    assert renewer.seen_refresh == ["r0"]
    assert storage.tokens is not None and storage.tokens.refresh_token == "r1"


async def test_rotation_uses_the_newest_refresh_token_next_time() -> None:
    storage = MemoryTokenStorage(_tokens(1))
    renewer = CountingRenewer(rotate=True)
    mgr = SessionManager(storage=storage, renewer=renewer)
    first = await mgr.refresh(await mgr.current())
    await mgr.refresh(first)
    assert renewer.seen_refresh == ["r0", "r1"]
    assert storage.tokens is not None and storage.tokens.refresh_token == "r2"


async def test_dead_grant_marks_storage_once_and_raises_for_everyone() -> None:
    storage = MemoryTokenStorage(_tokens(1))
    renewer = CountingRenewer(dead=True)
    mgr = SessionManager(storage=storage, renewer=renewer)
    stale = await mgr.current()
    results = await asyncio.gather(*(mgr.refresh(stale) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, ReconnectNeeded) for r in results)
    assert storage.needs_reconnect == "invalid_grant: expired access/refresh token"
    assert storage.saves == 0
    assert renewer.calls == 1  # the dead grant is not tried again for the same token
    again = await mgr.current()  # reloads the (dead) stored tokens
    with pytest.raises(ReconnectNeeded):
        await mgr.refresh(again)
    assert renewer.calls == 1
    storage.tokens = _tokens(9)  # the admin reconnected
    mgr.forget()
    renewer.dead = False
    fresh = await mgr.refresh(await mgr.current())
    assert fresh.access_token == "a102" and renewer.calls == 2


@pytest.mark.parametrize(
    ("age", "max_age", "refreshed"),
    [
        (dt.timedelta(hours=1), dt.timedelta(hours=24), False),
        (dt.timedelta(hours=23, minutes=59), dt.timedelta(hours=24), False),
        (dt.timedelta(hours=24), dt.timedelta(hours=24), True),
        (dt.timedelta(days=10), dt.timedelta(hours=24), True),
        (dt.timedelta(hours=2), dt.timedelta(hours=1), True),
    ],
)
async def test_ensure_fresh(age: dt.timedelta, max_age: dt.timedelta, refreshed: bool) -> None:
    storage = MemoryTokenStorage(_tokens(1))
    renewer = CountingRenewer()
    mgr = SessionManager(storage=storage, renewer=renewer, clock=lambda: T0 + age)
    assert await mgr.ensure_fresh(max_age) is refreshed
    assert renewer.calls == int(refreshed)


async def test_ensure_fresh_reads_storage_not_the_cache() -> None:
    storage = MemoryTokenStorage(_tokens(1))
    renewer = CountingRenewer()
    mgr = SessionManager(storage=storage, renewer=renewer, clock=lambda: T0 + dt.timedelta(days=2))
    await mgr.current()
    storage.tokens = _tokens(7, at=T0 + dt.timedelta(days=2))  # another process refreshed
    assert await mgr.ensure_fresh() is False
    assert (await mgr.current()).access_token == "a7"
