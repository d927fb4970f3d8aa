"""The booking's calendar file, reached through its manage link."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icalendar import Calendar
from slotwise.domain.actors import Actor
from slotwise.services.sites import apply_site

from tests.support.sitefiles import TEST_SITE, parse_test_site

APPLIER = Actor.system("tests")


@pytest.fixture
async def booking(client, clock) -> dict:
    await apply_site(parse_test_site(), actor=APPLIER, now=clock())
    response = await client.post("/api/v1/sites/test-physio/bookings", json={
        "service": "assessment", "start": "2026-11-24T09:00:00+01:00",
        "customer": {"name": "Erika Mustermann", "email": "erika@example.com"}})
    assert response.status_code == 201, response.text
    return response.json()


def ics_path(booking: dict) -> str:
    token = booking["manage_url"].rsplit("/", 1)[1]
    return f"/api/v1/manage/{token}/booking.ics"


async def test_the_calendar_file_holds_the_booking_with_a_stable_uid(client, booking):
    response = await client.get(ics_path(booking))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert str(event["UID"]) == f"{booking['id']}@slotwise"
    assert event.decoded("DTSTART") == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 11, 24, 8, 45, tzinfo=UTC)
    assert int(event["SEQUENCE"]) == 0
    assert str(event["SUMMARY"]) == "Assessment – Test Physio"
    assert booking["manage_url"] in str(event["DESCRIPTION"])


async def test_the_location_is_the_business_and_its_address(client, clock):
    site = TEST_SITE.replace('contact_phone = "+49 40 1111111"',
                             'contact_phone = "+49 40 1111111"\naddress = "Hafenstraße 12, 20457 Hamburg"')
    await apply_site(parse_test_site(site), actor=APPLIER, now=clock())
    booked = await client.post("/api/v1/sites/test-physio/bookings", json={
        "service": "quick", "start": "2026-11-24T09:00:00+01:00",
        "customer": {"name": "Erika", "email": "erika@example.com"}})

    event = Calendar.from_ical((await client.get(ics_path(booked.json()))).content).walk("VEVENT")[0]

    assert str(event["LOCATION"]) == "Test Physio, Hafenstraße 12, 20457 Hamburg"


async def test_the_calendar_file_is_private(client, booking):
    response = await client.get(ics_path(booking))

    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("token", ["x" * 43, "", "A" * 200])
async def test_an_unknown_token_reveals_nothing(client, booking, token):
    response = await client.get(f"/api/v1/manage/{token}/booking.ics")

    assert response.status_code == 404
    assert "Erika" not in response.text
