"""Database engines for the two supported back ends, and the one place the tables learn theirs.

The engine is built from ``Settings`` (``create_engine``) and handed to the
tables by ``bind``, which only ``Database.open`` calls: the app factory opens
its ``Database`` on startup and closes it on shutdown, every command opens one
around its work, and the tests open one for their database. Nothing reads an
environment variable or a Piccolo conf module to find the engine.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from slotwise.settings import Settings

# Seconds a writer waits for SQLite's single write lock. Bookings hold it for a
# few milliseconds; 30 s means "wait behind a burst", never "fail at once".
SQLITE_LOCK_TIMEOUT = 30


def create_engine(settings: Settings) -> Engine:
    if settings.is_postgres:
        return PostgresEngine(config={"dsn": settings.database_url}, log_queries=False)
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteEngine(path=str(path), timeout=SQLITE_LOCK_TIMEOUT)


_bound: Engine | None = None


def bind(engine: Engine) -> None:
    """Point every table at ``engine``: from here on queries on the tables run there.

    The tables are module-level classes, so there is one bound engine per
    process. Only ``Database.open`` calls this.
    """
    global _bound
    from slotwise.persistence.tables import TABLES

    for table in TABLES:
        table._meta.db = engine
    _bound = engine


def current_engine() -> Engine:
    """The engine the tables are bound to (by the last ``Database.open``)."""
    if _bound is None:
        raise RuntimeError("no database is open: open a slotwise.persistence.engine.Database first")
    return _bound


async def keep_session(connection: object) -> None:
    """How a PostgreSQL connection goes back to the pool: as it is, without a round trip.

    asyncpg's default sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL`` on every release: a second round trip for each
    statement run outside a transaction, which under load cost as much as the
    statement itself (docs/decisions.md, Performance). Slotwise leaves no
    session state to undo: no session ``SET``, no ``LISTEN`` (change_feed
    listens on a connection of its own, outside the pool), only
    transaction-scoped advisory locks, cursors only inside transactions. What
    must never leak, an open transaction, asyncpg still rolls back before it
    calls this, and it still drops listeners.
    """


class Database:
    """The database of one process: its engine, and the one place its connections open and close.

    ``open`` binds the tables to the engine, starts PostgreSQL's connection
    pool (without one every query would open a connection) and turns on
    SQLite's write-ahead log; ``close`` stops the pool. Use it as
    ``async with Database(settings) as db:`` or call ``open``/``close`` from
    an app's startup and shutdown. A pool belongs to the event loop that
    started it, so open and close in the same loop.
    """

    def __init__(self, settings: Settings) -> None:
        self.engine = create_engine(settings)

    async def open(self) -> Database:
        bind(self.engine)
        if isinstance(self.engine, PostgresEngine):
            await self.engine.start_connection_pool(reset=keep_session)
            from slotwise.persistence import change_feed

            await change_feed.start(self.engine)
        elif isinstance(self.engine, SQLiteEngine):
            # Write-ahead logging lets the availability reads go on while a
            # booking holds the write lock; the file keeps the setting.
            await self.engine.run_ddl("PRAGMA journal_mode=WAL")
        return self

    async def close(self) -> None:
        if isinstance(self.engine, PostgresEngine):
            from slotwise.persistence import change_feed

            await change_feed.stop()
            await self.engine.close_connection_pool()

    async def __aenter__(self) -> Database:
        return await self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


# SQLite writers of one process queue here before asking SQLite for its lock.
# SQLite makes a writer that finds the lock taken sleep and retry with growing
# pauses (up to 100 ms each), so 25 concurrent writers in one process waste most
# of their time asleep; queueing in the event loop hands the lock on at once.
# Writers in other processes still meet at SQLite's own lock.
_sqlite_writers = asyncio.Lock()


@asynccontextmanager
async def write_transaction(db: Engine) -> AsyncIterator[None]:
    """A transaction that takes the write lock up front.

    SQLite's default ``BEGIN DEFERRED`` upgrades to a write lock at the first
    write, and a read-then-write racing another writer then fails at once with
    "database is locked"; ``BEGIN IMMEDIATE`` queues for the lock instead.
    PostgreSQL locks rows as it goes, so a plain transaction is right there.
    When it ends, this process's caches of database reads forget what they
    kept (``change_feed``): other processes hear of the change from PostgreSQL.
    """
    from slotwise.persistence.change_feed import note_local_write

    try:
        if isinstance(db, SQLiteEngine):
            async with _sqlite_writers, db.transaction(transaction_type=TransactionType.immediate):
                yield
        else:
            async with db.transaction():
                yield
    finally:
        note_local_write()


class SQLiteBusy(Exception):
    """Another process holds SQLite's write lock: :func:`sqlite_burst` did not start."""


