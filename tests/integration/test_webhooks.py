"""Webhooks end to end: the admin API, events queued with each change, and the worker sending them
to a real receiver on loopback that checks every signature with the ``standardwebhooks`` verifier.

The app under test allows loopback targets (``SLOTWISE_WEBHOOK_ALLOW_PRIVATE=1`` in the test
settings). The receiver's verifier refuses timestamps more than five minutes from the real
time, so tests set the injected clock to the real time before the worker signs anything; the
retry schedule is then walked by moving that clock, never by sleeping.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from slotwise.adapters.delivery import PermanentDeliveryError
from slotwise.adapters.webhook_sender import WebhookSender
from slotwise.domain.access import Scope
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import OutboxMessage, WebhookDelivery, WebhookEndpoint
from slotwise.services import keys
from slotwise.services.delivery import Deliverer
from slotwise.services.notifications import Messaging
from slotwise.services.sites import apply_site
from slotwise.services.webhook_delivery import WebhookDeliverer
from slotwise.web.app import create_app
from standardwebhooks.webhooks import Webhook

from tests.support.sitefiles import TEST_SITE, parse_test_site
from tests.support.webhook_receiver import Answer, WebhookReceiver

APPLIER = Actor.system("tests")
ADMIN = "/api/v1/admin/sites/test-physio"
NINE, TEN, ELEVEN = "2026-11-24T09:00:00+01:00", "2026-11-24T10:00:00+01:00", "2026-11-24T11:00:00+01:00"
SITE = TEST_SITE.replace('contact_phone = "+49 40 1111111"',
                         'contact_phone = "+49 40 1111111"\nnotify_email = "owner@test-physio.example"')
OTHER_SITE = SITE.replace('slug = "test-physio"', 'slug = "other-studio"').replace(
    'name = "Test Physio"', 'name = "Other Studio"')
BOOKING_EVENTS = ["booking.created", "booking.rescheduled", "booking.cancelled"]


@pytest.fixture(autouse=True)
async def sites(clock) -> None:
    await apply_site(parse_test_site(SITE), actor=APPLIER, now=clock())
    await apply_site(parse_test_site(OTHER_SITE), actor=APPLIER, now=clock())


@pytest.fixture
async def key(clock) -> str:
    created = await keys.create_key("test-physio", name="Integration", scopes=list(Scope), expires_at=None,
                                    actor=APPLIER, now=clock())
    return created.secret


@pytest.fixture
async def receiver():
    async with WebhookReceiver() as peer:
        yield peer


@pytest.fixture
async def worker(settings, clock):
    sender = WebhookSender(allow_private=True)
    yield WebhookDeliverer(sender=sender, clock=clock, secret_key=settings.secret_key,
                           messaging=Messaging.from_settings(settings), jitter=lambda: 0.0)
    await sender.aclose()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def real_time(clock) -> None:
    """Bring the injected clock to the real time, as the receiver's verifier expects."""
    clock.now = datetime.now(UTC)


async def subscribe(client, key: str, receiver: WebhookReceiver, events=BOOKING_EVENTS, path: str = "",
                    **extra) -> dict:
    response = await client.post(f"{ADMIN}/webhooks", headers=bearer(key),
                                 json={"url": receiver.url + path, "events": events, **extra})
    assert response.status_code == 201, response.text
    receiver.secrets.append(response.json()["secret"])
    return response.json()


async def book(client, start: str = NINE, name: str = "Erika Muster", email: str | None = None) -> dict:
    response = await client.post("/api/v1/sites/test-physio/bookings", json={
        "service": "quick", "start": start,
        "customer": {"name": name, "email": email or name.lower().replace(" ", ".") + "@example.com"}})
    assert response.status_code == 201, response.text
    return response.json()


async def admin_booking(client, key: str) -> dict:
    listed = await client.get(f"{ADMIN}/bookings", headers=bearer(key))
    return listed.json()["data"][0]


async def deliveries(client, key: str, endpoint: str) -> list[dict]:
    response = await client.get(f"{ADMIN}/webhooks/{endpoint}/deliveries", headers=bearer(key))
    assert response.status_code == 200, response.text
    return response.json()["data"]


