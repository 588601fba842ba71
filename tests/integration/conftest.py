"""Fixtures on real Postgres: one embedded server per session, a fresh migrated DB per test.

Reuse them elsewhere (e2e) by importing them into that folder's conftest::

    from tests.integration.conftest import database_url, db, job_app, test_postgres  # noqa: F401
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from procrastinate import App

from sfbridge import jobs
from sfbridge.store.db import Database
from sfbridge.testing.postgres import TestPostgres


@pytest.fixture(scope="session")
def test_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestPostgres]:
    """The session's embedded Postgres with a migrated template database."""
    cluster = asyncio.run(TestPostgres.start(tmp_path_factory.mktemp("postgres")))
    yield cluster
    cluster.stop()


@pytest.fixture
async def database_url(test_postgres: TestPostgres) -> AsyncIterator[str]:
    """URL of a fresh, fully migrated database private to this test."""
    url = await test_postgres.clone()
    yield url
    await test_postgres.drop(url)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A connected :class:`Database` on this test's fresh database."""
    database = await Database.connect(database_url, min_size=1, max_size=5)
    yield database
    await database.close()


@pytest.fixture
async def job_app(db: Database) -> AsyncIterator[App]:
    """The sfbridge job app, open on the test database's pool."""
    app = jobs.create_job_app(db)
    async with app.open_async(pool=db.pool):
        yield app
