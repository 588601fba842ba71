"""``Database``: a psycopg async connection pool, and the only code that executes SQL.

Statements are the named blocks of ``queries.sql``; parameters are dicts (``%(name)s``).
Wrap JSON values in :class:`Json`. psycopg exceptions are translated here into the
``StoreError`` tree of :mod:`sfbridge.errors`, so nothing above this module sees psycopg
errors.

Example::

    db = await Database.connect(url)
    async with db.transaction() as tx:
        row = await tx.fetch_one("workspace_get", {"workspace_id": ws_id})
    await db.close()
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, LiteralString

import psycopg
import psycopg_pool
from psycopg import errors as pg_errors
from psycopg import sql as pg_sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from sfbridge.errors import (
    DuplicateRow,
    InvalidRow,
    MissingReference,
    StoreError,
    StoreUnavailable,
    UnknownQuery,
)
from sfbridge.store import sql

Row = dict[str, Any]
Params = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class Json:
    """Marks a parameter value to be sent as ``jsonb``."""

    value: object


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Turn psycopg and pool exceptions raised in the block into ``StoreError``s.

    Messages name the constraint, never the values (they may be secrets).
    """
    try:
        yield
    except pg_errors.UniqueViolation as exc:
        raise DuplicateRow(constraint=exc.diag.constraint_name) from exc
    except pg_errors.ForeignKeyViolation as exc:
        raise MissingReference(constraint=exc.diag.constraint_name) from exc
    except (pg_errors.IntegrityError, pg_errors.DataError) as exc:
        raise InvalidRow(
            f"The row breaks a rule of the schema ({exc.diag.message_primary}).",
            constraint=exc.diag.constraint_name,
        ) from exc
    except (psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout) as exc:
        raise StoreUnavailable(
            f"The database cannot be reached ({type(exc).__name__}); check DATABASE_URL "
            "and that Postgres is running."
        ) from exc
    except psycopg.Error as exc:
        primary = exc.diag.message_primary if exc.diag else None
        raise StoreError(
            f"The database refused a statement ({type(exc).__name__}: {primary or 'no detail'})."
        ) from exc


def _adapt(params: Params | None) -> dict[str, object]:
    if not params:
        return {}
    return {k: Jsonb(v.value) if isinstance(v, Json) else v for k, v in params.items()}


class Transaction:
    """One database transaction; commits when its ``async with`` block ends normally.

    Only :meth:`Database.transaction` builds it.
    """

    def __init__(
        self, connection: psycopg.AsyncConnection[Any], queries: Mapping[str, LiteralString]
    ) -> None:
        self._connection = connection
        self._queries = queries

    @property
    def connection(self) -> psycopg.AsyncConnection[Any]:
        """The underlying connection, for procrastinate to defer a job in this transaction.

        Use :func:`sfbridge.jobs.defer`; never run SQL on it directly.
        """
        return self._connection

    def _query(self, name: str) -> LiteralString:
        try:
            return self._queries[name]
        except KeyError:
            raise UnknownQuery(f"No query named {name!r} exists in queries.sql.") from None

    async def execute(self, name: str, params: Params | None = None) -> int:
        """Run the named statement; return the number of rows it touched."""
        query = self._query(name)
        with translate_errors():
            cursor = await self._connection.execute(query, _adapt(params))
            return cursor.rowcount

    async def fetch_all(self, name: str, params: Params | None = None) -> list[Row]:
        """Run the named query; return every row as a dict."""
        query = self._query(name)
        with translate_errors():
            async with self._connection.cursor(row_factory=dict_row) as cursor:
                await cursor.execute(query, _adapt(params))
                return await cursor.fetchall()

    async def fetch_one(self, name: str, params: Params | None = None) -> Row | None:
        """Run the named query; return its first row, or ``None`` when there is none."""
        query = self._query(name)
        with translate_errors():
            async with self._connection.cursor(row_factory=dict_row) as cursor:
                await cursor.execute(query, _adapt(params))
                return await cursor.fetchone()

    async def fetch_required(self, name: str, params: Params | None = None) -> Row:
        """Like :meth:`fetch_one` for statements that always return a row (``INSERT ... RETURNING``)."""
        row = await self.fetch_one(name, params)
        if row is None:
            raise StoreError(f"The query {name!r} returned no row.")
        return row

    async def fetch_value(self, name: str, params: Params | None = None) -> Any:
        """Run the named query; return the first column of its first row (``None`` if no row)."""
        row = await self.fetch_one(name, params)
        return None if row is None else next(iter(row.values()))

    async def run_script(self, script: str) -> None:
        """Run a whole SQL script without parameters. Only migrations use this."""
        with translate_errors():
            await self._connection.execute(script)


