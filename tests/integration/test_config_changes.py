"""A configuration change binds every process at once: no server accepts what the new configuration refuses.

Each server process keeps a copy of a site's configuration for a moment; the
changes here are made by the tests' own process, a third one, and each
booking follows within milliseconds, well inside that moment.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import (
    Allocation,
    Booking,
    BookingEvent,
    Hold,
    IdempotencyKey,
    OutboxMessage,
    Site,
)
from slotwise.services.sites import apply_site
from slotwise.sitefile import parse_site

from tests.support.servers import ServerProcess, tomorrow_at

APPLIER = Actor.system("tests")
SQUASH_CLUB = (Path(__file__).resolve().parents[2] / "examples" / "squash-24-7.toml").read_text()
SITE = "/api/v1/sites/night-owl-squash"


@pytest.fixture(scope="module")
async def servers(schema, server_environment):
    first, second = ServerProcess(server_environment), ServerProcess(server_environment)
    with first, second:
        yield [first.url, second.url]


@pytest.fixture(autouse=True)
async def empty_database(schema):
    """Clear bookings only: the site stays, with the ids the servers have cached (as in production)."""
    for table in (IdempotencyKey, OutboxMessage, BookingEvent, Allocation, Hold, Booking):
        await table.delete(force=True)


async def apply(text: str) -> None:
    await apply_site(parse_site(text, source="squash-24-7.toml"), actor=APPLIER, now=datetime.now(UTC))


@pytest.fixture(autouse=True)
async def club(empty_database):
    await apply(SQUASH_CLUB)


async def warm(http: httpx.AsyncClient, servers: list[str], start: str) -> None:
    """Each server reads (and keeps) a configuration in which ``start`` is free.

    Showing free times may use a copy up to OFFER_CACHE_SECONDS old (the
    previous test's change may still show for a moment); booking never does.
    """
    day = start[:10]
    for url in servers:
        for _ in range(50):
            shown = await http.get(f"{url}{SITE}/availability",
                                   params={"service": "single", "start": day, "end": day})
            if start in [slot["start"] for slot in shown.json().get("slots", [])]:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"{url} never showed {start} as free")


def booking(start: str, n: int) -> dict:
    return {"service": "single", "start": start,
            "customer": {"name": f"Player {n}", "email": f"player{n}@example.com"}}


async def test_a_service_switched_off_elsewhere_is_refused_by_every_server_at_once(servers):
    start = tomorrow_at(10)
    async with httpx.AsyncClient(timeout=30) as http:
        await warm(http, servers, start)
        await apply(SQUASH_CLUB.replace('slug = "single"\n', 'slug = "single"\nenabled = false\n'))
        answers = [await http.post(f"{url}{SITE}/bookings", json=booking(start, n))
                   for n, url in enumerate(servers)]

    assert [a.status_code for a in answers] == [404, 404]
    assert await Booking.count() == 0


async def test_a_day_closed_elsewhere_is_refused_by_every_server_at_once(servers):
    start = tomorrow_at(10)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    async with httpx.AsyncClient(timeout=30) as http:
        await warm(http, servers, start)
        await apply(SQUASH_CLUB.replace("allowed_origins = []", f'allowed_origins = []\nclosed = ["{tomorrow}"]'))
        answers = [await http.post(f"{url}{SITE}/bookings", json=booking(start, n))
                   for n, url in enumerate(servers)]
        holds = [await http.post(f"{url}{SITE}/holds", json={"service": "single", "start": start})
                 for url in servers]

    assert [a.status_code for a in answers] == [409, 409]
    assert [h.status_code for h in holds] == [409, 409]
    assert await Booking.count() == 0


async def test_an_unchanged_configuration_is_not_reloaded_and_books_as_before(servers):
    start = tomorrow_at(11)
    async with httpx.AsyncClient(timeout=30) as http:
        await warm(http, servers, start)
        before = await Site.select(Site.config_version).first()
        await apply(SQUASH_CLUB)  # the same file: nothing changes, the version stays
        after = await Site.select(Site.config_version).first()
        answer = await http.post(f"{servers[0]}{SITE}/bookings", json=booking(start, 1))

    assert after == before
    assert answer.status_code == 201, answer.text
