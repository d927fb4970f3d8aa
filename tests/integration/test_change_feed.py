"""In-process caches that PostgreSQL invalidates (``persistence/change_feed.py``).

Another process is played by a connection of its own that never calls into
the cache: only PostgreSQL's notices can tell this process what it wrote.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime

import asyncpg
import pytest
from slotwise.domain.access import Scope
from slotwise.domain.actors import Actor
from slotwise.persistence import change_feed
from slotwise.persistence.change_feed import TableCache
from slotwise.persistence.engine import Database, write_transaction
from slotwise.services import keys
from slotwise.services.sites import apply_site

from tests.support.sitefiles import parse_test_site

pytestmark = pytest.mark.postgres_only

TUESDAY = "2026-11-24"


class Counted:
    """A loader that counts how often the cache asked the database."""

    def __init__(self) -> None:
        self.loads = 0

    async def __call__(self) -> int:
        self.loads += 1
        return self.loads


@pytest.fixture
async def other_process(database: Database):
    connection = await asyncpg.connect(**database.engine.config)
    yield connection
    await connection.close()


async def eventually(condition, seconds: float = 2.0) -> bool:
    for _ in range(int(seconds / 0.01)):
        if await condition():
            return True
        await asyncio.sleep(0.01)
    return False


async def test_a_read_is_kept_until_another_process_changes_its_table(database, other_process) -> None:
    assert await change_feed.start(database.engine)
    cache: TableCache[str, int] = TableCache("time_off")
    load = Counted()
    assert await cache.get("k", load) == 1
    assert await cache.get("k", load) == 1  # kept: no second read

    await other_process.execute("DELETE FROM api_key WHERE false")  # another table: still kept
    await asyncio.sleep(0.1)
    assert await cache.get("k", load) == 1

    # A statement trigger fires even when no row matches: a notice on commit.
    await other_process.execute("DELETE FROM time_off WHERE false")

    async def reloaded() -> bool:
        return await cache.get("k", load) > 1
    assert await eventually(reloaded)


async def test_availability_sees_time_off_written_by_another_process(client, database, clock, other_process):
    await apply_site(parse_test_site(), actor=Actor.system("tests"), now=clock())
    assert await change_feed.start(database.engine)

    async def slots() -> list:
        response = await client.get("/api/v1/sites/test-physio/availability",
                                    params={"service": "quick", "start": TUESDAY, "end": TUESDAY})
        assert response.status_code == 200, response.text
        return response.json()["slots"]

    assert await slots()
    assert await slots()  # served from the cache now
    site_id, = await other_process.fetchrow("SELECT id FROM site WHERE slug = 'test-physio'")
    for resource_id, in await other_process.fetch("SELECT id FROM resource WHERE site = $1", site_id):
        await other_process.execute(
            "INSERT INTO time_off (public_id, site, resource, start_at, end_at, reason, actor_kind, created_at)"
            " VALUES ($1, $2, $3, $4, $5, 'leave', 'system', $4)",
            os.urandom(8).hex(), site_id, resource_id,
            datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 26, tzinfo=UTC),
        )

    async def day_blocked() -> bool:
        return await slots() == []
    assert await eventually(day_blocked)


async def test_a_value_read_while_a_change_arrives_is_not_kept(database) -> None:
    assert await change_feed.start(database.engine)
    cache: TableCache[str, int] = TableCache("allocation")
    load = Counted()

    async def load_while_changed() -> int:
        value = await load()
        cache.clear()  # what a notice arriving during the read does
        return value

    assert await cache.get("k", load_while_changed) == 1
    assert await cache.get("k", load) == 2


async def test_inside_a_transaction_and_after_a_local_write_the_database_is_read(database) -> None:
    assert await change_feed.start(database.engine)
    cache: TableCache[str, int] = TableCache("allocation")
    load = Counted()
    await cache.get("k", load)
    async with write_transaction(database.engine):
        assert await cache.get("k", load) == 2  # live under the transaction's locks
        assert await cache.get("k", load) == 3
    assert await cache.get("k", load) == 4  # the write ended: nothing kept from before it


async def test_without_the_feed_nothing_is_kept(database, other_process) -> None:
    assert await change_feed.start(database.engine)
    cache: TableCache[str, int] = TableCache("allocation")
    load = Counted()
    await cache.get("k", load)
    listener = change_feed._feed.connection.get_server_pid()
    await other_process.execute("SELECT pg_terminate_backend($1)", listener)

    async def lost() -> bool:
        return change_feed._feed.connection is None
    assert await eventually(lost)
    assert await cache.get("k", load) == 2  # no feed: read, not kept
    assert await change_feed.start(database.engine)  # listens again
    # Notices sent while nobody listened are gone: nothing from before is served.
    assert await cache.get("k", load) == 3
    assert await cache.get("k", load) == 3


async def test_a_key_revoked_by_another_process_stops_working(client, database, clock, other_process):
    await apply_site(parse_test_site(), actor=Actor.system("tests"), now=clock())
    assert await change_feed.start(database.engine)
    created = await keys.create_key("test-physio", name="Poller", scopes=[Scope.BOOKINGS_READ],
                                    expires_at=None, actor=Actor.system("tests"), now=clock())
    headers = {"Authorization": f"Bearer {created.secret}"}
    listing = "/api/v1/admin/sites/test-physio/bookings"
    assert (await client.get(listing, headers=headers)).status_code == 200
    assert (await client.get(listing, headers=headers)).status_code == 200  # the key kept in memory

    await other_process.execute("UPDATE api_key SET revoked_at = now() WHERE public_id = $1", created.key.public_id)

    async def refused() -> bool:
        return (await client.get(listing, headers=headers)).status_code == 401
    assert await eventually(refused)


async def test_the_bookings_list_shows_a_change_made_by_another_process(client, database, clock, other_process):
    await apply_site(parse_test_site(), actor=Actor.system("tests"), now=clock())
    assert await change_feed.start(database.engine)
    booked = await client.post("/api/v1/sites/test-physio/bookings", json={
        "service": "quick", "start": "2026-11-24T09:00:00+01:00",
        "customer": {"name": "Test Customer", "email": "test@example.com"}})
    assert booked.status_code == 201, booked.text
    created = await keys.create_key("test-physio", name="Poller", scopes=[Scope.BOOKINGS_READ],
                                    expires_at=None, actor=Actor.system("tests"), now=clock())
    headers = {"Authorization": f"Bearer {created.secret}"}
    listing = "/api/v1/admin/sites/test-physio/bookings?from=2026-11-24&to=2026-11-24"

    async def names() -> list[str]:
        response = await client.get(listing, headers=headers)
        assert response.status_code == 200, response.text
        return [booking["customer"]["name"] for booking in response.json()["data"]]

    assert await names() == ["Test Customer"]
    assert await names() == ["Test Customer"]  # the page kept in memory
    await other_process.execute("UPDATE booking SET customer_name = 'Renamed Elsewhere'")

    async def renamed() -> bool:
        return await names() == ["Renamed Elsewhere"]
    assert await eventually(renamed)

    # The names of resources come from the site's catalog, kept as well.
    response = await client.get(listing, headers=headers)
    resource = response.json()["data"][0]["resources"][0]["key"]
    await other_process.execute("UPDATE resource SET name = 'Renamed Resource' WHERE key = $1", resource)

    async def resource_renamed() -> bool:
        response = await client.get(listing, headers=headers)
        return response.json()["data"][0]["resources"][0]["name"] == "Renamed Resource"
    assert await eventually(resource_renamed)
