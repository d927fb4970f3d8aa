"""The outbox: messages queued with the booking, delivered by the worker to a real SMTP server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar
from slotwise.adapters.dev_outbox import DevSmsSender
from slotwise.adapters.smtp import SmtpMailer
from slotwise.domain.actors import Actor
from slotwise.persistence import outbox
from slotwise.persistence.tables import Booking, DeliveryAttempt, OutboxMessage
from slotwise.services.delivery import Deliverer
from slotwise.services.sites import apply_site

from tests.support.config import SECRET_KEY
from tests.support.servers import free_port
from tests.support.sitefiles import TEST_SITE, parse_test_site
from tests.support.smtp import SmtpServer

APPLIER = Actor.system("tests")

BASE = "/api/v1/sites/test-physio"
NOTIFY_SITE = TEST_SITE.replace(
    'contact_phone = "+49 40 1111111"',
    'contact_phone = "+49 40 1111111"\ncontact_email = "praxis@test-physio.example"',
)


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.up()
    yield server
    server.down()


@pytest.fixture(autouse=True)
async def site(clock) -> None:
    await apply_site(parse_test_site(NOTIFY_SITE), actor=APPLIER, now=clock())


@pytest.fixture
def deliverer(smtp, clock) -> Deliverer:
    return Deliverer(secret_key=SECRET_KEY, email=SmtpMailer(smtp.url), sms=DevSmsSender(), clock=clock, jitter=lambda: 0.0)


def booking_body(start: str, n: int = 0) -> dict:
    return {"service": "quick", "start": start,
            "customer": {"name": f"Erika {n}", "email": f"erika{n}@example.com"}}


async def book(client, start: str = "2026-11-24T09:00:00+01:00", n: int = 0) -> dict:
    response = await client.post(f"{BASE}/bookings", json=booking_body(start, n))
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_booking_queues_its_confirmation_and_both_reminders_in_its_transaction(client):
    booking = await book(client)

    rows = await OutboxMessage.select().order_by(OutboxMessage.send_at)
    assert [(r["event"], r["channel"], r["status"]) for r in rows] == [
        ("confirmed", "email", "queued"), ("reminder", "email", "queued"), ("reminder", "email", "queued")]
    # Tuesday 09:00 Berlin = 08:00 UTC: reminders 24 h and 2 h before.
    assert [r["send_at"] for r in rows[1:]] == [datetime(2026, 11, 23, 8, tzinfo=UTC),
                                                datetime(2026, 11, 24, 6, tzinfo=UTC)]
    assert all(r["recipient"] == "erika0@example.com" for r in rows)
    assert {r["booking"] for r in rows} == {(await Booking.select(Booking.id).first())["id"]}
    assert booking["id"]


async def test_a_reminder_whose_time_has_passed_is_skipped(client, clock):
    # Booked at 08:00 for 09:30 the same morning: inside both reminder windows.
    clock.now = datetime(2026, 11, 24, 6, 30, tzinfo=UTC)
    await book(client, "2026-11-24T09:30:00+01:00")

    assert [r["event"] for r in await OutboxMessage.select(OutboxMessage.event)] == ["confirmed"]


async def test_the_worker_delivers_the_confirmation_to_a_real_smtp_server(client, deliverer, smtp):
    booking = await book(client)

    assert await deliverer.deliver_due() == 1

    [received] = smtp.inbox.messages
    assert received["To"] == "erika0@example.com"
    assert "Test Physio" in received["From"]
    assert booking["manage_url"] in received.get_body(("plain",)).get_content()
    assert booking["manage_url"] in received.get_body(("html",)).get_content()
    [ics] = [part for part in received.iter_attachments() if part.get_content_type() == "text/calendar"]
    event = Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")[0]
    assert str(event["URL"]) == booking["manage_url"]
    assert booking["manage_url"] in str(event["DESCRIPTION"])
    row = await OutboxMessage.select().where(OutboxMessage.event == "confirmed").first()
    assert row["status"] == "sent"
    assert row["provider_id"] == received["Message-ID"]
    assert await DeliveryAttempt.count().where(DeliveryAttempt.outcome == "sent") == 1


async def test_reminders_go_out_when_their_time_comes(client, deliverer, smtp, clock):
    await book(client)
    await deliverer.deliver_due()

    clock.now = datetime(2026, 11, 23, 8, 0, 1, tzinfo=UTC)
    assert await deliverer.deliver_due() == 1
    clock.now = datetime(2026, 11, 24, 6, 0, 1, tzinfo=UTC)
    assert await deliverer.deliver_due() == 1
    assert len(smtp.inbox.messages) == 3


async def test_a_hundred_bookings_succeed_while_smtp_is_down_and_each_email_arrives_once_later(
    client, deliverer, smtp, clock
):
    smtp.down()
    first = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    count = 0
    day = first
    while count < 100:  # 30-minute starts over the day; those outside Anna's hours answer 409
        for slot in range(0, 14 * 60, 30):
            start = day + timedelta(hours=8, minutes=slot)
            response = await client.post(f"{BASE}/bookings", json=booking_body(start.isoformat(), count))
            if response.status_code == 201:
                count += 1
            if count == 100:
                break
        day += timedelta(days=1)
    assert count == 100

    while await deliverer.deliver_due(limit=100):
        pass  # every confirmation fails once: connection refused
    queued = await OutboxMessage.select().where(OutboxMessage.event == "confirmed")
    assert {(r["status"], r["attempts"]) for r in queued} == {("queued", 1)}

    smtp.up()
    clock.advance(timedelta(seconds=31))
    while await deliverer.deliver_due(limit=100):
        pass

    confirmations = [m for m in smtp.inbox.messages if "erika" in m["To"]]
    ids = [m["Message-ID"] for m in confirmations]
    assert len(ids) == 100
    assert len(set(ids)) == 100


async def test_a_message_left_sending_by_a_crashed_worker_is_sent_once_after_its_lease(
    client, deliverer, smtp, clock
):
    await book(client)
    claimed = await outbox.claim_due(now=clock(), lease=timedelta(minutes=2), limit=10)
    assert len(claimed) == 1  # ... and then the worker dies without sending

    assert await deliverer.deliver_due() == 0  # still leased
    clock.advance(timedelta(minutes=2, seconds=1))
    assert await deliverer.deliver_due() == 1
    assert len(smtp.inbox.messages) == 1


async def test_two_workers_at_once_send_each_message_once(client, smtp, clock):
    for n, start in enumerate(["2026-11-24T09:00:00+01:00", "2026-11-24T10:00:00+01:00",
                               "2026-11-24T11:00:00+01:00", "2026-11-24T13:00:00+01:00"]):
        await book(client, start, n)
    workers = [Deliverer(secret_key=SECRET_KEY, email=SmtpMailer(smtp.url), sms=DevSmsSender(), clock=clock) for _ in range(2)]

    await asyncio.gather(*(w.deliver_due(limit=1) for w in workers for _ in range(3)))
    while await workers[0].deliver_due():
        pass

    ids = [m["Message-ID"] for m in smtp.inbox.messages]
    assert len(ids) == 4 == len(set(ids))


async def test_a_permanent_refusal_fails_the_message_at_once(client, clock):
    class Refusing:
        """An SMTP server that refuses every recipient with 550."""

        async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
            return "550 No such user"

    port = free_port()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        await book(client)
        deliverer = Deliverer(secret_key=SECRET_KEY, email=SmtpMailer(f"smtp://127.0.0.1:{port}"), sms=DevSmsSender(), clock=clock)
        await deliverer.deliver_due()
    finally:
        controller.stop()

    row = await OutboxMessage.select().where(OutboxMessage.event == "confirmed").first()
    assert row["status"] == "failed"
    assert "550" in row["last_error"]
    assert await DeliveryAttempt.count().where(DeliveryAttempt.outcome == "permanent") == 1
