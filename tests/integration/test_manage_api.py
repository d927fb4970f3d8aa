"""Seeing, cancelling and moving a booking through its manage link (JSON API)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from icalendar import Calendar
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import TABLES, Booking, BookingEvent, OutboxMessage
from slotwise.services.delivery import email_from_json
from slotwise.services.sites import apply_site
from slotwise.services.tokens import MANAGE_TOKEN_PLACEHOLDER

from tests.support.sitefiles import POLICY_SITE, parse_test_site
from tests.support.sweep import capacity_violations

APPLIER = Actor.system("tests")

BASE = "/api/v1/sites/test-physio"
NINE, TEN = "2026-11-24T09:00:00+01:00", "2026-11-24T10:00:00+01:00"


@pytest.fixture(autouse=True)
async def site(clock) -> None:
    await apply_site(parse_test_site(POLICY_SITE), actor=APPLIER, now=clock())


async def book(client, start: str = NINE, name: str = "Erika") -> str:
    response = await client.post(f"{BASE}/bookings", json={
        "service": "quick", "start": start, "customer": {"name": name, "email": "erika@example.com"}})
    assert response.status_code == 201, response.text
    return response.json()["manage_url"].rsplit("/", 1)[1]


def manage(token: str, action: str = "") -> str:
    return f"/api/v1/manage/{token}/{action}"


async def free_starts(client) -> list[str]:
    response = await client.get(f"{BASE}/availability", params={"service": "quick", "start": "2026-11-24",
                                                                "end": "2026-11-24"})
    return [slot["start"] for slot in response.json()["slots"]]


async def test_the_link_shows_the_booking_and_what_may_still_be_done(client):
    token = await book(client)

    response = await client.get(manage(token))

    assert response.status_code == 200
    body = response.json()
    assert body["booking"]["start"] == "2026-11-24T08:00:00+00:00"
    assert body["cancel"] == {"allowed": True, "reason": None, "until": "2026-11-23T08:00:00+00:00"}
    assert body["reschedule"]["allowed"] is True
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


async def test_cancelling_frees_the_time_at_once_and_the_link_then_answers_410(client):
    token = await book(client)

    cancelled = await client.post(manage(token, "cancel"), json={"reason": "I feel better"})

    assert cancelled.status_code == 200
    assert cancelled.json()["booking"]["status"] == "cancelled"
    assert NINE in await free_starts(client)
    again = await client.get(manage(token))
    assert again.status_code == 410
    assert again.json()["booking"]["status"] == "cancelled"
    event = await BookingEvent.select().where(BookingEvent.kind == "cancelled").first().output(load_json=True)
    assert event["data"] == {"reason": "I feel better"}


async def test_a_cancelled_booking_still_says_whom_it_was_with(client):
    token = await book(client)

    cancelled = await client.post(manage(token, "cancel"), json={})

    assert [r["key"] for r in cancelled.json()["booking"]["resources"]] == ["anna"]
    assert [r["key"] for r in (await client.get(manage(token))).json()["booking"]["resources"]] == ["anna"]
    row = await OutboxMessage.select().where(OutboxMessage.event == "cancelled").first().output(load_json=True)
    assert "Anna Berg" in email_from_json(row["content"]).text


async def test_cancelling_twice_is_harmless(client):
    token = await book(client)

    first = await client.post(manage(token, "cancel"), json={})
    second = await client.post(manage(token, "cancel"), json={})

    assert first.status_code == second.status_code == 200
    assert await OutboxMessage.count().where(OutboxMessage.event == "cancelled") == 1


async def test_cancelling_drops_the_reminders_and_sends_a_cancel_calendar_update(client):
    token = await book(client)

    await client.post(manage(token, "cancel"), json={})

    statuses = {r["event"]: r["status"] for r in await OutboxMessage.select(OutboxMessage.event, OutboxMessage.status)}
    assert statuses["reminder"] == "dropped"
    row = await OutboxMessage.select().where(OutboxMessage.event == "cancelled").first().output(load_json=True)
    [ics] = email_from_json(row["content"]).attachments
    calendar = Calendar.from_ical(ics.content)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert int(calendar.walk("VEVENT")[0]["SEQUENCE"]) == 1


async def test_cancelling_after_the_cut_off_is_refused_with_the_reason_and_a_contact(client, clock):
    token = await book(client)
    clock.now = datetime(2026, 11, 23, 8, 0, 1, tzinfo=UTC)  # 24 h before plus one second

    response = await client.post(manage(token, "cancel"), json={})

    assert response.status_code == 409
    problem = response.json()
    assert (problem["reason"], problem["contact"]) == ("too-late", "+49 40 1111111")
    assert (await Booking.select(Booking.status).first())["status"] == "confirmed"


# The booking starts 2026-11-24 08:00 UTC; cancel_until 24 h, reschedule_until 12 h.
@pytest.mark.parametrize(
    ("action", "body", "now", "status", "reason"),
    [
        pytest.param("cancel", {}, datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC), 200, None,
                     id="cancel-exactly-at-the-cut-off"),
        pytest.param("cancel", {}, datetime(2026, 11, 23, 8, 0, 1, tzinfo=UTC), 409, "too-late",
                     id="cancel-a-second-after-the-cut-off"),
        pytest.param("reschedule", {"start": TEN}, datetime(2026, 11, 23, 20, 0, 0, tzinfo=UTC), 200, None,
                     id="move-exactly-at-the-cut-off"),
        pytest.param("reschedule", {"start": TEN}, datetime(2026, 11, 23, 20, 0, 1, tzinfo=UTC), 409, "too-late",
                     id="move-a-second-after-the-cut-off"),
        pytest.param("cancel", {}, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), 409, "started",
                     id="cancel-at-the-start"),
        pytest.param("reschedule", {"start": "2026-11-25T10:00:00+01:00"}, datetime(2026, 11, 24, 9, tzinfo=UTC),
                     409, "started", id="move-a-booking-in-the-past"),
    ],
)
async def test_the_policy_holds_at_its_boundaries(client, clock, action, body, now, status, reason):
    token = await book(client)
    clock.now = now

    shown = (await client.get(manage(token))).json()[action]
    response = await client.post(manage(token, action), json=body)

    assert response.status_code == status, response.text
    assert shown["allowed"] is (status == 200) and shown["reason"] == reason
    if reason:
        assert response.json()["reason"] == reason
        booking = (await client.get(manage(token))).json()["booking"]
        assert (booking["status"], booking["start"]) == ("confirmed", "2026-11-24T08:00:00+00:00")


async def test_a_move_may_overlap_the_bookings_own_time(client):
    # An assessment (45 min + 15 min buffer, 15-minute step) blocks 09:00-10:00
    # of Anna and Room 1. Shifting it by 15 minutes overlaps only itself.
    booked = await client.post(f"{BASE}/bookings", json={
        "service": "assessment", "start": NINE, "customer": {"name": "Erika", "email": "erika@example.com"}})
    token = booked.json()["manage_url"].rsplit("/", 1)[1]

    response = await client.post(manage(token, "reschedule"), json={"start": "2026-11-24T09:15:00+01:00"})

    assert response.status_code == 200, response.text
    assert response.json()["booking"]["start"] == "2026-11-24T08:15:00+00:00"
    assert [r["key"] for r in response.json()["booking"]["resources"]] == ["anna", "room-1"]
    assert await capacity_violations() == 0


async def test_moving_to_the_time_it_already_has_answers_422_and_changes_nothing(client):
    token = await book(client)

    response = await client.post(manage(token, "reschedule"), json={"start": NINE})

    assert response.status_code == 422
    assert response.json()["errors"][0]["name"] == "start"
    assert (await Booking.select(Booking.reschedule_count).first())["reschedule_count"] == 0
    assert await OutboxMessage.count().where(OutboxMessage.event == "rescheduled") == 0


async def test_moving_keeps_the_link_and_uid_and_releases_the_old_time(client):
    token = await book(client)
    uid = (await client.get(manage(token))).json()["booking"]["id"]

    moved = await client.post(manage(token, "reschedule"), json={"start": TEN})

    assert moved.status_code == 200, moved.text
    booking = moved.json()["booking"]
    assert (booking["id"], booking["start"]) == (uid, "2026-11-24T09:00:00+00:00")
    free = await free_starts(client)
    assert NINE in free and TEN not in free
    assert (await client.get(manage(token))).json()["booking"]["start"] == "2026-11-24T09:00:00+00:00"
    event = await BookingEvent.select().where(BookingEvent.kind == "rescheduled").first().output(load_json=True)
    assert event["data"] == {"from": "2026-11-24T08:00:00+00:00", "to": "2026-11-24T09:00:00+00:00"}
    assert await capacity_violations() == 0


async def test_moving_replaces_the_reminders_and_raises_the_calendar_sequence(client):
    token = await book(client)

    await client.post(manage(token, "reschedule"), json={"start": TEN})

    rows = await OutboxMessage.select().order_by(OutboxMessage.id).output(load_json=True)
    reminders = [(r["status"], r["send_at"]) for r in rows if r["event"] == "reminder"]
    assert reminders == [
        ("dropped", datetime(2026, 11, 23, 8, tzinfo=UTC)), ("dropped", datetime(2026, 11, 24, 6, tzinfo=UTC)),
        ("queued", datetime(2026, 11, 23, 9, tzinfo=UTC)), ("queued", datetime(2026, 11, 24, 7, tzinfo=UTC))]
    moved = next(r for r in rows if r["event"] == "rescheduled")
    [ics] = email_from_json(moved["content"]).attachments
    event = Calendar.from_ical(ics.content).walk("VEVENT")[0]
    first = next(r for r in rows if r["event"] == "confirmed")
    [first_ics] = email_from_json(first["content"]).attachments
    assert str(event["UID"]) == str(Calendar.from_ical(first_ics.content).walk("VEVENT")[0]["UID"])
    assert int(event["SEQUENCE"]) == 1


async def test_each_email_states_what_the_policy_still_allows_online(client):
    token = await book(client)  # Tuesday 09:00 Berlin; cancel until 24 h, move until 12 h before; 2 moves
    for start in (TEN, "2026-11-24T11:00:00+01:00"):
        await client.post(manage(token, "reschedule"), json={"start": start})

    rows = await OutboxMessage.select().where(
        (OutboxMessage.channel == "email") & OutboxMessage.event.is_in(["confirmed", "rescheduled"])
    ).order_by(OutboxMessage.id).output(load_json=True)
    texts = [email_from_json(row["content"]).text for row in rows]

    assert "You can move your booking online until Monday 23 November 2026, 21:00 and cancel it until " \
           "Monday 23 November 2026, 09:00 with this private link:" in texts[0]
    assert "You can move your booking online until Monday 23 November 2026, 22:00" in texts[1]
    # The second move used up the site's two: the last email offers cancelling only.
    assert "You can cancel your booking online until Monday 23 November 2026, 11:00 with this private link:" \
           in texts[2]


async def test_moving_into_a_taken_time_fails_cleanly_with_alternatives(client):
    token = await book(client)
    await book(client, TEN, "Max")

    response = await client.post(manage(token, "reschedule"), json={"start": TEN})

    assert response.status_code == 409
    assert response.json()["alternatives"]
    assert (await client.get(manage(token))).json()["booking"]["start"] == "2026-11-24T08:00:00+00:00"


async def test_the_alternatives_to_a_taken_time_count_the_bookings_own_time_as_free(client):
    # Assessments (45 min + 15 min buffer, Anna and Room 1): Erika's 10:00 blocks 10:00-11:00,
    # Max's 09:00 blocks 09:00-10:00. Erika asks for 09:00 and loses to Max.
    def assessment(start: str, name: str):
        return client.post(f"{BASE}/bookings", json={
            "service": "assessment", "start": start, "resource": "anna",
            "customer": {"name": name, "email": f"{name.lower()}@example.com"}})

    token = (await assessment(TEN, "Erika")).json()["manage_url"].rsplit("/", 1)[1]
    await assessment(NINE, "Max")

    taken = await client.post(manage(token, "reschedule"), json={"start": NINE})

    assert taken.status_code == 409
    # 10:00 is her own time (not offered); 10:15 on overlap only her own booking.
    assert [a["start"] for a in taken.json()["alternatives"]] == [
        "2026-11-24T10:15:00+01:00", "2026-11-24T10:30:00+01:00", "2026-11-24T10:45:00+01:00"]


async def test_a_booking_can_be_moved_only_as_often_as_the_site_allows(client):
    token = await book(client)
    for start in (TEN, "2026-11-24T11:00:00+01:00"):
        assert (await client.post(manage(token, "reschedule"), json={"start": start})).status_code == 200

    third = await client.post(manage(token, "reschedule"), json={"start": "2026-11-24T13:00:00+01:00"})

    assert third.status_code == 409
    assert third.json()["reason"] == "too-many-moves"


async def test_a_cancelled_booking_cannot_be_moved(client):
    token = await book(client)
    await client.post(manage(token, "cancel"), json={})

    response = await client.post(manage(token, "reschedule"), json={"start": TEN})

    assert response.status_code == 410
    assert response.json()["reason"] == "cancelled"
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_move_and_a_new_booking_racing_for_one_time_never_both_win(client):
    token = await book(client)

    moved, booked = await asyncio.gather(
        client.post(manage(token, "reschedule"), json={"start": TEN}),
        client.post(f"{BASE}/bookings", json={"service": "quick", "start": TEN,
                                              "customer": {"name": "Max", "email": "max@example.com"}}))

    assert sorted([moved.status_code, booked.status_code]) in ([200, 409], [201, 409])
    assert await capacity_violations() == 0
    assert await Booking.count().where(Booking.start_at == datetime(2026, 11, 24, 9, tzinfo=UTC)) == 1


async def test_the_plain_token_is_nowhere_in_the_database(client):
    token = await book(client)

    dump = "".join([str(await table.select()) for table in TABLES])
    assert token not in dump
    assert MANAGE_TOKEN_PLACEHOLDER in dump  # the queued messages hold a placeholder instead


async def test_a_repeated_move_with_one_idempotency_key_moves_once(client):
    token = await book(client)
    headers = {"Idempotency-Key": "move-1"}

    first = await client.post(manage(token, "reschedule"), json={"start": TEN}, headers=headers)
    again = await client.post(manage(token, "reschedule"), json={"start": TEN}, headers=headers)

    assert first.status_code == again.status_code == 200
    assert again.json()["booking"] == first.json()["booking"]
    assert (await Booking.select(Booking.reschedule_count).first())["reschedule_count"] == 1
    assert await OutboxMessage.count().where(OutboxMessage.event == "rescheduled") == 1


async def test_one_idempotency_key_for_a_different_move_answers_422(client):
    token = await book(client)
    headers = {"Idempotency-Key": "move-1"}
    await client.post(manage(token, "reschedule"), json={"start": TEN}, headers=headers)

    response = await client.post(manage(token, "reschedule"), json={"start": "2026-11-24T11:00:00+01:00"},
                                 headers=headers)

    assert response.status_code == 422
    assert response.json()["errors"][0]["name"] == "Idempotency-Key"
