"""Manage links cannot be guessed: random tokens find nothing, and guessing is rate-limited."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest
from slotwise.domain.actors import Actor
from slotwise.services import manage_links as manage
from slotwise.services.errors import NotFound
from slotwise.services.sites import apply_site
from slotwise.web.app import create_app

from tests.support.sitefiles import parse_test_site

APPLIER = Actor.system("tests")


@pytest.fixture(autouse=True)
async def booked(client, clock) -> str:
    await apply_site(parse_test_site(), actor=APPLIER, now=clock())
    response = await client.post("/api/v1/sites/test-physio/bookings", json={
        "service": "quick", "start": "2026-11-24T09:00:00+01:00",
        "customer": {"name": "Erika", "email": "erika@example.com"}})
    return response.json()["manage_url"].rsplit("/", 1)[1]


async def test_ten_thousand_random_tokens_find_no_booking(booked, clock, settings):
    secret = settings.secret_key
    hits = 0
    for _ in range(10_000):
        try:
            await manage.booking_for_token(secrets.token_urlsafe(32), secret_key=secret, now=clock())
            hits += 1
        except NotFound:
            pass

    assert hits == 0
    assert (await manage.booking_for_token(booked, secret_key=secret, now=clock())).customer.name == "Erika"


# Found by schemathesis: hmac.compare_digest refuses non-ASCII str, which was a 500.
@pytest.mark.parametrize("path", ["/api/v1/manage/%C3%A2", "/api/v1/manage/%C2%A3%C2%8B%7C%C2%90/booking.ics",
                                  "/manage/%F3%8F%A3%99", "/manage/%03%C3%86.i/cancel"])
async def test_a_token_of_any_characters_is_just_unknown(client, path):
    response = await client.get(path)
    posted = await client.post("/api/v1/manage/%03%C3%86.i%F3%8F%A3%99/cancel", json={})

    assert (response.status_code, posted.status_code) == (404, 404)


async def test_guessing_over_http_is_stopped_by_the_rate_limit_long_before(booked, clock, schema, settings,
                                                                           database):
    app = create_app(replace(settings, rate_limit_per_minute=60), database=database, clock=clock)
    statuses = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as http:
        for _ in range(100):
            response = await http.get(f"/api/v1/manage/{secrets.token_urlsafe(32)}/")
            statuses.append(response.status_code)

    assert statuses[:60] == [404] * 60
    assert set(statuses[60:]) == {429}


async def test_a_known_token_stops_working_thirty_days_after_the_booking_ends(booked, clock, settings):
    secret = settings.secret_key
    clock.now = datetime(2026, 12, 24, 8, 29, tzinfo=UTC)  # ends 08:30 on 24 Nov, + 30 days
    assert await manage.booking_for_token(booked, secret_key=secret, now=clock())
    clock.now = datetime(2026, 12, 24, 8, 31, tzinfo=UTC)
    with pytest.raises(NotFound):
        await manage.booking_for_token(booked, secret_key=secret, now=clock())
