"""Throwaway PostgreSQL databases for tests and benchmarks (``CREATE DATABASE`` / ``DROP DATABASE``)."""

from __future__ import annotations

import asyncio
import secrets

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
