"""Throwaway PostgreSQL databases for tests and benchmarks (``CREATE DATABASE`` / ``DROP DATABASE``)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432"


async def _postgres_admin(server: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(f"{server}/postgres", timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def create_database(server: str = POSTGRES_SERVER, prefix: str = "slotwise_test") -> str:
    """A new empty database ``{prefix}_<random>`` on ``server``; returns its URL."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    await _postgres_admin(server, f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


async def drop_database(url: str) -> None:
    server, name = url.rsplit("/", 1)
    await _postgres_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_postgres_database(server: str = POSTGRES_SERVER, prefix: str = "slotwise_test") -> str:
    """``create_database`` for callers outside an event loop."""
    return asyncio.run(create_database(server, prefix))


def drop_postgres_database(url: str) -> None:
    """``drop_database`` for callers outside an event loop."""
    asyncio.run(drop_database(url))


@contextmanager
def change_notices(url: str, table: str) -> Iterator[Callable[[], None]]:
    """A function that announces a change of ``table`` as another process would (benchmarks).

    It sends the change feed's notice (persistence/change_feed.py) from a
    connection of its own, then waits a millisecond so the notice reaches the
    server before whatever is timed next: busily, because after a sleep the
    timed requests would meet a colder machine.
    """
    import asyncpg

    loop = asyncio.new_event_loop()
    connection = loop.run_until_complete(asyncpg.connect(url))

    def announce() -> None:
        loop.run_until_complete(connection.execute(f"NOTIFY slotwise_changed, '{table}'"))
        waited = time.perf_counter()
        while time.perf_counter() - waited < 0.001:
            pass

    try:
        yield announce
    finally:
        loop.run_until_complete(connection.close())
        loop.close()
