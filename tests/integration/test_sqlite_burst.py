"""The workers' short SQLite writes run as bursts on the event loop (``persistence.engine.sqlite_burst``).

Another process is played by a plain ``sqlite3`` connection of its own: SQLite's
lock is all the two share.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest
from slotwise.persistence.engine import Database, SQLiteBusy, sqlite_burst
from slotwise.persistence.tables import Site

pytestmark = pytest.mark.sqlite_only


def other_process(database: Database) -> sqlite3.Connection:
    return sqlite3.connect(database.engine.path, isolation_level=None, check_same_thread=False)


async def test_a_burst_commits_what_it_wrote_and_rolls_back_on_an_error(database: Database) -> None:
    async with sqlite_burst(database.engine) as connection:
        connection.execute("INSERT INTO site (slug, name, timezone) VALUES ('burst-kept', 'Kept', 'UTC')")
    with pytest.raises(RuntimeError):
        async with sqlite_burst(database.engine) as connection:
            connection.execute("INSERT INTO site (slug, name, timezone) VALUES ('burst-gone', 'Gone', 'UTC')")
            raise RuntimeError("the work failed")
    slugs = {row["slug"] for row in await Site.select(Site.slug)}
    assert "burst-kept" in slugs and "burst-gone" not in slugs
    # The connection is usable again: no transaction left open.
    async with sqlite_burst(database.engine) as connection:
        assert connection.in_transaction


async def test_while_another_process_writes_a_burst_does_not_wait_on_the_event_loop(database: Database) -> None:
    other = other_process(database)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(SQLiteBusy):
            async with sqlite_burst(database.engine):
                pass
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_a_claim_waits_for_another_process_off_the_event_loop(database: Database) -> None:
    """A busy lock sends the claim down the usual path, which waits in aiosqlite's thread for it."""
    from datetime import UTC, datetime, timedelta

    from slotwise.persistence import webhooks as store

    other = other_process(database)
    # One delivery due, so the claim asks for the lock.
    other.execute("INSERT INTO site (slug, name, timezone) VALUES ('burst-hooks', 'Hooks', 'UTC')")
    other.execute("INSERT INTO webhook_endpoint (public_id, site, url, events, secret_sealed) SELECT 'whe_burst', id,"
                  " 'https://hooks.example/', '[\"booking.created\"]', 'x' FROM site WHERE slug = 'burst-hooks'")
    other.execute("INSERT INTO webhook_delivery (public_id, endpoint, message_id, event_type, payload, status,"
                  " next_attempt_at, created_at) SELECT 'whd_burst', id, 'msg_burst', 'booking.created', '{}',"
                  " 'queued', '2000-01-01 00:00:00+00:00', '2000-01-01 00:00:00+00:00' FROM webhook_endpoint"
                  " WHERE public_id = 'whe_burst'")
    other.execute("BEGIN IMMEDIATE")
    threading.Timer(0.3, lambda: other.execute("ROLLBACK")).start()
    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(ticking())
    try:
        claimed = await store.claim_due(now=datetime.now(UTC), lease=timedelta(minutes=3), limit=10, per_endpoint=10)
    finally:
        ticker.cancel()
        other.close()
    assert [row["public_id"] for row in claimed] == ["whd_burst"]
    assert ticks >= 10  # the loop went on while the claim waited