class Database:
    """A pool of connections to one Postgres database. Build it with :meth:`connect`."""

    def __init__(
        self, pool: psycopg_pool.AsyncConnectionPool[Any], queries: Mapping[str, LiteralString]
    ) -> None:
        self._pool = pool
        self._queries = queries

    @classmethod
    async def connect(
        cls, url: str, *, min_size: int = 1, max_size: int = 10, connect_timeout: float = 10.0
    ) -> Database:
        """Open a pool to ``url`` and wait until the first connection works.

        Args:
            url: A ``postgresql://`` URL (external or the embedded server's).
            min_size: Connections kept open.
            max_size: Most connections opened at once.
            connect_timeout: Seconds to wait for the database before giving up.

        Raises:
            StoreUnavailable: The database did not answer within ``connect_timeout``.
        """
        pool: psycopg_pool.AsyncConnectionPool[Any] = psycopg_pool.AsyncConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=connect_timeout,
            open=False,
            kwargs={"options": "-c TimeZone=UTC"},
            check=psycopg_pool.AsyncConnectionPool.check_connection,
            name="sfbridge",
        )
        with translate_errors():
            try:
                await pool.open(wait=True, timeout=connect_timeout)
            except BaseException:
                await pool.close()
                raise
        return cls(pool, sql.queries())

    @property
    def pool(self) -> psycopg_pool.AsyncConnectionPool[Any]:
        """The pool, to share with procrastinate (``app.open_async(pool=db.pool)``)."""
        return self._pool

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """Yield a :class:`Transaction`; commit on normal exit, roll back on an exception."""
        with translate_errors():
            async with self._pool.connection() as connection, connection.transaction():
                yield Transaction(connection, self._queries)

    async def close(self) -> None:
        """Close every connection of the pool."""
        await self._pool.close()


# --- administration of whole databases (embedded server, test fixtures) --------------------

_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _identifier(name: str) -> pg_sql.Identifier:
    if not _DB_NAME.match(name):
        raise StoreError(f"A database name must be lowercase letters, digits and _, got {name!r}.")
    return pg_sql.Identifier(name)


async def _admin_execute(
    admin_url: str, statement: pg_sql.Composed, params: Params | None = None
) -> list[tuple[Any, ...]]:
    with translate_errors():
        async with await psycopg.AsyncConnection.connect(admin_url, autocommit=True) as conn:
            cursor = await conn.execute(statement, params)
            return await cursor.fetchall() if cursor.description else []


async def database_exists(admin_url: str, name: str) -> bool:
    """Return whether database ``name`` exists on the server of ``admin_url``."""
    rows = await _admin_execute(
        admin_url,
        pg_sql.SQL("SELECT 1 FROM pg_database WHERE datname = %(name)s").format(),
        {"name": name},
    )
    return bool(rows)


async def create_database(admin_url: str, name: str, *, template: str | None = None) -> None:
    """Create database ``name`` (optionally as a copy of ``template``)."""
    statement = pg_sql.SQL("CREATE DATABASE {}").format(_identifier(name))
    if template is not None:
        statement = pg_sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            _identifier(name), _identifier(template)
        )
    await _admin_execute(admin_url, statement)


async def drop_database(admin_url: str, name: str) -> None:
    """Drop database ``name`` if it exists, closing its connections."""
    await _admin_execute(
        admin_url,
        pg_sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(_identifier(name)),
    )


def with_database(url: str, name: str) -> str:
    """Return ``url`` pointing at database ``name`` (same server, user and options)."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo("", **info)


def database_name(url: str) -> str:
    """Return the database name of a connection URL or conninfo string."""
    return str(psycopg.conninfo.conninfo_to_dict(url).get("dbname", ""))