# --- events ------------------------------------------------------------------------------

async def test_created_rescheduled_and_cancelled_arrive_signed_in_order_with_rising_sequence(
        client, clock, key, receiver, worker) -> None:
    await subscribe(client, key, receiver)
    booked = await book(client)
    booking = await admin_booking(client, key)
    moved = await client.post(f"{ADMIN}/bookings/{booking['id']}/reschedule", headers=bearer(key),
                              json={"start": TEN})
    assert moved.status_code == 200, moved.text
    cancelled = await client.post(f"{ADMIN}/bookings/{booking['id']}/cancel", headers=bearer(key),
                                  json={"reason": "ill"})
    assert cancelled.status_code == 200, cancelled.text

    real_time(clock)
    assert await worker.deliver_due() == 3

    assert all(r.verified for r in receiver.received)
    events = receiver.events()
    assert [e["type"] for e in events] == BOOKING_EVENTS
    assert [e["data"]["sequence"] for e in events] == [0, 1, 2]
    assert {e["data"]["id"] for e in events} == {booking["id"]}
    assert len({r.id for r in receiver.received}) == 3
    assert events[1]["data"]["previous"] == {
        "start": NINE, "end": "2026-11-24T09:30:00+01:00",
        "resources": [{"key": "anna", "name": "Anna Berg", "kind": "person"}]}
    assert events[1]["data"]["start"] == TEN and events[2]["data"]["status"] == "cancelled"
    assert events[0]["data"]["start_utc"] == "2026-11-24T08:00:00Z"
    assert events[0]["data"]["site_timezone"] == "Europe/Berlin"
    assert events[0]["data"]["actor"]["kind"] == "customer"
    assert events[2]["data"]["actor"] == {"kind": "api_key", "id": booking_actor_id(events[2]),
                                          "label": "Integration"}
    # The manage link's token is never in a webhook.
    token = booked["manage_url"].rsplit("/", 1)[-1]
    assert all(token not in r.body for r in receiver.received)


def booking_actor_id(event: dict) -> str:
    return event["data"]["history"][-1]["actor"]["id"]


async def test_the_data_is_the_booking_exactly_as_the_admin_api_answers_it(client, clock, key, receiver,
                                                                           worker) -> None:
    await subscribe(client, key, receiver, events=["booking.created"])
    await book(client, name="Zoë <script>alert(1)</script>", email="zoe@example.com")
    booking = await admin_booking(client, key)
    detail = (await client.get(f"{ADMIN}/bookings/{booking['id']}", headers=bearer(key))).json()
    real_time(clock)
    await worker.deliver_due()
    data = receiver.events()[0]["data"]
    added = {"version", "site", "site_timezone", "start_utc", "end_utc", "sequence", "actor"}
    assert {k: v for k, v in data.items() if k not in added} == detail
    assert data["version"] == 1 and data["site"] == "test-physio"


async def test_a_sandbox_sites_event_lists_its_messages_as_the_admin_api_does(client, clock, receiver,
                                                                              worker) -> None:
    # A new booking's messages in the event are the ones its transaction queued, shaped as the
    # outbox reads them back; a sandbox site's are marked so, as GET …/bookings/{id} shows them.
    await apply_site(parse_test_site(SITE.replace('slug = "test-physio"', 'slug = "sandbox-physio"\nsandbox = true')),
                     actor=APPLIER, now=clock())
    created = await keys.create_key("sandbox-physio", name="Integration", scopes=list(Scope), expires_at=None,
                                    actor=APPLIER, now=clock())
    admin = "/api/v1/admin/sites/sandbox-physio"
    subscribed = await client.post(f"{admin}/webhooks", headers=bearer(created.secret),
                                   json={"url": receiver.url, "events": ["booking.created"]})
    assert subscribed.status_code == 201, subscribed.text
    receiver.secrets.append(subscribed.json()["secret"])
    booked = await client.post("/api/v1/sites/sandbox-physio/bookings", json={
        "service": "quick", "start": NINE, "customer": {"name": "Erika Muster", "email": "erika@example.com"}})
    assert booked.status_code == 201, booked.text
    listed = (await client.get(f"{admin}/bookings", headers=bearer(created.secret))).json()["data"]
    detail = (await client.get(f"{admin}/bookings/{listed[0]['id']}", headers=bearer(created.secret))).json()
    real_time(clock)
    await worker.deliver_due()
    messages = receiver.events()[0]["data"]["messages"]
    assert messages == detail["messages"]
    assert len(messages) == 4 and all(m["sandbox"] for m in messages)  # confirmation, team note, 2 reminders