# How long a burst waits for SQLite's lock held by another process, blocking the
# event loop meanwhile; past it the caller takes the usual write_transaction.
BURST_LOCK_WAIT_SECONDS = 0.005


@lru_cache(maxsize=4)
def _burst_connection(path: str) -> sqlite3.Connection:
    """A kept connection for bursts, used on the event loop's thread only (under ``_sqlite_writers``)."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                 timeout=BURST_LOCK_WAIT_SECONDS,
                                 detect_types=sqlite3.PARSE_DECLTYPES)  # rows as Piccolo's connections read them
    return connection


@asynccontextmanager
async def sqlite_burst(db: SQLiteEngine) -> AsyncIterator[sqlite3.Connection]:
    """A short SQLite write transaction run straight through on the event loop, not on aiosqlite's thread.

    For the background workers' bookkeeping (claiming, recording successes),
    a few fixed statements: through aiosqlite each statement, the BEGIN and
    the COMMIT are a trip to its thread and back, and a busy event loop (the
    bookings) stretches every trip, so the write lock, which is the bookings'
    lock too, was held for milliseconds for microseconds of work
    (docs/decisions.md, "Webhooks off the booking path"). Here it is held for
    the statements themselves. It queues in ``_sqlite_writers`` like every
    writer of this process; when another process holds SQLite's lock it
    raises :class:`SQLiteBusy` at once instead of blocking the event loop:
    use :func:`write_transaction` then. Only plain ``sqlite3`` calls on the
    yielded connection belong inside (a Piccolo query would wait for the
    lock this holds).
    """
    from slotwise.persistence.change_feed import note_local_write

    async with _sqlite_writers:
        connection = _burst_connection(db.path)
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise SQLiteBusy(str(error)) from error
        try:
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            note_local_write()


def read_transaction(db: Engine):
    """Several reads on one connection, seeing one state of the database.

    Piccolo otherwise opens a connection per query on SQLite (and takes one
    from the pool per query on PostgreSQL); one answer's reads share one.
    """
    return db.transaction()


async def postgres_fetch(engine: PostgresEngine, sql: str, *args: object) -> list:
    """One parameterised statement on PostgreSQL, without building a Piccolo query; asyncpg records.

    Runs on the connection of the current transaction when there is one (so
    it sees, and is part of, what the transaction did), else on a connection
    borrowed from the pool for just this statement. asyncpg prepares each
    distinct SQL text once per connection and reuses it, so keep the text
    fixed: pass lists as one array parameter (``= ANY($1::integer[])``), not
    as a varying number of placeholders. For the hot reads only (see
    docs/decisions.md, Performance): everything else goes through Piccolo.
    """
    transaction = engine.current_transaction.get()
    if transaction is not None:
        return await transaction.connection.fetch(sql, *args)
    if engine.pool is None:
        connection = await engine.get_new_connection()
        try:
            return await connection.fetch(sql, *args)
        finally:
            await connection.close()
    async with engine.pool.acquire() as connection:
        return await connection.fetch(sql, *args)


def is_unique_violation(exc: BaseException) -> bool:
    """True when a write failed on a unique index, on either engine."""
    import sqlite3

    import asyncpg

    return isinstance(exc, asyncpg.UniqueViolationError) or (
        isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)
    )
