"""Real Postgres for tests: one embedded server, a migrated template, a fresh clone per test.

Cloning with ``CREATE DATABASE x TEMPLATE y`` copies files, so each test gets a private,
fully migrated database in a few milliseconds. ``tests/integration/conftest.py`` builds
its fixtures on this; e2e tests can reuse it the same way.

Example::

    cluster = await TestPostgres.start(tmp_dir)
    url = await cluster.clone()          # fresh, migrated database
    ...
    await cluster.drop(url)
    cluster.stop()
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

from sfbridge.store import db as db_module
from sfbridge.store import embedded, migrate

TEMPLATE = "sfbridge_template"


class TestPostgres:
    """An embedded server holding a migrated template database."""

    __test__ = False  # not a pytest test class

    def __init__(self, server: embedded.EmbeddedPostgres) -> None:
        self._server = server
        self._counter = itertools.count(1)

    @classmethod
    async def start(cls, directory: Path) -> TestPostgres:
        """Start a server under ``directory`` and build the migrated template database."""
        server = await embedded.start(directory / "pg", database=TEMPLATE)
        database = await db_module.Database.connect(server.url, min_size=1, max_size=2)
        try:
            await migrate.migrate(database)
        finally:
            await database.close()
        return cls(server)

    @property
    def admin_url(self) -> str:
        """URL of the server's ``postgres`` database."""
        return self._server.admin_url

    @property
    def template_url(self) -> str:
        """URL of the migrated template (do not connect while cloning)."""
        return self._server.url

    async def clone(self) -> str:
        """Create a fresh database copied from the template; return its URL."""
        name = f"test_{os.getpid()}_{next(self._counter)}"
        await db_module.create_database(self.admin_url, name, template=TEMPLATE)
        return self._server.url_for(name)

    async def create_empty(self) -> str:
        """Create an empty (unmigrated) database; return its URL."""
        name = f"empty_{os.getpid()}_{next(self._counter)}"
        await db_module.create_database(self.admin_url, name)
        return self._server.url_for(name)

    async def drop(self, url: str) -> None:
        """Drop a database made by :meth:`clone` or :meth:`create_empty`."""
        name = db_module.database_name(url)
        await db_module.drop_database(self.admin_url, name)

    def stop(self) -> None:
        """Stop the server (its files stay under the directory given to :meth:`start`)."""
        self._server.stop()