async def test_an_endpoint_gets_only_the_events_it_subscribed_to(client, clock, key, receiver, worker) -> None:
    await subscribe(client, key, receiver, events=["booking.cancelled"])
    await book(client)
    booking = await admin_booking(client, key)
    await client.post(f"{ADMIN}/bookings/{booking['id']}/cancel", headers=bearer(key), json={})
    real_time(clock)
    await worker.deliver_due()
    assert [e["type"] for e in receiver.events()] == ["booking.cancelled"]


async def test_a_booking_with_no_endpoint_queues_nothing(client, key) -> None:
    await book(client)
    assert await WebhookDelivery.count() == 0


async def test_message_failed_is_announced_when_the_outbox_gives_a_message_up(
        client, clock, key, receiver, worker, settings) -> None:
    class RefusingSender:
        async def send(self, message) -> str:
            raise PermanentDeliveryError("550 mailbox unavailable")

    await subscribe(client, key, receiver, events=["message.failed"])
    await book(client)
    booking = await admin_booking(client, key)
    messages = Deliverer(email=RefusingSender(), sms=RefusingSender(), clock=clock, secret_key=settings.secret_key)
    assert await messages.deliver_due() >= 1
    real_time(clock)
    await worker.deliver_due()
    events = receiver.events()
    assert events and {e["type"] for e in events} == {"message.failed"}
    assert events[0]["data"]["booking"] == booking["id"]
    assert "550 mailbox unavailable" in events[0]["data"]["message"]["error"]
    assert all(r.verified for r in receiver.received)


# --- retries -----------------------------------------------------------------------------

async def test_a_500_then_a_200_is_retried_after_five_seconds_with_the_same_id(
        client, clock, key, receiver, worker) -> None:
    endpoint = await subscribe(client, key, receiver)
    receiver.answers.append(Answer(status=500, body=b"database down"))
    await book(client)
    real_time(clock)
    await worker.deliver_due()
    assert await worker.deliver_due() == 0  # not due yet
    clock.advance(timedelta(seconds=4))
    assert await worker.deliver_due() == 0
    clock.advance(timedelta(seconds=1))
    assert await worker.deliver_due() == 1
    first, second = receiver.received
    assert first.id == second.id and first.verified and second.verified
    assert first.body == second.body
    [logged] = await deliveries(client, key, endpoint["id"])
    assert logged["status"] == "succeeded" and logged["webhook_id"] == first.id
    assert [(a["outcome"], a["status"], a["response"]) for a in logged["log"]] == [
        ("failed", 500, "database down"), ("succeeded", 200, "ok")]


async def test_retry_after_is_honoured(client, clock, key, receiver, worker) -> None:
    await subscribe(client, key, receiver)
    receiver.answers.append(Answer(status=503, headers={"Retry-After": "120"}))
    await book(client)
    real_time(clock)
    await worker.deliver_due()
    clock.advance(timedelta(seconds=5))  # the schedule alone would try again now
    assert await worker.deliver_due() == 0
    clock.advance(timedelta(seconds=114))
    assert await worker.deliver_due() == 0
    clock.advance(timedelta(seconds=1))
    assert await worker.deliver_due() == 1
    assert len(receiver.received) == 2 and receiver.received[1].verified


