"""Forward-only schema migrations, run by our own small runner.

A migration is a module in ``slotwise/persistence/migrations/`` named
``m<4 digits>_<what>.py`` (``m0001_tables.py``, ``m0002_indexes.py``, ...) that
defines ``async def forwards(db: Engine) -> None``. ``migrate(db)`` runs, in
name order, every migration not yet listed in the ``slotwise_migration`` table,
each in its own transaction together with the row that records it, so a
migration either happens completely or not at all. Running it again does
nothing. Migrations never go backwards.

Several processes may start at once against one database (two ``slotwise
serve`` next to each other); each migration is applied under a lock taken
inside its transaction — a PostgreSQL advisory lock, SQLite's write lock
(``BEGIN IMMEDIATE``) — and the ledger is re-read under it, so the second
process waits and then finds the work done.

Adding a schema change: copy the last migration to the next number, write the
DDL as literal SQL for each engine (``db.engine_type`` is ``"postgres"`` or
``"sqlite"``) and change ``tables.py`` to match. Never edit a migration that
has been committed, not even to follow ``tables.py``: databases that ran it
keep what it did. ``tests/integration/test_schema.py`` fails when the tables
and the migrations disagree.

We don't use Piccolo's migration runner: it finds its engine only through the
``PICCOLO_CONF`` environment variable or a top-level ``piccolo_conf`` module,
whereas our engine is built from ``Settings`` and handed over explicitly.
A database made by the old Piccolo migrations (a ``migration`` table and no
``slotwise_migration``) is refused: nothing outside development ever ran them.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString

from slotwise.persistence import migrations as migrations_package

LEDGER = "slotwise_migration"
# Any fixed 64-bit number, the same in every process: the key of the
# PostgreSQL advisory lock that migrating processes queue on.
ADVISORY_LOCK_KEY = 0x51_07_71_5E
_NAME = re.compile(r"^m\d{4}_[a-z0-9_]+$")


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    forwards: Callable[[Engine], Awaitable[None]]


def all_migrations() -> list[Migration]:
    """Every migration module, in the order they run (by name)."""
    found = []
    for module in pkgutil.iter_modules(migrations_package.__path__):
        if not _NAME.match(module.name):
            continue
        loaded = importlib.import_module(f"{migrations_package.__name__}.{module.name}")
        found.append(Migration(module.name, loaded.forwards))
    return sorted(found, key=lambda migration: migration.name)


async def migrate(db: Engine, *, report: Callable[[str], None] | None = None) -> list[str]:
    """Apply the pending migrations to ``db``; returns the names applied (none when up to date)."""
    await _refuse_piccolo_database(db)
    async with _locked(db):
        await db.run_ddl(
            f"CREATE TABLE IF NOT EXISTS {LEDGER} "
            "(name VARCHAR(255) PRIMARY KEY NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
        )
    applied = []
    for migration in all_migrations():
        async with _locked(db):
            if await _is_applied(db, migration.name):
                continue
            await migration.forwards(db)
            await db.run_querystring(
                QueryString(f"INSERT INTO {LEDGER} (name, applied_at) VALUES ({{}}, CURRENT_TIMESTAMP)",
                            migration.name)
            )
        applied.append(migration.name)
        if report:
            report(f"applied {migration.name}")
    if report and not applied:
        report("the schema is up to date")
    return applied


@asynccontextmanager
async def _locked(db: Engine) -> AsyncIterator[None]:
    """A transaction that no other migrating process runs alongside."""
    if isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.immediate):
            yield
    elif isinstance(db, PostgresEngine):
        async with db.transaction():
            # Released at commit or rollback.
            await db.run_ddl(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})")
            yield
    else:
        raise MigrationError(f"unsupported engine {type(db).__name__}")


async def _is_applied(db: Engine, name: str) -> bool:
    rows = await db.run_querystring(QueryString(f"SELECT name FROM {LEDGER} WHERE name = {{}}", name))
    return bool(rows)


async def table_names(db: Engine) -> set[str]:
    """The tables in ``db`` (PostgreSQL: in the current schema)."""
    if isinstance(db, SQLiteEngine):
        rows = await db.run_querystring(QueryString(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))
        return {row["name"] for row in rows}
    rows = await db.run_querystring(QueryString(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"))
    return {row["table_name"] for row in rows}


async def _refuse_piccolo_database(db: Engine) -> None:
    tables = await table_names(db)
    if "migration" in tables and LEDGER not in tables:
        raise MigrationError(
            "this database was built by Piccolo's migrations, which Slotwise no longer uses "
            f"(it has Piccolo's 'migration' table and no '{LEDGER}'). Only development databases "
            "were ever built that way: delete it (remove the SQLite file, or DROP DATABASE and "
            "create it again) and run `slotwise migrate`."
        )
