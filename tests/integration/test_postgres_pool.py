"""PostgreSQL's pool and the plain-SQL read path (``persistence/engine.py``): fast, and still safe."""

from __future__ import annotations

import asyncio

import pytest
from slotwise.persistence.engine import Database, postgres_fetch, write_transaction

pytestmark = pytest.mark.postgres_only


async def test_a_connection_goes_back_to_the_pool_without_a_reset_round_trip(database: Database) -> None:
    sent: list[str] = []
    connection = await database.engine.pool.acquire()
    connection.add_query_logger(lambda record: sent.append(record.query))
    await connection.fetch("SELECT 1")
    await database.engine.pool.release(connection)
    await asyncio.sleep(0.05)  # loggers are called soon after, not during, a query
    # asyncpg's default release runs "SELECT pg_advisory_unlock_all(); CLOSE ALL; ..."
    assert sent == ["SELECT 1"]


async def test_a_connection_returned_inside_a_transaction_is_rolled_back(database: Database) -> None:
    pool = database.engine.pool
    connection, observer = await pool.acquire(), await pool.acquire()
    await connection.execute("BEGIN")
    backend = await connection.fetchval("SELECT pg_backend_pid()")
    await pool.release(connection)
    state = await observer.fetchval("SELECT state FROM pg_stat_activity WHERE pid = $1", backend)
    await pool.release(observer)
    assert state == "idle"


async def test_a_plain_statement_inside_a_transaction_runs_on_the_transactions_connection(
        database: Database) -> None:
    # A temporary table exists only on the connection that made it: a statement
    # sent through the pool instead would not find it.
    async with write_transaction(database.engine):
        await database.engine.run_ddl("CREATE TEMPORARY TABLE probe (x integer) ON COMMIT DROP")
        await database.engine.run_ddl("INSERT INTO probe VALUES (7)")
        rows = await postgres_fetch(database.engine, "SELECT x FROM probe")
    assert [row["x"] for row in rows] == [7]


async def test_a_plain_statement_outside_a_transaction_borrows_a_connection_and_returns_it(
        database: Database) -> None:
    pool = database.engine.pool
    idle_before = pool.get_idle_size() + (pool.get_max_size() - pool.get_size())
    rows = await postgres_fetch(database.engine, "SELECT $1::integer + 1 AS n", 41)
    assert rows[0]["n"] == 42
    assert pool.get_idle_size() + (pool.get_max_size() - pool.get_size()) == idle_before