async def test_410_disables_the_endpoint_and_tells_the_owner(client, clock, key, receiver, worker, settings) -> None:
    from slotwise.services import accounts
    from slotwise.services.config import ServiceConfig

    config = ServiceConfig.from_settings(settings)
    for email, role in (("boss@test-physio.example", "owner"), ("mgr@test-physio.example", "manager")):
        await accounts.add_member(email, site_slug="test-physio", role=role, actor=APPLIER, now=clock(),
                                  config=config, send_invitation=False)
    endpoint = await subscribe(client, key, receiver)
    receiver.answers.append(Answer(status=410))
    await book(client)
    booked_at = clock()
    real_time(clock)
    await worker.deliver_due()
    shown = (await client.get(f"{ADMIN}/webhooks/{endpoint['id']}", headers=bearer(key))).json()
    assert shown["enabled"] is False and "410" in shown["disabled_reason"]
    emails = await OutboxMessage.select().where(OutboxMessage.event == "webhook-disabled").output(load_json=True)
    assert sorted(m["recipient"] for m in emails) == ["boss@test-physio.example", "owner@test-physio.example"]
    assert receiver.url in emails[0]["content"]["text"]
    # Nothing more goes to it, not even later: new events wait, paused, until it is enabled again.
    clock.now = booked_at
    await book(client, start=ELEVEN, name="Other Person")
    real_time(clock)
    clock.advance(timedelta(days=1))
    assert await worker.deliver_due() == 0
    enabled = await client.patch(f"{ADMIN}/webhooks/{endpoint['id']}", headers=bearer(key), json={"enabled": True})
    assert enabled.json()["enabled"] is True and enabled.json()["disabled_reason"] is None
    real_time(clock)
    assert await worker.deliver_due() == 1
    assert len(receiver.received) == 2


async def test_an_endpoint_failing_for_the_whole_schedule_is_disabled_and_the_owner_told(
        client, clock, key, receiver, worker) -> None:
    endpoint = await subscribe(client, key, receiver)
    receiver.answers.extend(Answer(status=502) for _ in range(10))
    await book(client)
    real_time(clock)
    for _ in range(12):
        await worker.deliver_due()
        clock.advance(timedelta(hours=25))
    assert len(receiver.received) == 10
    assert len({r.id for r in receiver.received}) == 1
    [logged] = await deliveries(client, key, endpoint["id"])
    assert logged["status"] == "failed" and len(logged["log"]) == 10
    shown = (await client.get(f"{ADMIN}/webhooks/{endpoint['id']}", headers=bearer(key))).json()
    assert shown["enabled"] is False
    assert await OutboxMessage.count().where(OutboxMessage.event == "webhook-disabled") == 1


async def test_the_schedule_waits_as_documented_between_attempts(client, clock, key, receiver, worker) -> None:
    await subscribe(client, key, receiver)
    receiver.answers.extend(Answer(status=500) for _ in range(4))
    await book(client)
    real_time(clock)
    for wait in (timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30)):
        tried = len(receiver.received)
        await worker.deliver_due()
        assert len(receiver.received) == tried + 1
        clock.advance(wait - timedelta(seconds=1))
        assert await worker.deliver_due() == 0
        clock.advance(timedelta(seconds=1))


# --- secrets -----------------------------------------------------------------------------

async def test_the_secret_is_shown_once_and_stored_sealed(client, key, receiver) -> None:
    created = await subscribe(client, key, receiver, description="CRM sync")
    assert created["id"].startswith("whk_") and created["secret"].startswith("whsec_")
    assert set(created) >= {"id", "url", "events", "description", "enabled", "secret"}
    shown = await client.get(f"{ADMIN}/webhooks/{created['id']}", headers=bearer(key))
    listed = await client.get(f"{ADMIN}/webhooks", headers=bearer(key))
    assert "secret" not in shown.json() and "secret" not in listed.json()["data"][0]
    assert created["secret"] not in shown.text + listed.text
    [row] = await WebhookEndpoint.select()
    assert created["secret"] not in json.dumps(row, default=str)
    assert created["secret"].removeprefix("whsec_") not in json.dumps(row, default=str)


async def test_a_repeated_create_with_the_same_idempotency_key_answers_the_same_endpoint(
        client, key, receiver) -> None:
    body = {"url": receiver.url, "events": ["booking.created"]}
    headers = {**bearer(key), "Idempotency-Key": "create-1"}
    first = await client.post(f"{ADMIN}/webhooks", headers=headers, json=body)
    again = await client.post(f"{ADMIN}/webhooks", headers=headers, json=body)
    other = await client.post(f"{ADMIN}/webhooks", headers=headers, json={**body, "events": ["booking.cancelled"]})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert other.status_code == 422
    assert await WebhookEndpoint.count() == 1


