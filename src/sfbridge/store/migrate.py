"""Apply sfbridge's numbered SQL migrations and procrastinate's schema, once, in order.

Everything runs in ONE transaction holding a Postgres advisory lock, so several
processes starting at once apply each migration exactly once (the others wait, then find
nothing to do). Applied versions are recorded in ``sfbridge_migrations``. ``sfbridge
migrate`` and ``serve`` call :func:`migrate`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from procrastinate import schema as procrastinate_schema

from sfbridge.errors import MigrationError
from sfbridge.store.db import Database

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, kw_only=True, slots=True)
class Migration:
    """One numbered SQL file of ``sfbridge/store/migrations``."""

    version: int
    name: str
    sql: str


@dataclass(frozen=True, kw_only=True, slots=True)
class MigrationReport:
    """What :func:`migrate` did."""

    applied: tuple[str, ...]  #: names of the migrations applied now, in order
    procrastinate_schema_applied: bool  #: True when the job queue's tables were created now


def available_migrations() -> list[Migration]:
    """Return the migrations shipped with sfbridge, ordered by version.

    Raises:
        MigrationError: Two files share a version, or a file name is malformed.
    """
    found: dict[int, Migration] = {}
    folder = resources.files("sfbridge.store") / "migrations"
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE.match(entry.name)
        if not match:
            raise MigrationError(
                f"Migration file {entry.name!r} must be named NNNN_lowercase_name.sql."
            )
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"Two migration files use version {version:04d}; renumber one.")
        found[version] = Migration(
            version=version, name=entry.name.removesuffix(".sql"), sql=entry.read_text("utf-8")
        )
    return [found[v] for v in sorted(found)]


async def migrate(db: Database) -> MigrationReport:
    """Bring the database schema up to date.

    Raises:
        MigrationError: The database knows a migration this code does not ship (it was
            migrated by a newer sfbridge), or a migration failed (nothing is applied then).
    """
    migrations = available_migrations()
    applied_now: list[str] = []
    async with db.transaction() as tx:
        await tx.execute("migrations_lock")
        await tx.execute("migrations_create_table")
        done = {int(r["version"]) for r in await tx.fetch_all("migrations_applied")}
        unknown = done - {m.version for m in migrations}
        if unknown:
            raise MigrationError(
                f"The database has migration {max(unknown):04d}, which this sfbridge does not "
                "know; run the newer sfbridge version or restore a matching backup."
            )
        created_queue = not await tx.fetch_value("procrastinate_schema_present")
        if created_queue:
            await tx.run_script(procrastinate_schema.SchemaManager.get_schema())
        for migration in migrations:
            if migration.version in done:
                continue
            try:
                await tx.run_script(migration.sql)
            except Exception as exc:
                raise MigrationError(f"Migration {migration.name} failed: {exc}") from exc
            await tx.execute(
                "migrations_record", {"version": migration.version, "name": migration.name}
            )
            applied_now.append(migration.name)
    return MigrationReport(applied=tuple(applied_now), procrastinate_schema_applied=created_queue)
