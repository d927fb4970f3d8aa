"""Holds and bookings through the JSON API, on the configured database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import Allocation, Booking, Hold
from slotwise.services.sites import apply_site

from tests.support.sitefiles import TEST_SITE, parse_test_site

APPLIER = Actor.system("tests")

BASE = "/api/v1/sites/test-physio"
NINE = "2026-11-24T09:00:00+01:00"  # Tuesday, Anna's first quick slot
FORM_SITE = TEST_SITE.replace(
    'price = "25.00 EUR"\nresources = ["anna"]',
    'price = "25.00 EUR"\nphone = "required"\nresources = ["anna"]\nquestions = [\n'
    '  { key = "reason", label = "Reason", type = "text", max_length = 20 },\n'
    '  { key = "notes", label = "Notes", type = "textarea" },\n'
    '  { key = "insurance", label = "Insurance", type = "select", options = ["public", "private"], required = true },\n'
    '  { key = "consent", label = "I agree", type = "checkbox", required = true },\n'
    '  { key = "visits", label = "Visits so far", type = "number", min = 0, max = 50 },\n'
    "]",
)


@pytest.fixture(autouse=True)
async def site(clock) -> None:
    await apply_site(parse_test_site(FORM_SITE), actor=APPLIER, now=clock())


def booking_body(start: str = NINE, **overrides) -> dict:
    body = {
        "service": "quick",
        "start": start,
        "customer": {"name": "Erika Mustermann", "email": "erika@example.com", "phone": "040 1234567"},
        "answers": {"insurance": "public", "consent": True, "reason": "Back pain", "visits": "3"},
        "timezone": "Europe/Berlin",
        "locale": "de",
    }
    body.update(overrides)
    return body


async def test_a_booking_is_created_with_its_resources_and_a_manage_link(client):
    response = await client.post(f"{BASE}/bookings", json=booking_body())

    assert response.status_code == 201, response.text
    booking = response.json()
    assert booking["status"] == "confirmed"
    assert booking["start"] == "2026-11-24T08:00:00+00:00"
    assert booking["end"] == "2026-11-24T08:30:00+00:00"
    assert [r["key"] for r in booking["resources"]] == ["anna"]
    # A national number is read in the business's country and stored as E.164.
    assert booking["customer"]["phone"] == "+49401234567"
    assert booking["answers"] == {"insurance": "public", "consent": True, "reason": "Back pain", "visits": 3}
    assert booking["manage_url"].startswith("http://testserver.local/manage/")


async def test_only_a_hash_of_the_manage_token_is_stored(client):
    response = await client.post(f"{BASE}/bookings", json=booking_body())
    token = response.json()["manage_url"].rsplit("/", 1)[1]

    row = await Booking.select().first()
    assert len(token) >= 43  # 256-bit HMAC, base64url
    assert token not in str(row)
    assert len(row["manage_token_hash"]) == 64


async def test_a_booked_slot_disappears_from_availability(client):
    await client.post(f"{BASE}/bookings", json=booking_body())

    response = await client.get(f"{BASE}/availability",
                                params={"service": "quick", "start": "2026-11-24", "end": "2026-11-24"})

    assert NINE not in [slot["start"] for slot in response.json()["slots"]]


async def test_a_taken_slot_answers_409_with_the_next_three_free_times(client):
    await client.post(f"{BASE}/bookings", json=booking_body())

    response = await client.post(f"{BASE}/bookings", json=booking_body(
        customer={"name": "Max", "email": "max@example.com", "phone": "+49 40 7654321"}))

    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/slot-unavailable")
    assert [alt["start"] for alt in problem["alternatives"]] == [
        "2026-11-24T09:30:00+01:00", "2026-11-24T10:00:00+01:00", "2026-11-24T10:30:00+01:00"]
    assert await Booking.count() == 1


async def test_a_hold_keeps_the_slot_from_others_until_its_holder_books(client):
    hold = await client.post(f"{BASE}/holds", json={"service": "quick", "start": NINE})
    assert hold.status_code == 201, hold.text
    token = hold.json()["hold"]
    assert hold.json()["expires_at"] == "2026-11-23T07:10:00+00:00"  # 10 minutes, the site default

    other = await client.post(f"{BASE}/bookings", json=booking_body())
    assert other.status_code == 409

    mine = await client.post(f"{BASE}/bookings", json=booking_body(hold=token))
    assert mine.status_code == 201, mine.text
    assert await Hold.count() == 0
    assert await Allocation.count().where(Allocation.hold.is_not_null()) == 0


async def test_an_expired_hold_frees_the_slot(client, clock):
    await client.post(f"{BASE}/holds", json={"service": "quick", "start": NINE})
    clock.advance(timedelta(minutes=10, seconds=1))

    response = await client.post(f"{BASE}/bookings", json=booking_body())

    assert response.status_code == 201


async def test_holding_a_taken_slot_answers_409(client):
    await client.post(f"{BASE}/bookings", json=booking_body())

    response = await client.post(f"{BASE}/holds", json={"service": "quick", "start": NINE})

    assert response.status_code == 409
    assert response.json()["alternatives"]


async def test_the_same_idempotency_key_and_body_replays_the_same_booking(client):
    headers = {"Idempotency-Key": "order-4711"}
    first = await client.post(f"{BASE}/bookings", json=booking_body(), headers=headers)
    again = await client.post(f"{BASE}/bookings", json=booking_body(), headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert await Booking.count() == 1


async def test_the_same_idempotency_key_with_another_body_answers_422(client):
    headers = {"Idempotency-Key": "order-4711"}
    await client.post(f"{BASE}/bookings", json=booking_body(), headers=headers)

    response = await client.post(f"{BASE}/bookings", json=booking_body(start="2026-11-24T09:30:00+01:00"),
                                 headers=headers)

    assert response.status_code == 422
    assert response.json()["errors"][0]["name"] == "Idempotency-Key"
    assert await Booking.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"customer": {"name": " ", "email": "e@example.com", "phone": "+4940123456"}},
                     "customer.name", id="blank-name"),
        pytest.param({"customer": {"name": "E", "email": "not-an-email", "phone": "+4940123456"}},
                     "customer.email", id="bad-email"),
        pytest.param({"customer": {"name": "E", "email": "e@example.com"}}, "customer.phone",
                     id="missing-required-phone"),
        pytest.param({"customer": {"name": "E", "email": "e@example.com", "phone": "12"}},
                     "customer.phone", id="bad-phone"),
        pytest.param({"answers": {"consent": True}}, "answers.insurance", id="required-select-missing"),
        pytest.param({"answers": {"insurance": "gold", "consent": True}}, "answers.insurance",
                     id="select-not-an-option"),
        pytest.param({"answers": {"insurance": "public"}}, "answers.consent", id="required-checkbox"),
        pytest.param({"answers": {"insurance": "public", "consent": True, "visits": "many"}},
                     "answers.visits", id="number-not-a-number"),
        pytest.param({"answers": {"insurance": "public", "consent": True, "visits": 51}},
                     "answers.visits", id="number-above-max"),
        pytest.param({"answers": {"insurance": "public", "consent": True, "reason": "x" * 21}},
                     "answers.reason", id="text-too-long"),
        pytest.param({"start": "2026-11-24T09:00:00"}, "start", id="start-without-offset"),
        pytest.param({"start": "soon"}, "start", id="start-not-a-time"),
        pytest.param({"timezone": "Europe/Hamburg"}, "timezone", id="unknown-zone"),
        pytest.param({"locale": "fr"}, "locale", id="unsupported-locale"),
        pytest.param({"customer": "Erika"}, "customer", id="customer-not-an-object"),
    ],
)
async def test_invalid_input_answers_422_naming_the_field_and_books_nothing(client, change, field):
    response = await client.post(f"{BASE}/bookings", json=booking_body(**change))

    assert response.status_code == 422, response.text
    assert field in [error["name"] for error in response.json()["errors"]]
    assert await Booking.count() == 0


async def test_every_problem_of_a_request_is_reported_at_once(client):
    response = await client.post(f"{BASE}/bookings", json=booking_body(
        customer={"name": "", "email": "x"}, answers={}))

    names = {error["name"] for error in response.json()["errors"]}
    assert {"customer.name", "customer.email", "customer.phone", "answers.insurance", "answers.consent"} <= names


async def test_a_start_off_the_grid_is_refused_as_unavailable(client):
    response = await client.post(f"{BASE}/bookings", json=booking_body(start="2026-11-24T09:10:00+01:00"))

    assert response.status_code == 409


async def test_a_customer_name_with_markup_is_stored_as_typed(client):
    name = "<script>alert(1)</script> Erika"
    response = await client.post(f"{BASE}/bookings", json=booking_body(
        customer={"name": name, "email": "erika@example.com", "phone": "+49 40 1234567"}))

    assert response.status_code == 201
    assert response.json()["customer"]["name"] == name


async def test_concurrent_confirms_for_one_slot_make_exactly_one_booking(client):
    bodies = [
        booking_body(customer={"name": f"Customer {i}", "email": f"c{i}@example.com", "phone": "+49 40 1234567"})
        for i in range(20)
    ]

    responses = await asyncio.gather(*(client.post(f"{BASE}/bookings", json=body) for body in bodies))

    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 19
    assert await Booking.count() == 1


async def test_concurrent_repeats_with_one_idempotency_key_all_answer_the_same_booking(client):
    headers = {"Idempotency-Key": "double-click-42"}

    responses = await asyncio.gather(*(
        client.post(f"{BASE}/bookings", json=booking_body(), headers=headers) for _ in range(10)))

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert await Booking.count() == 1


async def test_holds_expired_over_an_hour_ago_are_swept_by_the_next_hold(client, clock):
    await client.post(f"{BASE}/holds", json={"service": "quick", "start": NINE})
    clock.advance(timedelta(hours=1, minutes=11))

    response = await client.post(f"{BASE}/holds", json={"service": "quick", "start": "2026-11-24T10:00:00+01:00"})

    assert response.status_code == 201
    assert await Hold.count() == 1
    assert await Allocation.count() == 1


async def test_answers_that_carry_a_hold_token_or_a_manage_link_are_never_cached(client):
    hold = await client.post(f"{BASE}/holds", json={"service": "quick", "start": "2026-11-24T10:00:00+01:00"})
    booking = await client.post(f"{BASE}/bookings",
                                json=booking_body("2026-11-24T10:00:00+01:00", hold=hold.json()["hold"]))

    assert (hold.status_code, booking.status_code) == (201, 201)
    assert hold.headers["cache-control"] == "no-store"
    assert booking.headers["cache-control"] == "no-store"
