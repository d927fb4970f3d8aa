"""The schema the migrations build is the schema ``tables.py`` declares, on this run's engine.

One database is this run's, built by ``migrate``; the other is a fresh one
built from the table classes (``create_table()``) plus the indexes that
``tables.py`` cannot declare, which migrations add as raw SQL
(``RAW_INDEX_MIGRATIONS``). Both are read back from the database's catalogue
and compared table by table: columns (type, nullability, default, primary
key), indexes and unique constraints, foreign keys. A column added to
``tables.py`` without a migration fails here.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from piccolo.engine.base import Engine
from piccolo.querystring import QueryString
from slotwise.persistence.engine import Database, create_engine
from slotwise.persistence.migrate import LEDGER, table_names
from slotwise.persistence.migrations import (
    m0002_indexes,
    m0003_actors_and_idempotency,
    m0005_accounts,
    m0013_booking_list_index,
    m0015_calendars,
)
from slotwise.persistence.tables import TABLES
from slotwise.settings import Settings

from tests.support.postgres import create_database, drop_database

# Migrations whose STATEMENTS add indexes tables.py has no way to declare.
RAW_INDEX_MIGRATIONS = [m0002_indexes, m0003_actors_and_idempotency, m0005_accounts, m0013_booking_list_index,
                        m0015_calendars]
_INDEXED_TABLE = re.compile(r"\bON\s+\"?(\w+)\"?\s*\(")


async def rows(db: Engine, sql: str, *values: object) -> list[dict]:
    return [dict(row) for row in await db.run_querystring(QueryString(sql, *values))]


async def describe_sqlite(db: Engine, table: str) -> dict:
    columns = {
        row["name"]: (row["type"], bool(row["notnull"]), row["dflt_value"], row["pk"])
        for row in await rows(db, f'PRAGMA table_info("{table}")')
    }
    indexes = set()
    for index in await rows(db, f'PRAGMA index_list("{table}")'):
        names = tuple(row["name"] for row in await rows(db, f'PRAGMA index_info("{index["name"]}")'))
        # SQLite numbers the indexes behind UNIQUE columns itself (sqlite_autoindex_site_1).
        name = "(automatic)" if index["name"].startswith("sqlite_autoindex_") else index["name"]
        indexes.add((name, bool(index["unique"]), names))
    foreign_keys = {
        (row["from"], row["table"], row["to"], row["on_update"], row["on_delete"])
        for row in await rows(db, f'PRAGMA foreign_key_list("{table}")')
    }
    return {"columns": columns, "indexes": indexes, "foreign_keys": foreign_keys}


async def describe_postgres(db: Engine, table: str) -> dict:
    columns = {
        row["column_name"]: (row["data_type"], row["character_maximum_length"], row["is_nullable"],
                             row["column_default"])
        for row in await rows(db, "SELECT column_name, data_type, character_maximum_length, is_nullable, "
                                  "column_default FROM information_schema.columns "
                                  "WHERE table_schema = current_schema() AND table_name = {}", table)
    }
    # indexdef names the index, its uniqueness, method and columns.
    indexes = {row["indexdef"] for row in await rows(
        db, "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = {}", table)}
    # Primary key, unique and foreign-key constraints, with ON DELETE / ON UPDATE.
    constraints = {(row["conname"], row["definition"]) for row in await rows(
        db, "SELECT c.conname, pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
            "WHERE n.nspname = current_schema() AND t.relname = {}", table)}
    return {"columns": columns, "indexes": indexes, "constraints": constraints}


async def describe(db: Engine) -> dict[str, dict]:
    """Every table of ``db`` but the migration ledger, as read from the catalogue."""
    describe_table = describe_postgres if db.engine_type == "postgres" else describe_sqlite
    return {table: await describe_table(db, table) for table in sorted(await table_names(db) - {LEDGER})}


@asynccontextmanager
async def empty_database(settings: Settings, tmp_path: Path) -> AsyncIterator[Engine]:
    """A second, empty database on this run's engine; dropped afterwards."""
    if not settings.is_postgres:
        yield create_engine(replace(settings, database_url=f"sqlite:///{tmp_path / 'declared.sqlite'}"))
        return
    server = settings.database_url.rsplit("/", 1)[0]
    url = await create_database(server, prefix="slotwise_schema")
    try:
        yield create_engine(replace(settings, database_url=url))
    finally:
        await drop_database(url)


async def build_from_tables(db: Engine) -> None:
    # create_table() writes DDL for the engine the tables are bound to: this run's kind.
    for table in TABLES:
        for statement in table.create_table().ddl:
            await db.run_ddl(statement)
    declared = {table._meta.tablename for table in TABLES}
    for migration in RAW_INDEX_MIGRATIONS:
        for statement in migration.STATEMENTS:
            # A later migration may have dropped the table an index was made for.
            if _INDEXED_TABLE.search(statement).group(1) in declared:
                await db.run_ddl(statement)


async def test_the_migrations_build_exactly_the_tables_tables_py_declares(
    schema, database: Database, settings: Settings, tmp_path
):
    migrated = await describe(database.engine)
    async with empty_database(settings, tmp_path) as other:
        await build_from_tables(other)
        declared = await describe(other)

    assert sorted(migrated) == sorted(declared) == sorted(t._meta.tablename for t in TABLES)
    for table in declared:
        for part in declared[table]:
            assert migrated[table][part] == declared[table][part], f"{table}: {part} differ"


async def test_changes_recorded_before_actors_existed_are_the_customers(settings: Settings, tmp_path):
    from slotwise.persistence.migrations import m0001_tables

    async with empty_database(settings, tmp_path) as db:
        await m0001_tables.forwards(db)
        await m0002_indexes.forwards(db)
        await db.run_ddl("""INSERT INTO "booking_event" ("kind", "data") VALUES ('booked', '{}')""")

        await m0003_actors_and_idempotency.forwards(db)
        await db.run_ddl("""INSERT INTO "booking_event" ("kind", "data") VALUES ('cancelled', '{}')""")

        found = await rows(db, 'SELECT "kind", "actor_kind" FROM "booking_event" ORDER BY "id"')
    assert [(row["kind"], row["actor_kind"]) for row in found] == [("booked", "customer"), ("cancelled", "system")]
