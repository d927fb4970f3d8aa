"""Database engines for the two supported back ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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
    """
    if isinstance(db, SQLiteEngine):
        async with _sqlite_writers, db.transaction(transaction_type=TransactionType.immediate):
            yield
    else:
        async with db.transaction():
            yield


def read_transaction(db: Engine):
    """Several reads on one connection, seeing one state of the database.

    Piccolo otherwise opens a connection per query on SQLite (and takes one
    from the pool per query on PostgreSQL); one answer's reads share one.
    """
    return db.transaction()


def current_engine() -> Engine:
    """The engine the tables are bound to (chosen by ``PICCOLO_CONF``)."""
    from slotwise.persistence.tables import Site

    return Site._meta.db


def is_unique_violation(exc: BaseException) -> bool:
    """True when a write failed on a unique index, on either engine."""
    import sqlite3

    import asyncpg

    return isinstance(exc, asyncpg.UniqueViolationError) or (
        isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)
    )
