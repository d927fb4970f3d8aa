"""The booking invariant under real concurrency: two server processes, one database.

The servers run with the real clock, so the site is open around the clock in
UTC and the contested slot is tomorrow at 10:00 UTC.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from slotwise.persistence.tables import Booking
from slotwise.services.sites import apply_site
from slotwise.sitefile import parse_site
from slotwise.testing import ServerProcess
from sweep import capacity_violations

RACE_SITE = """
[site]
slug = "race"
name = "Race Club"
timezone = "UTC"
allowed_origins = []

[site.hours]
mon = ["00:00-24:00"]
tue = ["00:00-24:00"]
wed = ["00:00-24:00"]
thu = ["00:00-24:00"]
fri = ["00:00-24:00"]
sat = ["00:00-24:00"]
sun = ["00:00-24:00"]

[[resources]]
key = "court"
name = "Court 1"
kind = "court"

[[resources]]
key = "hall"
name = "Hall"
kind = "room"

[[services]]
slug = "single"
name = "Single"
duration = 30
step = 15
buffer_after = 10
max_advance = "30d"
resources = ["court"]

[[services]]
slug = "double"
name = "Double"
duration = 60
step = 15
max_advance = "30d"
resources = ["court"]

[[services]]
slug = "class"
name = "Class"
duration = 60
step = 60
seats = 5
max_advance = "30d"
resources = ["hall"]
"""
CONTENDERS = 50


@pytest.fixture(scope="module")
async def servers(schema):
    """Two independent server processes on the database of this run."""
    first, second = ServerProcess(), ServerProcess()
    with first, second:
        yield [first.url, second.url]


@pytest.fixture(autouse=True)
async def race_site(clock):
    await apply_site(parse_site(RACE_SITE, source="race.toml"), now=clock())


def tomorrow_at(hour: int, minute: int = 0) -> str:
    day = datetime.now(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC).isoformat()


def body(service: str, start: str, n: int) -> dict:
    return {"service": service, "start": start,
            "customer": {"name": f"Player {n}", "email": f"player{n}@example.com"}}


async def race(servers: list[str], requests: list[dict]) -> Counter:
    """Fire every request at once, alternating between the servers."""
    async with httpx.AsyncClient(timeout=30) as http:
        responses = await asyncio.gather(*(
            http.post(f"{servers[i % len(servers)]}/api/v1/sites/race/bookings", json=payload)
            for i, payload in enumerate(requests)
        ))
    return Counter(r.status_code for r in responses)


async def test_fifty_confirms_for_one_slot_make_exactly_one_booking(servers):
    start = tomorrow_at(10)

    outcome = await race(servers, [body("single", start, n) for n in range(CONTENDERS)])

    assert outcome == Counter({201: 1, 409: CONTENDERS - 1})
    assert await Booking.count() == 1
    assert await capacity_violations() == 0


async def test_fifty_confirms_for_a_five_seat_class_make_exactly_five_bookings(servers):
    start = tomorrow_at(18)

    outcome = await race(servers, [body("class", start, n) for n in range(CONTENDERS)])

    assert outcome == Counter({201: 5, 409: CONTENDERS - 5})
    assert await Booking.count() == 5
    assert await capacity_violations() == 0


async def test_overlapping_thirty_and_sixty_minute_bookings_never_coexist(servers):
    # 10:00-10:30 (+10 min buffer) and 09:45-10:45 overlap on the one court.
    requests = []
    for n in range(CONTENDERS):
        requests.append(body("single", tomorrow_at(10), n) if n % 2 else body("double", tomorrow_at(9, 45), n))

    outcome = await race(servers, requests)

    assert outcome[201] == 1
    assert outcome[409] == CONTENDERS - 1
    assert sum(outcome.values()) == CONTENDERS
    assert await capacity_violations() == 0
