"""The embedded Postgres server (the ``pgserver`` wheel), used when no ``DATABASE_URL`` is set.

The server keeps its files under ``<data dir>/pg`` and listens on a Unix socket only.
Starting again on the same directory reuses the data, and reuses a server another local
process (``sfbridge worker``) already started. The server stops when the last process
using it calls :meth:`EmbeddedPostgres.stop` or exits.

Example::

    server = await embedded.start(settings.postgres_dir)
    db = await Database.connect(server.url)
    ...
    await db.close()
    server.stop()
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from sfbridge.errors import StoreError, StoreUnavailable
from sfbridge.store import db as db_module

if TYPE_CHECKING:
    from pgserver.postgres_server import PostgresServer

DEFAULT_DATABASE = "sfbridge"


class EmbeddedPostgres:
    """A running embedded server and the URL of sfbridge's database on it."""

    def __init__(self, server: PostgresServer, pgdata: Path, database: str) -> None:
        self._server = server
        self.pgdata = pgdata
        self.database = database

    def __repr__(self) -> str:
        return f"EmbeddedPostgres(pgdata={str(self.pgdata)!r}, database={self.database!r})"

    @property
    def admin_url(self) -> str:
        """URL of the server's ``postgres`` database (to create and drop databases)."""
        return self._server.get_uri("postgres")

    @property
    def url(self) -> str:
        """URL of sfbridge's database on this server."""
        return self._server.get_uri(self.database)

    def url_for(self, database: str) -> str:
        """URL of another database on this server."""
        return self._server.get_uri(database)

    def stop(self) -> None:
        """Release this process's handle; the server stops when no process holds one."""
        self._server.cleanup()


def _start_server(pgdata: Path) -> PostgresServer:
    # Imported here: pgserver reads the environment and locks files when imported.
    from pgserver.postgres_server import get_server

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        return get_server(pgdata, cleanup_mode="stop")
    except (subprocess.SubprocessError, OSError, AssertionError, RuntimeError) as exc:
        log = pgdata / "log"
        raise StoreUnavailable(
            f"The embedded Postgres under {pgdata} did not start ({type(exc).__name__}); "
            f"see {log} or set DATABASE_URL to use another Postgres."
        ) from exc


async def start(pgdata: Path, *, database: str = DEFAULT_DATABASE) -> EmbeddedPostgres:
    """Start (or join) the embedded server under ``pgdata`` and ensure ``database`` exists.

    Args:
        pgdata: The server's data directory, usually ``settings.postgres_dir``.
        database: The database sfbridge uses on it.

    Raises:
        StoreUnavailable: The server did not start; the message points at its log.
    """
    pgdata = await asyncio.to_thread(lambda: pgdata.expanduser().resolve())
    server = await asyncio.to_thread(_start_server, pgdata)
    embedded = EmbeddedPostgres(server, pgdata, database)
    if not await db_module.database_exists(embedded.admin_url, database):
        try:
            await db_module.create_database(embedded.admin_url, database)
        except StoreError:
            # Another process may have created it between the check and now.
            if not await db_module.database_exists(embedded.admin_url, database):
                raise
    return embedded
