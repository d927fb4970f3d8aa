"""Every change records who made it; customers keep the site's policy, staff are not bound by its
cut-offs or cap on moves, and nobody gets past capacity."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from slotwise.domain.actors import Actor, ActorKind, Rules
from slotwise.persistence.tables import Booking, OutboxMessage
from slotwise.services import bookings
from slotwise.services.config import ServiceConfig
from slotwise.services.errors import ActionRefused, SlotUnavailable
from slotwise.services.sites import apply_site

from tests.support.sitefiles import POLICY_SITE, parse_test_site

APPLIER = Actor.system("tests")
OWNER = Actor(ActorKind.ACCOUNT, "acc_1", "Olga Owner")
BASE = "/api/v1/sites/test-physio"
NINE, TEN = "2026-11-24T09:00:00+01:00", "2026-11-24T10:00:00+01:00"
# Monday 23 November 10:00 in Berlin: past the 24 h cancel cut-off of a Tuesday 09:00 booking.
PAST_CANCEL_CUT_OFF = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
async def site(clock) -> None:
    await apply_site(parse_test_site(POLICY_SITE), actor=APPLIER, now=clock())


@pytest.fixture
def config(settings) -> ServiceConfig:
    return ServiceConfig.from_settings(settings)


async def book(client, start: str = NINE) -> tuple[int, str]:
    response = await client.post(f"{BASE}/bookings", json={
        "service": "quick", "start": start, "customer": {"name": "Erika", "email": "erika@example.com"}})
    assert response.status_code == 201, response.text
    row = await Booking.select(Booking.id).where(Booking.uid == response.json()["id"]).first()
    return row["id"], response.json()["manage_url"].rsplit("/", 1)[1]


async def actors_of(booking_id: int) -> list[tuple[str, str, str | None]]:
    booking = await bookings.get_booking(booking_id)
    return [(entry.kind, str(entry.actor.kind), entry.actor.ref) for entry in await bookings.history(booking)]


async def test_the_history_names_the_customer_and_how_they_came(client):
    booking_id, token = await book(client)
    moved = await client.post(f"/api/v1/manage/{token}/reschedule", json={"start": TEN})
    cancelled = await client.post(f"/api/v1/manage/{token}/cancel", json={"reason": "ill"})

    assert (moved.status_code, cancelled.status_code) == (200, 200)
    assert await actors_of(booking_id) == [
        ("booked", "customer", "api"),
        ("rescheduled", "customer", "manage-link"),
        ("cancelled", "customer", "manage-link"),
    ]


async def test_staff_cancel_after_the_customers_cut_off_and_the_page_says_the_business_did(
    client, clock, config
):
    booking_id, token = await book(client)
    clock.now = PAST_CANCEL_CUT_OFF
    with pytest.raises(ActionRefused) as refused:
        await bookings.cancel_booking(booking_id, reason=None, actor=Actor.customer("manage-link"),
                                      now=clock(), config=config)
    assert refused.value.verdict.reason == "too-late"

    cancelled = await bookings.cancel_booking(booking_id, reason="therapist ill", actor=OWNER,
                                              rules=Rules.STAFF, now=clock(), config=config)

    assert cancelled.cancelled
    assert (await actors_of(booking_id))[-1] == ("cancelled", "account", "acc_1")
    page = await client.get(f"/manage/{token}")
    assert page.status_code == 410
    assert "Cancelled: therapist ill (by Test Physio)" in " ".join(page.text.split())


async def test_staff_move_past_the_cap_on_moves_but_never_onto_a_taken_time(client, clock, config):
    booking_id, token = await book(client)
    other_id, _ = await book(client, "2026-11-24T11:00:00+01:00")
    for start in (TEN, NINE):  # the two moves customers may make
        assert (await client.post(f"/api/v1/manage/{token}/reschedule", json={"start": start})).status_code == 200
    third = await client.post(f"/api/v1/manage/{token}/reschedule", json={"start": TEN})
    assert third.json()["reason"] == "too-many-moves"

    with pytest.raises(SlotUnavailable):
        await bookings.move_booking(booking_id, start=datetime.fromisoformat("2026-11-24T11:00:00+01:00"),
                                    actor=OWNER, now=clock(), config=config)
    moved = await bookings.move_booking(booking_id, start=datetime.fromisoformat(TEN), actor=OWNER,
                                        now=clock(), config=config)

    assert moved.start == datetime.fromisoformat(TEN) and moved.reschedule_count == 3
    assert (await actors_of(booking_id))[-1] == ("rescheduled", "account", "acc_1")
    assert (await bookings.get_booking(other_id)).start == datetime.fromisoformat("2026-11-24T11:00:00+01:00")


async def test_a_customer_can_never_act_under_staff_rules(client, clock, config):
    booking_id, _ = await book(client)

    with pytest.raises(PermissionError):
        await bookings.cancel_booking(booking_id, reason=None, actor=Actor.customer("api"),
                                      rules=Rules.STAFF, now=clock(), config=config)
    assert not (await bookings.get_booking(booking_id)).cancelled


async def test_a_change_without_notice_is_recorded_but_sends_nothing(client, clock, config):
    booking_id, _ = await book(client)
    queued = await OutboxMessage.count().where(OutboxMessage.booking == booking_id)

    await bookings.cancel_booking(booking_id, reason="agreed on the phone", actor=OWNER,
                                  rules=Rules.STAFF, now=clock(), config=config, notify=False)

    assert await OutboxMessage.count().where(
        (OutboxMessage.booking == booking_id) & (OutboxMessage.event == "cancelled")) == 0
    assert await OutboxMessage.count().where(OutboxMessage.booking == booking_id) == queued
    # Reminders for a cancelled booking are dropped all the same.
    assert await OutboxMessage.count().where(
        (OutboxMessage.booking == booking_id) & (OutboxMessage.event == "reminder")
        & (OutboxMessage.status == "queued")) == 0
    assert (await actors_of(booking_id))[-1] == ("cancelled", "account", "acc_1")


async def test_one_idempotency_key_means_one_write_per_target_and_action(client):
    headers = {"Idempotency-Key": "same-key"}
    first = await client.post(f"{BASE}/bookings", headers=headers, json={
        "service": "quick", "start": NINE, "customer": {"name": "Erika", "email": "erika@example.com"}})
    token = first.json()["manage_url"].rsplit("/", 1)[1]
    # The same key for another write (cancelling) is another scope: it cancels.
    cancel = await client.post(f"/api/v1/manage/{token}/cancel", headers=headers, json={})
    again = await client.post(f"/api/v1/manage/{token}/cancel", headers=headers, json={})
    other = await client.post(f"/api/v1/manage/{token}/cancel", headers=headers, json={"reason": "x"})

    assert (first.status_code, cancel.status_code, again.status_code) == (201, 200, 200)
    assert cancel.json()["booking"]["status"] == "cancelled"
    assert other.status_code == 422  # the same key with another body
