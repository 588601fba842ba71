"""Migrations on real Postgres: applied once, concurrently safe, procrastinate schema included."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from sfbridge.errors import DuplicateRow, InvalidRow, MigrationError, MissingReference, UnknownQuery
from sfbridge.store import migrate
from sfbridge.store.db import Database, Json
from sfbridge.testing.postgres import TestPostgres


@pytest.fixture
async def empty_url(test_postgres: TestPostgres) -> AsyncIterator[str]:
    url = await test_postgres.create_empty()
    yield url
    await test_postgres.drop(url)


async def _tables(db: Database) -> set[str]:
    async with db.transaction() as tx:
        rows = await tx.fetch_all("migrations_applied")
        present = await tx.fetch_value("procrastinate_schema_present")
    return {r["name"] for r in rows} | ({"procrastinate"} if present else set())


async def test_migrate_fresh_database_then_again_is_a_no_op(empty_url: str) -> None:
    db = await Database.connect(empty_url)
    try:
        first = await migrate.migrate(db)
        assert first.procrastinate_schema_applied
        assert first.applied == tuple(m.name for m in migrate.available_migrations())
        assert "0001_foundation" in first.applied
        second = await migrate.migrate(db)
        assert second.applied == ()
        assert not second.procrastinate_schema_applied
        assert await _tables(db) == {*first.applied, "procrastinate"}
    finally:
        await db.close()


async def test_concurrent_migrators_apply_each_migration_once(empty_url: str) -> None:
    dbs = [await Database.connect(empty_url, max_size=2) for _ in range(4)]
    try:
        reports = await asyncio.gather(*(migrate.migrate(db) for db in dbs))
        applied = [name for r in reports for name in r.applied]
        assert sorted(applied) == sorted(m.name for m in migrate.available_migrations())
        assert sum(r.procrastinate_schema_applied for r in reports) == 1
    finally:
        for db in dbs:
            await db.close()


async def test_database_from_a_newer_version_is_refused(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("migrations_record", {"version": 9999, "name": "9999_future"})
    with pytest.raises(MigrationError, match="9999"):
        await migrate.migrate(db)


def test_available_migrations_are_numbered_in_order() -> None:
    versions = [m.version for m in migrate.available_migrations()]
    assert versions == sorted(versions)
    assert versions[0] == 1


async def test_psycopg_errors_become_store_errors(db: Database) -> None:
    async with db.transaction() as tx:
        ws = await tx.fetch_one(
            "workspace_create", {"name": "a", "is_demo": False, "settings": Json({})}
        )
    assert ws is not None
    with pytest.raises(InvalidRow):
        async with db.transaction() as tx:
            await tx.fetch_one(
                "workspace_create", {"name": "", "is_demo": False, "settings": Json({})}
            )
    with pytest.raises(MissingReference):
        async with db.transaction() as tx:
            await tx.execute(
                "event_insert",
                {"workspace_id": "nope", "query": Json({}), "body": "", "headers": Json({})},
            )
    with pytest.raises(DuplicateRow) as caught:
        async with db.transaction() as tx:
            params = {
                "workspace_id": ws["id"],
                "scope": "workspace",
                "prefix": "p1",
                "key_hash": "h",
                "label": "",
            }
            await tx.execute("apikey_create", params)
            await tx.execute("apikey_create", params)
    assert caught.value.constraint == "api_keys_prefix_key"
    with pytest.raises(UnknownQuery):
        async with db.transaction() as tx:
            await tx.execute("no_such_query")


async def test_transaction_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.fetch_one(
                "workspace_create", {"name": "gone", "is_demo": False, "settings": Json({})}
            )
            raise RuntimeError("boom")
    async with db.transaction() as tx:
        assert await tx.fetch_all("workspace_list") == []
