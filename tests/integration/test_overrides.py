"""``override`` through the admin API: staff book and move outside hours, notice and advance,
never past capacity, and the history says so (docs/decisions.md)."""

from __future__ import annotations

import pytest
from slotwise.domain.access import Scope
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import Booking
from slotwise.services import keys
from slotwise.services.sites import apply_site

from tests.support.sitefiles import TEST_SITE, parse_test_site

APPLIER = Actor.system("tests")
ADMIN = "/api/v1/admin/sites/test-physio"
# The clock stands at Monday 2026-11-23 08:00 Berlin; Anna works weekdays 09:00-12:00, 13:00-17:00.
EVENING = "2026-11-24T18:30:00+01:00"  # Tuesday, after closing
LUNCH = "2026-11-24T12:15:00+01:00"  # Tuesday, in the lunch break and off the grid
SOON = "2026-11-23T09:00:00+01:00"  # Monday, inside "quick"'s two hours' notice
FAR = "2027-06-01T10:00:00+02:00"  # beyond its 180 days' advance
NINE = "2026-11-24T09:00:00+01:00"


@pytest.fixture(autouse=True)
async def site(clock) -> None:
    await apply_site(parse_test_site(TEST_SITE), actor=APPLIER, now=clock())


@pytest.fixture
async def headers(clock) -> dict[str, str]:
    created = await keys.create_key("test-physio", name="Front desk", scopes=list(Scope), expires_at=None,
                                    actor=APPLIER, now=clock())
    return {"Authorization": f"Bearer {created.secret}"}


def on_behalf(start: str, service: str = "quick", **extra) -> dict:
    return {"service": service, "start": start, "customer": {"name": "Phone Caller", "email": "c@example.com"},
            "notify": False, **extra}


@pytest.mark.parametrize("start", [EVENING, LUNCH, SOON, FAR])
async def test_outside_hours_notice_or_advance_staff_book_only_with_override(client, headers, start):
    refused = await client.post(f"{ADMIN}/bookings", json=on_behalf(start), headers=headers)
    booked = await client.post(f"{ADMIN}/bookings", json=on_behalf(start, override=True), headers=headers)

    assert refused.status_code == 409, refused.text
    assert booked.status_code == 201, booked.text
    body = booked.json()
    assert body["start"] == start and [r["key"] for r in body["resources"]] == ["anna"]
    assert body["history"][0]["kind"] == "booked" and body["history"][0]["data"]["override"] is True
    assert body["history"][0]["actor"]["kind"] == "api_key"


async def test_an_override_that_was_not_needed_is_not_recorded_as_one(client, headers):
    booked = await client.post(f"{ADMIN}/bookings", json=on_behalf(NINE, override=True), headers=headers)

    assert booked.status_code == 201
    assert "override" not in booked.json()["history"][0]["data"]


async def test_an_override_never_books_past_capacity(client, headers):
    first = await client.post(f"{ADMIN}/bookings", json=on_behalf(EVENING, override=True), headers=headers)
    # The same time, and a time overlapping it: Anna is taken.
    again = await client.post(f"{ADMIN}/bookings", json=on_behalf(EVENING, override=True), headers=headers)
    overlapping = await client.post(f"{ADMIN}/bookings", json=on_behalf("2026-11-24T18:45:00+01:00",
                                                                        override=True), headers=headers)
    # A group class of three seats, filled at an hour the studio is closed.
    session = "2026-11-25T20:00:00+01:00"
    seats = [await client.post(f"{ADMIN}/bookings", json={
        **on_behalf(session, "class", override=True), "customer": {"name": f"P{n}", "email": f"p{n}@example.com"}},
        headers=headers) for n in range(4)]

    assert first.status_code == 201
    assert (again.status_code, overlapping.status_code) == (409, 409)
    assert again.json()["type"].endswith("/slot-unavailable")
    assert [s.status_code for s in seats] == [201, 201, 201, 409]
    assert await Booking.count() == 4


async def test_staff_move_a_booking_after_hours_only_with_override_and_the_history_says_so(client, headers):
    created = await client.post(f"{ADMIN}/bookings", json=on_behalf(NINE), headers=headers)
    booking = created.json()["id"]
    blocker = await client.post(f"{ADMIN}/bookings", json={
        **on_behalf("2026-11-24T19:00:00+01:00", override=True),
        "customer": {"name": "Other", "email": "o@example.com"}}, headers=headers)
    assert blocker.status_code == 201

    refused = await client.post(f"{ADMIN}/bookings/{booking}/reschedule", json={"start": EVENING},
                                headers=headers)
    full = await client.post(f"{ADMIN}/bookings/{booking}/reschedule",
                             json={"start": "2026-11-24T18:45:00+01:00", "override": True}, headers=headers)
    moved = await client.post(f"{ADMIN}/bookings/{booking}/reschedule", json={"start": EVENING, "override": True},
                              headers=headers)

    assert (refused.status_code, full.status_code) == (409, 409)
    assert moved.status_code == 200, moved.text
    history = moved.json()["history"]
    assert [h["kind"] for h in history] == ["booked", "rescheduled"]
    assert history[1]["data"] == {"from": "2026-11-24T08:00:00+00:00", "to": "2026-11-24T17:30:00+00:00",
                                  "override": True}


async def test_override_must_be_true_or_false(client, headers):
    response = await client.post(f"{ADMIN}/bookings", json=on_behalf(EVENING, override="yes"), headers=headers)

    assert response.status_code == 422
    assert response.json()["errors"] == [{"name": "override", "code": "boolean-expected",
                                          "detail": "must be true or false"}]
