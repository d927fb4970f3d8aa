"""Holds can't empty a calendar: one client keeps at most two live holds per site, and a new hold
from the same booking page releases the one it replaces (issue 13, item 4)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from slotwise.domain.actors import Actor
from slotwise.services.sites import apply_site
from slotwise.web.app import create_app

from tests.support.sitefiles import parse_test_site

BASE = "/api/v1/sites/test-physio"
TUESDAY = "2026-11-24"


@pytest.fixture(autouse=True)
async def site(clock) -> None:
    await apply_site(parse_test_site(), actor=Actor.system("tests"), now=clock())


@pytest.fixture
async def proxied(schema, settings, database, clock):
    """The app behind a trusted proxy on loopback: X-Forwarded-For names each client."""
    app = create_app(replace(settings, trusted_proxies=("127.0.0.1/32",)), database=database, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 5000)),
                                 base_url="http://testserver.local") as http:
        yield http


async def free_starts(http: httpx.AsyncClient) -> list[str]:
    response = await http.get(f"{BASE}/availability", params={"service": "quick", "start": TUESDAY,
                                                              "end": TUESDAY})
    assert response.status_code == 200, response.text
    return [slot["start"] for slot in response.json()["slots"]]


async def test_one_client_holding_every_time_of_a_day_keeps_only_two(client):
    free = await free_starts(client)
    assert len(free) >= 14

    statuses = [(await client.post(f"{BASE}/holds", json={"service": "quick", "start": start})).status_code
                for start in free[:14]]

    assert statuses == [201] * 14  # each hold is taken; the oldest make way
    left = await free_starts(client)
    assert len(left) == len(free) - 2
    assert set(free) - set(left) == set(free[12:14])  # the last two picks are the ones kept


async def test_each_client_has_its_own_two_holds(proxied):
    free = await free_starts(proxied)
    for address in ("198.51.100.1", "198.51.100.2"):
        for start in free[:3] if address.endswith("1") else free[3:6]:
            response = await proxied.post(f"{BASE}/holds", json={"service": "quick", "start": start},
                                          headers={"X-Forwarded-For": address})
            assert response.status_code == 201

    assert len(await free_starts(proxied)) == len(free) - 4


async def test_a_hold_that_replaces_another_releases_it_first(client):
    free = await free_starts(client)
    first = await client.post(f"{BASE}/holds", json={"service": "quick", "start": free[0]})

    second = await client.post(f"{BASE}/holds", json={"service": "quick", "start": free[1],
                                                      "replaces": first.json()["hold"]})

    assert second.status_code == 201
    assert await free_starts(client) == [free[0], *free[2:]]


async def test_picking_another_time_on_the_booking_page_releases_the_hold_it_carries(client):
    free = await free_starts(client)
    form = {"service": "quick", "tz": "Europe/Berlin", "locale": "en"}
    picked = await client.post("/book/test-physio/hold", data={**form, "start": free[0]})
    assert picked.status_code == 303
    query = parse_qs(urlsplit(picked.headers["location"]).query)
    until = datetime.fromisoformat(query["until"][0])
    held = f"{query['hold'][0]}.{int(datetime.fromisoformat(free[0]).timestamp())}.{int(until.timestamp())}"

    # "Back" keeps the hold in the page (held=…); picking another time sends it along.
    again = await client.post("/book/test-physio/hold", data={**form, "start": free[1], "held": held})

    assert again.status_code == 303
    assert await free_starts(client) == [free[0], *free[2:]]
