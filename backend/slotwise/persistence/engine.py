"""Database engines for the two supported back ends."""

from __future__ import annotations

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


def write_transaction(db: Engine):
    """A transaction that takes the write lock up front.

    SQLite's default ``BEGIN DEFERRED`` upgrades to a write lock at the first
    write, and a read-then-write racing another writer then fails at once with
    "database is locked"; ``BEGIN IMMEDIATE`` queues for the lock instead.
    PostgreSQL locks rows as it goes, so a plain transaction is right there.
    """
    if isinstance(db, SQLiteEngine):
        return db.transaction(transaction_type=TransactionType.immediate)
    return db.transaction()


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