async def test_rotation_signs_with_both_secrets_for_a_day_then_only_the_new(
        client, clock, key, receiver, worker) -> None:
    endpoint = await subscribe(client, key, receiver, events=["booking.created"])
    await book(client)
    real_time(clock)
    rotated = await client.post(f"{ADMIN}/webhooks/{endpoint['id']}/rotate-secret", headers=bearer(key))
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != endpoint["secret"]
    assert rotated.json()["rotating_until"] is not None
    receiver.secrets.append(new_secret)
    await worker.deliver_due()
    [both] = receiver.received
    assert both.verified_by == (0, 1)
    assert len(both.headers["webhook-signature"].split(" ")) == 2

    clock.advance(timedelta(hours=24, seconds=1))
    row = (await WebhookDelivery.select().first())
    headers = worker.headers({**row, **await _secrets_of(endpoint["id"])})
    [signature] = headers["webhook-signature"].split(" ")
    at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    assert signature == Webhook(new_secret).sign(headers["webhook-id"], at, row["payload"])


async def _secrets_of(public_id: str) -> dict:
    return await WebhookEndpoint.select(
        WebhookEndpoint.secret_sealed, WebhookEndpoint.previous_secret_sealed,
        WebhookEndpoint.previous_secret_until).where(WebhookEndpoint.public_id == public_id).first()


# --- where it may send -------------------------------------------------------------------

async def test_a_private_target_is_refused_without_the_flag_on_the_url_and_at_send_time(
        client, clock, key, receiver, settings, database) -> None:
    strict = create_app(dataclasses.replace(settings, allow_private_targets=False), database=database, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=strict), base_url="http://t.local") as http:
        refused = await http.post(f"{ADMIN}/webhooks", headers=bearer(key),
                                  json={"url": receiver.url, "events": ["booking.created"]})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["name"] == "url"
    assert "private or loopback" in refused.json()["errors"][0]["detail"]

    # A name is judged on what it resolves to when sending: localhost is 127.0.0.1.
    created = await client.post(f"{ADMIN}/webhooks", headers=bearer(key), json={
        "url": f"http://localhost:{receiver.port}/hooks", "events": ["booking.created"]})
    endpoint = created.json()
    await book(client)
    sender = WebhookSender(allow_private=False)
    try:
        strict_worker = WebhookDeliverer(sender=sender, clock=clock, secret_key=settings.secret_key,
                                         messaging=Messaging.from_settings(settings), jitter=lambda: 0.0)
        await strict_worker.deliver_due()
    finally:
        await sender.aclose()
    assert receiver.received == []
    [logged] = await deliveries(client, key, endpoint["id"])
    assert logged["log"][0]["outcome"] == "refused" and "127.0.0.1" in logged["log"][0]["error"]


async def test_a_url_is_not_resolved_on_creation_only_when_sending(client, clock, key, settings, database) -> None:
    # .invalid never resolves (RFC 2606): creating it works without DNS, even without the flag,
    # as the OpenAPI document's example https://hooks.example.com/slotwise does on the demo site.
    strict = create_app(dataclasses.replace(settings, allow_private_targets=False), database=database, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=strict), base_url="http://t.local") as http:
        created = await http.post(f"{ADMIN}/webhooks", headers=bearer(key),
                                  json={"url": "https://hooks.slotwise.invalid/in", "events": ["booking.created"]})
    assert created.status_code == 201, created.text
    assert created.json()["url"] == "https://hooks.slotwise.invalid/in"


# --- workers -----------------------------------------------------------------------------

