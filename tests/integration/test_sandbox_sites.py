"""Sandbox sites: their messages never reach a provider, and their keys are sw_test_ keys that work there only."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from slotwise.adapters.smtp import SmtpMailer
from slotwise.adapters.twilio_sms import TwilioTexter
from slotwise.domain.access import Scope
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import DeliveryAttempt, OutboxMessage
from slotwise.services import keys
from slotwise.services.delivery import Deliverer
from slotwise.services.sites import apply_site
from slotwise.web.app import create_app

from tests.support.config import SECRET_KEY
from tests.support.fake_twilio import FakeTwilio
from tests.support.sitefiles import TEST_SITE, parse_test_site
from tests.support.smtp import SmtpServer

APPLIER = Actor.system("tests")
ADMIN = "/api/v1/admin/sites"
LIVE = TEST_SITE.replace('contact_phone = "+49 40 1111111"', 'contact_phone = "+49 40 1111111"\nsms_enabled = true')
SANDBOX = LIVE.replace('slug = "test-physio"', 'slug = "test-sandbox"').replace(
    'sms_enabled = true', 'sms_enabled = true\nsandbox = true')
SID, TOKEN = "AC" + "2" * 32, "test-token"


@pytest.fixture(autouse=True)
async def sites(clock) -> None:
    await apply_site(parse_test_site(LIVE), actor=APPLIER, now=clock())
    await apply_site(parse_test_site(SANDBOX), actor=APPLIER, now=clock())


async def book(client, site: str, email: str, phone: str | None = None) -> dict:
    customer = {"name": "Erika Muster", "email": email, **({"phone": phone} if phone else {})}
    response = await client.post(f"/api/v1/sites/{site}/bookings", json={
        "service": "quick", "start": "2026-11-24T09:00:00+01:00", "customer": customer})
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_sandbox_bookings_email_and_sms_never_reach_the_providers_while_a_live_sites_do(client, clock):
    with SmtpServer() as smtp:
        async with FakeTwilio() as twilio:
            texter = TwilioTexter(SID, TOKEN, api_base=twilio.base_url)
            deliverer = Deliverer(secret_key=SECRET_KEY, email=SmtpMailer(smtp.url), sms=texter, clock=clock,
                                  jitter=lambda: 0.0)
            await book(client, "test-sandbox", "sandbox@example.com", "+4915100000001")
            await book(client, "test-physio", "live@example.com", "+4915100000002")

            await deliverer.deliver_due(limit=50)
            await texter.aclose()

            smtp.inbox.wait_for(lambda m: m["To"] == "live@example.com")
            assert [m["To"] for m in smtp.inbox.messages] == ["live@example.com"]
            assert [m.to for m in twilio.messages] == ["+4915100000002"]

    rows = await OutboxMessage.select(OutboxMessage.recipient, OutboxMessage.status, OutboxMessage.sandbox).where(
        OutboxMessage.event == "confirmed")
    by_recipient = {row["recipient"]: (row["status"], row["sandbox"]) for row in rows}
    assert by_recipient == {"sandbox@example.com": ("sandboxed", True), "+4915100000001": ("sandboxed", True),
                            "live@example.com": ("sent", False), "+4915100000002": ("sent", False)}
    assert await DeliveryAttempt.count().where(DeliveryAttempt.outcome == "sandboxed") == 2


async def test_the_booking_detail_shows_a_sandbox_message_as_kept(client, clock):
    key = (await keys.create_key("test-sandbox", name="Detail", scopes=[Scope.BOOKINGS_READ], expires_at=None,
                                 actor=APPLIER, now=clock())).secret
    await book(client, "test-sandbox", "detail@example.com")
    await Deliverer(secret_key=SECRET_KEY, email=SmtpMailer("smtp://127.0.0.1:9?timeout=1"),
                    sms=TwilioTexter(SID, TOKEN), clock=clock).deliver_due()
    auth = {"Authorization": f"Bearer {key}"}
    [listed] = (await client.get(f"{ADMIN}/test-sandbox/bookings", headers=auth)).json()["data"]
    detail = (await client.get(f"{ADMIN}/test-sandbox/bookings/{listed['id']}", headers=auth)).json()
    [message] = [m for m in detail["messages"] if m["event"] == "confirmed"]
    assert (message["status"], message["sandbox"], message["last_error"]) == ("sandboxed", True, None)


async def test_a_message_queued_on_a_sandbox_stays_kept_after_the_site_goes_live(client, clock):
    await book(client, "test-sandbox", "early@example.com")
    await apply_site(parse_test_site(SANDBOX.replace("sandbox = true", "")), actor=APPLIER, now=clock())
    with SmtpServer() as smtp:
        deliverer = Deliverer(secret_key=SECRET_KEY, email=SmtpMailer(smtp.url), sms=TwilioTexter(SID, TOKEN),
                              clock=clock, jitter=lambda: 0.0)
        await deliverer.deliver_due(limit=50)
        assert smtp.inbox.messages == []
    statuses = await OutboxMessage.select(OutboxMessage.status).where(OutboxMessage.event == "confirmed")
    assert [row["status"] for row in statuses] == ["sandboxed"]


async def test_sandbox_messages_show_in_the_development_outbox_marked_as_such(clock, settings, database):
    app = create_app(replace(settings, dev_outbox=True, smtp_url="smtp://127.0.0.1:9"), database=database,
                     clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as http:
        await book(http, "test-sandbox", "kept@example.com")
        await Deliverer(secret_key=SECRET_KEY, email=SmtpMailer("smtp://127.0.0.1:9?timeout=1"),
                        sms=TwilioTexter(SID, TOKEN), clock=clock).deliver_due()
        page = await http.get("/dev/messages/")
    assert page.status_code == 200
    assert "kept@example.com" in page.text and 'data-testid="sandbox"' in page.text
    assert "sandboxed" in page.text


async def test_a_sandbox_sites_keys_are_test_keys_and_stop_working_when_it_goes_live(client, clock):
    test_key = (await keys.create_key("test-sandbox", name="Tests", scopes=[Scope.BOOKINGS_READ],
                                      expires_at=None, actor=APPLIER, now=clock())).secret
    live_key = (await keys.create_key("test-physio", name="Live", scopes=[Scope.BOOKINGS_READ],
                                      expires_at=None, actor=APPLIER, now=clock())).secret
    assert test_key.startswith("sw_test_") and live_key.startswith("sw_live_")
    auth = {"Authorization": f"Bearer {test_key}"}
    assert (await client.get(f"{ADMIN}/test-sandbox/bookings", headers=auth)).status_code == 200
    assert (await client.get(f"{ADMIN}/test-physio/bookings", headers=auth)).status_code == 404

    await apply_site(parse_test_site(SANDBOX.replace("sandbox = true", "")), actor=APPLIER, now=clock())

    refused = await client.get(f"{ADMIN}/test-sandbox/bookings", headers=auth)
    assert refused.status_code == 404, refused.text
    assert (await client.get(f"{ADMIN}/test-physio/bookings",
                             headers={"Authorization": f"Bearer {live_key}"})).status_code == 200


def test_the_key_command_prints_a_test_key_for_a_sandbox_site(slotwise, clock):
    created = slotwise("key", "create", "--site", "test-sandbox", "--name", "CI", "--scopes", "bookings:read")
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().splitlines()[-1].startswith("sw_test_")


async def test_sandbox_survives_the_site_documents_round_trip(client, clock):
    key = (await keys.create_key("test-sandbox", name="Doc", scopes=[Scope.CATALOG_READ, Scope.CATALOG_WRITE],
                                 expires_at=None, actor=APPLIER, now=clock())).secret
    auth = {"Authorization": f"Bearer {key}"}
    document = await client.get(f"{ADMIN}/test-sandbox/", headers=auth)
    assert document.json()["site"]["sandbox"] is True
    toml = await client.get(f"{ADMIN}/test-sandbox/", headers={**auth, "Accept": "application/toml"})
    assert "sandbox = true" in toml.text
    put = await client.put(f"{ADMIN}/test-sandbox/", json=document.json(),
                           headers={**auth, "If-Match": document.headers["etag"]})
    assert put.status_code == 200, put.text
    assert put.json()["changed"] is False
