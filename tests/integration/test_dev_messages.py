"""The development outbox page: the demo's messages without any provider account."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from slotwise.adapters.dev_outbox import DevEmailSender, DevSmsSender
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import OutboxMessage
from slotwise.services.delivery import Deliverer
from slotwise.services.sites import apply_site
from slotwise.web.app import create_app

from tests.support.config import SECRET_KEY
from tests.support.sitefiles import parse_test_site

APPLIER = Actor.system("tests")


@pytest.fixture
async def dev_client(clock, schema, settings, database):
    await apply_site(parse_test_site(), actor=APPLIER, now=clock())
    app = create_app(replace(settings, dev_outbox=True), database=database, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver.local") as http:
        yield http


async def test_a_booking_shows_up_in_the_development_outbox_with_its_manage_link(dev_client, clock):
    booked = await dev_client.post("/api/v1/sites/test-physio/bookings", json={
        "service": "quick", "start": "2026-11-24T09:00:00+01:00",
        "customer": {"name": "<script>alert(1)</script> Erika", "email": "erika@example.com"}})
    assert booked.status_code == 201
    await Deliverer(secret_key=SECRET_KEY, email=DevEmailSender(), sms=DevSmsSender(), clock=clock).deliver_due()

    page = await dev_client.get("/dev/messages/")

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    # Its stylesheet may load (and nothing from elsewhere, and no inline script).
    csp = page.headers["content-security-policy"]
    assert "style-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert f'href="{booked.json()["manage_url"]}"' in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "sent" in page.text


async def test_the_html_version_of_an_email_is_sandboxed(dev_client):
    await dev_client.post("/api/v1/sites/test-physio/bookings", json={
        "service": "quick", "start": "2026-11-24T09:00:00+01:00",
        "customer": {"name": "Erika", "email": "erika@example.com"}})
    row = await OutboxMessage.select().where(OutboxMessage.event == "confirmed").first()

    response = await dev_client.get(f"/dev/messages/{row['uid']}/html")

    assert response.status_code == 200
    assert "sandbox" in response.headers["content-security-policy"]
    assert "script-src" not in response.headers["content-security-policy"]


async def test_the_development_outbox_is_absent_unless_enabled(client):
    assert (await client.get("/dev/messages/")).status_code == 404