async def test_two_workers_claim_each_delivery_once(client, clock, key, receiver, settings) -> None:
    for path in ("/a", "/b", "/c"):
        await subscribe(client, key, receiver, path=path)
    await book(client)
    await book(client, start=TEN, name="Second Person")
    real_time(clock)
    senders = [WebhookSender(allow_private=True) for _ in range(2)]
    workers = [WebhookDeliverer(sender=s, clock=clock, secret_key=settings.secret_key,
                                messaging=Messaging.from_settings(settings)) for s in senders]
    try:
        for _ in range(3):
            await asyncio.gather(*(w.deliver_due() for w in workers))
    finally:
        for sender in senders:
            await sender.aclose()
    sent = [(r.path, r.id) for r in receiver.received]
    assert len(sent) == 6 and len(set(sent)) == 6
    assert await WebhookDelivery.count().where(WebhookDelivery.status == "succeeded") == 6


async def test_a_slow_endpoint_delays_neither_bookings_nor_other_endpoints(
        client, clock, key, settings, worker) -> None:
    async with WebhookReceiver() as slow, WebhookReceiver() as fast:
        await subscribe(client, key, slow, events=["booking.created"])
        await subscribe(client, key, fast, events=["booking.created"])
        slow.answers.extend(Answer(hang=True) for _ in range(5))
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        try:
            await book(client, start=NINE, name="First Person")
            await asyncio.wait_for(slow.arrived.wait(), timeout=10)
            # The slow receiver holds its first event; the booking path and the fast receiver go on.
            await book(client, start=TEN, name="Second Person")
            await book(client, start=ELEVEN, name="Third Person")
            for _ in range(200):
                if len(fast.received) == 3:
                    break
                await asyncio.sleep(0.05)
            assert len(fast.received) == 3
            assert len(slow.received) == 1 and not slow._released.is_set()
        finally:
            slow.release()
            stop.set()
            await asyncio.wait_for(running, timeout=20)


async def test_old_finished_deliveries_are_swept_after_30_days(client, clock, key, receiver, worker) -> None:
    from slotwise.services.webhooks import sweep_log

    await subscribe(client, key, receiver)
    await book(client)
    real_time(clock)
    await worker.deliver_due()
    queued_at = (await WebhookDelivery.select(WebhookDelivery.created_at).first())["created_at"]
    assert await sweep_log(now=queued_at + timedelta(days=29)) == 0
    assert await sweep_log(now=queued_at + timedelta(days=30, seconds=1)) == 1
    assert await WebhookDelivery.count() == 0


# --- the admin API -----------------------------------------------------------------------

async def test_a_test_ping_the_log_and_redelivering_what_failed(client, clock, key, receiver, worker) -> None:
    endpoint = await subscribe(client, key, receiver, events=["booking.created"])
    receiver.answers.append(Answer(status=500, body=b"not yet"))
    ping = await client.post(f"{ADMIN}/webhooks/{endpoint['id']}/test", headers=bearer(key))
    assert ping.status_code == 202, ping.text
    real_time(clock)
    await worker.deliver_due()
    [logged] = await deliveries(client, key, endpoint["id"])
    assert logged["type"] == "webhook.test" and logged["status"] == "failed"  # a ping is tried once
    again = await client.post(f"{ADMIN}/webhooks/{endpoint['id']}/deliveries/retry-failed", headers=bearer(key))
    assert again.json()["queued"] == 1
    await worker.deliver_due()
    [logged] = await deliveries(client, key, endpoint["id"])
    assert logged["status"] == "succeeded" and [a["status"] for a in logged["log"]] == [500, 200]
    assert [e["type"] for e in receiver.events()] == ["webhook.test", "webhook.test"]
    assert receiver.received[0].id == receiver.received[1].id and receiver.received[1].verified

    one = await client.post(f"{ADMIN}/webhooks/{endpoint['id']}/deliveries/{logged['id']}/retry",
                            headers=bearer(key))
    assert one.status_code == 202
    await worker.deliver_due()
    assert len(receiver.received) == 3
    missing = await client.post(f"{ADMIN}/webhooks/{endpoint['id']}/deliveries/whd_nope/retry",
                                headers=bearer(key))
    assert missing.status_code == 404


