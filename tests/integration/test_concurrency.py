"""The booking invariant under real concurrency: two server processes, one database.

The servers run with the real clock, so the site (examples/squash-24-7.toml)
is open around the clock in UTC and the contested slot is tomorrow at 10:00 UTC.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import Allocation, Booking, BookingEvent, Hold, IdempotencyKey
from slotwise.services.sites import apply_site
from slotwise.sitefile import load_site_file

from tests.support.servers import ServerProcess, race, race_requests, tomorrow_at
from tests.support.sweep import capacity_violations

APPLIER = Actor.system("tests")

SQUASH_CLUB = Path(__file__).resolve().parents[2] / "examples" / "squash-24-7.toml"
BOOKINGS = "/api/v1/sites/night-owl-squash/bookings"
CONTENDERS = 50


@pytest.fixture(scope="module")
async def servers(schema, server_environment):
    """Two independent server processes on the database of this run."""
    first, second = ServerProcess(server_environment), ServerProcess(server_environment)
    with first, second:
        yield [first.url, second.url]


@pytest.fixture(autouse=True)
async def empty_database(schema):
    """Clear bookings only: the site stays, with the ids the servers have cached.

    Like a production server, each process reuses a site's configuration for a
    couple of seconds; deleting and re-creating the site under it (new ids on
    PostgreSQL) is nothing a deployment does, so these tests don't either.
    """
    for table in (IdempotencyKey, BookingEvent, Allocation, Hold, Booking):
        await table.delete(force=True)


@pytest.fixture(autouse=True)
async def race_site(empty_database, clock):
    await apply_site(load_site_file(SQUASH_CLUB), actor=APPLIER, now=clock())


def body(service: str, start: str, n: int) -> dict:
    return {"service": service, "start": start,
            "customer": {"name": f"Player {n}", "email": f"player{n}@example.com"}}


async def contest(servers: list[str], requests: list[dict]) -> Counter:
    return (await race(servers, BOOKINGS, requests)).statuses


async def test_fifty_confirms_for_one_slot_make_exactly_one_booking(servers):
    start = tomorrow_at(10)

    outcome = await contest(servers, [body("single", start, n) for n in range(CONTENDERS)])

    assert outcome == Counter({201: 1, 409: CONTENDERS - 1})
    assert await Booking.count() == 1
    assert await capacity_violations() == 0


async def test_fifty_confirms_for_a_five_seat_class_make_exactly_five_bookings(servers):
    start = tomorrow_at(18)

    outcome = await contest(servers, [body("class", start, n) for n in range(CONTENDERS)])

    assert outcome == Counter({201: 5, 409: CONTENDERS - 5})
    assert await Booking.count() == 5
    assert await capacity_violations() == 0


async def test_overlapping_thirty_and_sixty_minute_bookings_never_coexist(servers):
    # 10:00-10:30 (+10 min buffer) and 09:45-10:45 overlap on the one court.
    requests = []
    for n in range(CONTENDERS):
        requests.append(body("single", tomorrow_at(10), n) if n % 2 else body("double", tomorrow_at(9, 45), n))

    outcome = await contest(servers, requests)

    assert outcome[201] == 1
    assert outcome[409] == CONTENDERS - 1
    assert sum(outcome.values()) == CONTENDERS
    assert await capacity_violations() == 0


async def test_moves_and_new_bookings_racing_for_one_slot_leave_exactly_one_there(servers):
    # Twenty players booked an hour each, away from 10:00; each now moves to
    # 10:00 while twenty others book 10:00, through both servers at once.
    hours = [*range(11, 24), *range(0, 7)]
    tokens = []
    async with httpx.AsyncClient(base_url=servers[0], timeout=30) as http:
        for n, hour in enumerate(hours):
            booked = await http.post(BOOKINGS, json=body("single", tomorrow_at(hour), n))
            assert booked.status_code == 201, booked.text
            tokens.append(booked.json()["manage_url"].rsplit("/", 1)[1])
    contested = tomorrow_at(10)
    requests: list[tuple[str, dict]] = []
    for n, token in enumerate(tokens):  # interleaved: a move, a new booking, a move, ...
        requests.append((f"/api/v1/manage/{token}/reschedule", {"start": contested}))
        requests.append((BOOKINGS, body("single", contested, 100 + n)))

    outcome = (await race_requests(servers, requests)).statuses

    assert outcome[200] + outcome[201] == 1
    assert outcome[409] == len(requests) - 1
    assert await capacity_violations() == 0
    assert await Booking.count().where(Booking.start_at == datetime.fromisoformat(contested)) == 1
    # The moves that lost left their bookings where they were.
    assert await Booking.count().where(Booking.status == "confirmed") == len(hours) + outcome[201]
