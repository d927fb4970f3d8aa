"""Bookings' SMS through the worker and the real twilio SDK, and a real server delivering to local peers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from slotwise.adapters.dev_outbox import DevEmailSender
from slotwise.adapters.twilio_sms import TwilioTexter
from slotwise.clock import system_clock
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import OptOut, OutboxMessage
from slotwise.services.delivery import Deliverer
from slotwise.services.sites import apply_site
from slotwise.sitefile import parse_site

from tests.support.config import SECRET_KEY
from tests.support.fake_twilio import FakeTwilio
from tests.support.servers import ServerProcess, tomorrow_at
from tests.support.sitefiles import TEST_SITE, parse_test_site
from tests.support.smtp import SmtpServer

APPLIER = Actor.system("tests")

BASE = "/api/v1/sites/test-physio"
SID, TOKEN = "AC" + "1" * 32, "test-token"
SMS_SITE = TEST_SITE.replace('contact_phone = "+49 40 1111111"',
                             'contact_phone = "+49 40 1111111"\nsms_enabled = true')
SQUASH_CLUB = Path(__file__).resolve().parents[2] / "examples" / "squash-24-7.toml"
OPTED_OUT, INVALID, THROTTLED = "+4915111111111", "+4915122222222", "+4915133333333"


@pytest.fixture(autouse=True)
async def site(clock) -> None:
    await apply_site(parse_test_site(SMS_SITE), actor=APPLIER, now=clock())


async def book(client, start: str, phone: str, n: int = 0) -> None:
    response = await client.post(f"{BASE}/bookings", json={
        "service": "quick", "start": start,
        "customer": {"name": f"Erika {n}", "email": f"e{n}@example.com", "phone": phone}})
    assert response.status_code == 201, response.text


async def sms_rows(phone: str) -> list[dict]:
    return await OutboxMessage.select().where(
        (OutboxMessage.channel == "sms") & (OutboxMessage.recipient == phone)
        & (OutboxMessage.event == "confirmed"))


async def test_confirmation_sms_reach_twilio_and_each_error_is_handled_as_its_kind(client, clock):
    failures = {OPTED_OUT: (400, 21610), INVALID: (400, 21211), THROTTLED: (429, 20429)}
    async with FakeTwilio(failures=failures) as peer:
        texter = TwilioTexter(SID, TOKEN, api_base=peer.base_url)
        deliverer = Deliverer(secret_key=SECRET_KEY, email=DevEmailSender(), sms=texter, clock=clock, jitter=lambda: 0.0)
        await book(client, "2026-11-24T09:00:00+01:00", "+4915199999999", 0)
        await book(client, "2026-11-24T09:30:00+01:00", OPTED_OUT, 1)
        await book(client, "2026-11-24T10:00:00+01:00", INVALID, 2)
        await book(client, "2026-11-24T10:30:00+01:00", THROTTLED, 3)

        await deliverer.deliver_due(limit=50)

        received = [m for m in peer.messages if m.to == "+4915199999999"]
        assert len(received) == 1 and received[0].account_sid == SID
        assert "/manage/" in received[0].body
        assert [r["status"] for r in await sms_rows(OPTED_OUT)] == ["failed"]
        assert await OptOut.count().where(OptOut.address == OPTED_OUT) == 1
        assert [r["status"] for r in await sms_rows(INVALID)] == ["failed"]
        [throttled] = await sms_rows(THROTTLED)
        assert (throttled["status"], throttled["attempts"]) == ("queued", 1)

        # An opted-out number gets no further SMS: the next one is dropped without a request.
        requests_before = len(peer.requests)
        await book(client, "2026-11-24T11:00:00+01:00", OPTED_OUT, 4)
        await deliverer.deliver_due(limit=50)
        opted = await sms_rows(OPTED_OUT)
        assert [r["status"] for r in opted] == ["failed", "failed"]
        assert all(r.to != OPTED_OUT for r in peer.requests[requests_before:])
        await texter.aclose()


async def test_a_server_process_delivers_to_the_smtp_and_twilio_peers_it_is_pointed_at(
    schema, server_environment
):
    with SmtpServer() as smtp:
        async with FakeTwilio() as peer:
            env = {**server_environment,
                   "SLOTWISE_SMTP_URL": smtp.url,
                   "SLOTWISE_MAIL_FROM": "bookings@night-owl.example",
                   "SLOTWISE_TWILIO_ACCOUNT_SID": SID, "SLOTWISE_TWILIO_AUTH_TOKEN": TOKEN,
                   "SLOTWISE_TWILIO_FROM": "+15005550006", "SLOTWISE_TWILIO_API_BASE": peer.base_url}
            text = SQUASH_CLUB.read_text().replace('locale = "en"', 'locale = "en"\nsms_enabled = true')
            await apply_site(parse_site(text, source="squash-24-7.toml"), actor=APPLIER, now=system_clock())
            with ServerProcess(env) as server:
                async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                    response = await http.post("/api/v1/sites/night-owl-squash/bookings", json={
                        "service": "single", "start": tomorrow_at(12),
                        "customer": {"name": "Nora", "email": "nora@example.com", "phone": "+4915199999999"}})
                    assert response.status_code == 201, response.text
                for _ in range(100):  # the inline worker picks it up within a second or two
                    if smtp.inbox.messages and peer.messages:
                        break
                    await asyncio.sleep(0.1)
        assert [m["To"] for m in smtp.inbox.messages] == ["nora@example.com"]
        assert [m.to for m in peer.messages] == ["+4915199999999"]
        assert peer.messages[0].from_ == "+15005550006"