async def test_patch_and_delete_honour_if_match(client, key, receiver) -> None:
    endpoint = await subscribe(client, key, receiver)
    shown = await client.get(f"{ADMIN}/webhooks/{endpoint['id']}", headers=bearer(key))
    etag = shown.headers["etag"]
    changed = await client.patch(f"{ADMIN}/webhooks/{endpoint['id']}", headers={**bearer(key), "If-Match": etag},
                                 json={"events": ["booking.cancelled"], "description": "only cancels"})
    assert changed.status_code == 200 and changed.json()["events"] == ["booking.cancelled"]
    stale = await client.patch(f"{ADMIN}/webhooks/{endpoint['id']}", headers={**bearer(key), "If-Match": etag},
                               json={"enabled": False})
    assert stale.status_code == 412
    gone = await client.delete(f"{ADMIN}/webhooks/{endpoint['id']}",
                               headers={**bearer(key), "If-Match": changed.headers["etag"]})
    assert gone.status_code == 204
    assert (await client.get(f"{ADMIN}/webhooks/{endpoint['id']}", headers=bearer(key))).status_code == 404


async def test_bad_bodies_answer_422_per_field(client, key) -> None:
    response = await client.post(f"{ADMIN}/webhooks", headers=bearer(key), json={
        "url": "ftp://example.com/x", "events": ["booking.created", "booking.exploded"], "colour": "red"})
    assert response.status_code == 422
    assert {e["name"] for e in response.json()["errors"]} == {"url", "events[1]", "colour"}
    empty = await client.post(f"{ADMIN}/webhooks", headers=bearer(key), json={})
    assert {e["name"] for e in empty.json()["errors"]} == {"url", "events"}


async def test_webhooks_need_their_scope_and_another_sites_are_not_found(client, clock, key, receiver) -> None:
    endpoint = await subscribe(client, key, receiver)
    reader = await keys.create_key("test-physio", name="Reader", scopes=[Scope.BOOKINGS_READ, Scope.CATALOG_WRITE],
                                   expires_at=None, actor=APPLIER, now=clock())
    other = await keys.create_key("other-studio", name="Other", scopes=list(Scope), expires_at=None,
                                  actor=APPLIER, now=clock())
    assert (await client.get(f"{ADMIN}/webhooks", headers=bearer(reader.secret))).status_code == 403
    assert (await client.post(f"{ADMIN}/webhooks/{endpoint['id']}/test",
                              headers=bearer(reader.secret))).status_code == 403
    assert (await client.get(f"{ADMIN}/webhooks", headers=bearer(other.secret))).status_code == 404
    assert (await client.get(f"/api/v1/admin/sites/other-studio/webhooks/{endpoint['id']}",
                             headers=bearer(other.secret))).status_code == 404


async def test_erasing_a_customer_removes_the_webhook_deliveries_that_name_them(
        client, clock, key, receiver, worker) -> None:
    endpoint = await subscribe(client, key, receiver)
    await book(client, name="Erika Quastenflosser", email="erika.q@example.com")
    booking = await admin_booking(client, key)
    await client.post(f"{ADMIN}/bookings/{booking['id']}/cancel", headers=bearer(key), json={})
    await book(client, start=TEN, name="Kept Person")
    real_time(clock)
    await worker.deliver_due()  # two logged for the erased customer, one for the other
    erased = await client.delete(f"{ADMIN}/customers/erika.q@example.com", headers=bearer(key))
    assert erased.status_code == 200, erased.text
    logged = await deliveries(client, key, endpoint["id"])
    assert len(logged) == 1
    rows = await WebhookDelivery.select(WebhookDelivery.payload)
    assert len(rows) == 1 and "Quastenflosser" not in rows[0]["payload"] and "Kept Person" in rows[0]["payload"]


async def test_two_slotwise_worker_processes_deliver_each_event_to_each_endpoint_once(
        client, key, receiver, server_environment) -> None:
    import os
    import subprocess
    import sys

    for path in ("/a", "/b", "/c"):
        await subscribe(client, key, receiver, events=["booking.created"], path=path)
    starts = [f"2026-11-{day}T{hour:02d}:{minute:02d}:00+01:00"
              for day in (24, 25) for hour in (9, 10, 11) for minute in (0, 30)][:10]
    for index, start in enumerate(starts):
        await book(client, start=start, name=f"Person {index}", email=f"p{index}@example.com")
    assert await WebhookDelivery.count() == 30
    workers = [subprocess.Popen([sys.executable, "-m", "slotwise.cli", "worker"],
                                env={**os.environ, **server_environment},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        for _ in range(600):
            if await WebhookDelivery.count().where(WebhookDelivery.status == "succeeded") == 30:
                break
            await asyncio.sleep(0.1)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            await asyncio.to_thread(worker.wait, 30)
    sent = [(r.path, r.id) for r in receiver.received]
    assert len(sent) == 30 and len(set(sent)) == 30
    assert all(r.verified for r in receiver.received)


@pytest.mark.parametrize("body", [
    [], "url", 5, None, {"url": ["http://x.example"], "events": "booking.created"},
    {"url": "http://x.example/\x00", "events": ["booking.created"]},
    {"url": "http://[::1", "events": ["booking.created"]},
    {"url": "https://hooks.example/" + "a" * 5000, "events": ["booking.created"]},
    {"url": "https://hooks.example/", "events": [{"a": 1}, None, 3]},
    {"url": "https://hooks.example/", "events": ["booking.created"], "description": "x" * 501},
    {"url": "https://hooks.example/", "events": ["booking.created"], "description": {"deep": [[[]]]}},
    {"url": "https://hooks.example/", "events": ["booking.created"], "description": "nul \x00 byte"},
])
async def test_odd_bodies_are_input_errors_never_500(client, key, body) -> None:
    response = await client.post(f"{ADMIN}/webhooks", headers=bearer(key), json=body)
    assert 400 <= response.status_code < 500, response.text
    patched = await client.patch(f"{ADMIN}/webhooks/whk_0", headers=bearer(key), json=body)
    assert 400 <= patched.status_code < 500, patched.text


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "201"}, {"limit": "x"}, {"cursor": "-1"},
                                    {"cursor": "9" * 40}])
async def test_bad_log_paging_is_a_422(client, key, receiver, params) -> None:
    endpoint = await subscribe(client, key, receiver)
    response = await client.get(f"{ADMIN}/webhooks/{endpoint['id']}/deliveries", headers=bearer(key), params=params)
    assert response.status_code == 422, response.text


async def test_a_test_ping_reaches_a_disabled_endpoint_so_it_can_be_checked_before_enabling(
        client, clock, key, receiver, worker) -> None:
    endpoint = await subscribe(client, key, receiver)
    await client.patch(f"{ADMIN}/webhooks/{endpoint['id']}", headers=bearer(key), json={"enabled": False})
    await book(client)
    await client.post(f"{ADMIN}/webhooks/{endpoint['id']}/test", headers=bearer(key))
    real_time(clock)
    assert await worker.deliver_due() == 1
    assert [e["type"] for e in receiver.events()] == ["webhook.test"]
    statuses = sorted(d["status"] for d in await deliveries(client, key, endpoint["id"]))
    assert statuses == ["paused", "succeeded"]


async def test_after_a_410_the_rest_of_the_round_is_not_sent_but_kept_paused(client, clock, key, receiver,
                                                                              worker) -> None:
    endpoint = await subscribe(client, key, receiver, events=["booking.created"])
    receiver.answers.append(Answer(status=410))
    await book(client)
    await book(client, start=TEN, name="Second Person")
    real_time(clock)
    assert await worker.deliver_due() == 2
    assert len(receiver.received) == 1
    statuses = sorted(d["status"] for d in await deliveries(client, key, endpoint["id"]))
    assert statuses == ["failed", "paused"]


async def test_a_secret_sealed_under_another_key_fails_the_attempt_and_says_why(
        client, clock, key, receiver, settings) -> None:
    endpoint = await subscribe(client, key, receiver, events=["booking.created"])
    await book(client)
    real_time(clock)
    sender = WebhookSender(allow_private=True)
    try:
        other_key = WebhookDeliverer(sender=sender, clock=clock, secret_key=settings.secret_key + "-changed",
                                     messaging=Messaging.from_settings(settings), jitter=lambda: 0.0)
        assert await other_key.deliver_due() == 1
    finally:
        await sender.aclose()
    assert receiver.received == []
    [logged] = await deliveries(client, key, endpoint["id"])
    assert logged["status"] == "queued" and "rotate its secret" in logged["log"][0]["error"]
