"""The people running a site hear of customers' changes in a note of their own, never with the customer's link;
a staff member also hears of what others on the site's side do to their bookings."""

from __future__ import annotations

import pytest
from slotwise.adapters.dev_outbox import DevSmsSender
from slotwise.adapters.smtp import SmtpMailer
from slotwise.domain.access import Role, Scope
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import Booking, OutboxMessage
from slotwise.services import accounts, keys
from slotwise.services import bookings as booking_service
from slotwise.services.config import ServiceConfig
from slotwise.services.delivery import Deliverer, email_from_json
from slotwise.services.sites import apply_site
from slotwise.services.tokens import MANAGE_TOKEN_PLACEHOLDER

from tests.support.config import SECRET_KEY
from tests.support.sitefiles import TEST_SITE, parse_test_site
from tests.support.smtp import SmtpServer

APPLIER = Actor.system("tests")
TEAM_SITE = TEST_SITE.replace(
    'contact_phone = "+49 40 1111111"',
    'contact_phone = "+49 40 1111111"\nnotify_email = "team@test-physio.example"',
).replace('locale = "en"', 'locale = "de"').replace(
    'price = "25.00 EUR"\nresources = ["anna"]',
    'price = "25.00 EUR"\nresources = ["anna"]\n'
    'questions = [{ key = "reason", label = "Grund des Besuchs", type = "text" }]')
BASE = "/api/v1/sites/test-physio"
XSS = "<b>Erika</b>"


@pytest.fixture(autouse=True)
async def site(clock) -> None:
    await apply_site(parse_test_site(TEAM_SITE), actor=APPLIER, now=clock())


async def book(client, name: str = XSS) -> dict:
    response = await client.post(f"{BASE}/bookings", json={
        "service": "quick", "start": "2026-11-24T09:00:00+01:00", "locale": "en",
        "customer": {"name": name, "email": "erika@example.com", "phone": "+49 170 1234567"}})
    assert response.status_code == 201, response.text
    return response.json()


async def notes() -> list[dict]:
    return await (OutboxMessage.select().where(OutboxMessage.event.like("staff-%"))
                  .order_by(OutboxMessage.id).output(load_json=True))


async def test_a_customers_booking_is_noted_to_the_team_in_the_sites_language_with_a_back_office_link(client):
    booked = await book(client)

    [note] = await notes()
    email = email_from_json(note["content"])
    assert (note["event"], note["recipient"]) == ("staff-confirmed", "team@test-physio.example")
    assert email.subject.startswith("Neue Buchung: Quick check")
    assert email.reply_to == "erika@example.com"
    assert "+4917012345" in email.text and "erika@example.com" in email.text
    booking_id = "bkg_" + booked["id"].replace("-", "")
    assert f"http://testserver.local/admin/sites/test-physio/bookings/{booking_id}" in email.text
    # Never the customer's manage link, not even its placeholder.
    for part in (email.subject, email.text, email.html):
        assert "/manage/" not in part and MANAGE_TOKEN_PLACEHOLDER not in part
    assert XSS not in email.html and "&lt;b&gt;Erika&lt;/b&gt;" in email.html


async def test_the_staff_member_of_the_booked_person_is_told_too(client, clock, settings):
    await accounts.add_member("anna@test-physio.example", site_slug="test-physio", role=Role.STAFF,
                              resource="anna", actor=APPLIER, now=clock(),
                              config=ServiceConfig.from_settings(settings), send_invitation=False)
    await book(client, name="Erika")

    assert sorted(n["recipient"] for n in await notes()) == ["anna@test-physio.example", "team@test-physio.example"]


async def test_a_cancel_by_the_customer_is_noted_with_its_reason_one_by_staff_is_not(client, clock):
    booked = await book(client, name="Erika")
    token = booked["manage_url"].rsplit("/", 1)[1]
    assert (await client.post(f"/api/v1/manage/{token}/cancel", json={"reason": "ill"})).status_code == 200
    cancelled = [n for n in await notes() if n["event"] == "staff-cancelled"]
    assert len(cancelled) == 1 and "ill" in email_from_json(cancelled[0]["content"]).text

    key = await keys.create_key("test-physio", name="Desk", scopes=list(Scope), expires_at=None,
                                actor=APPLIER, now=clock())
    response = await client.post("/api/v1/admin/sites/test-physio/bookings",
                                 headers={"Authorization": f"Bearer {key.secret}"},
                                 json={"service": "quick", "start": "2026-11-24T10:00:00+01:00",
                                       "customer": {"name": "Caller", "email": "caller@example.com"}})
    assert response.status_code == 201
    assert [n["event"] for n in await notes()] == ["staff-confirmed", "staff-cancelled"]


async def add_anna(clock, settings):
    return await accounts.add_member("anna@test-physio.example", site_slug="test-physio", role=Role.STAFF,
                                     resource="anna", actor=APPLIER, now=clock(),
                                     config=ServiceConfig.from_settings(settings), send_invitation=False)


async def test_the_booked_staff_member_receives_the_note_over_smtp_with_what_the_desk_needs(
        client, clock, settings):
    await add_anna(clock, settings)
    response = await client.post(f"{BASE}/bookings", json={
        "service": "quick", "start": "2026-11-24T09:00:00+01:00", "answers": {"reason": "Knie <links>"},
        "customer": {"name": "Erika Muster", "email": "erika@example.com", "phone": "+49 170 1234567"}})
    assert response.status_code == 201, response.text
    booking_id = "bkg_" + response.json()["id"].replace("-", "")

    smtp = SmtpServer().up()
    try:
        deliverer = Deliverer(secret_key=SECRET_KEY, email=SmtpMailer(smtp.url), sms=DevSmsSender(), clock=clock,
                              jitter=lambda: 0.0)
        assert await deliverer.deliver_due() == 3  # the customer's confirmation, the team's note, Anna's
        [note] = smtp.inbox.wait_for(lambda m: m["To"] == "anna@test-physio.example")
        [confirmation] = smtp.inbox.wait_for(lambda m: m["To"] == "erika@example.com")
    finally:
        smtp.down()

    text = note.get_body(("plain",)).get_content()
    html = note.get_body(("html",)).get_content()
    assert note["Subject"].startswith("Neue Buchung: Quick check")
    assert note["Reply-To"] == "erika@example.com"
    for expected in ("Erika Muster", "erika@example.com", "+4917012345", "Grund des Besuchs", "Knie <links>",
                     "Quick check", "Anna Berg", "09:00",
                     f"http://testserver.local/admin/sites/test-physio/bookings/{booking_id}"):
        assert expected in text, expected
    assert "Knie &lt;links&gt;" in html and "Knie <links>" not in html
    # The customer's own email carries the manage link; the staff note never does.
    assert "/manage/" in confirmation.get_body(("plain",)).get_content()
    assert "/manage/" not in text and "/manage/" not in html


async def test_a_booking_a_key_makes_with_a_staff_member_is_noted_to_them_not_to_the_team(
        client, clock, settings):
    await add_anna(clock, settings)
    key = await keys.create_key("test-physio", name="Desk", scopes=list(Scope), expires_at=None,
                                actor=APPLIER, now=clock())
    response = await client.post("/api/v1/admin/sites/test-physio/bookings",
                                 headers={"Authorization": f"Bearer {key.secret}"},
                                 json={"service": "quick", "start": "2026-11-24T10:00:00+01:00", "notify": False,
                                       "customer": {"name": "Caller", "email": "caller@example.com"}})
    assert response.status_code == 201, response.text

    [note] = await notes()
    assert (note["event"], note["recipient"]) == ("staff-confirmed", "anna@test-physio.example")
    assert "Caller" in email_from_json(note["content"]).text


async def test_a_staff_member_is_not_told_of_what_they_did_themselves(client, clock, settings):
    anna = (await add_anna(clock, settings)).account
    await book(client, name="Erika")
    booking_id = (await Booking.select(Booking.id).first())["id"]
    before = len(await notes())

    await booking_service.cancel_booking(booking_id, reason="rescheduled by phone", actor=anna.actor, now=clock(),
                                         config=ServiceConfig.from_settings(settings))

    assert len(await notes()) == before


async def test_a_booking_moved_from_one_person_to_another_is_noted_to_both(client, clock, settings):
    await add_anna(clock, settings)
    await accounts.add_member("ben@test-physio.example", site_slug="test-physio", role=Role.STAFF, resource="ben",
                              actor=APPLIER, now=clock(), config=ServiceConfig.from_settings(settings),
                              send_invitation=False)
    key = await keys.create_key("test-physio", name="Desk", scopes=list(Scope), expires_at=None,
                                actor=APPLIER, now=clock())
    headers = {"Authorization": f"Bearer {key.secret}"}
    booked = await client.post("/api/v1/admin/sites/test-physio/bookings", headers=headers, json={
        "service": "assessment", "start": "2026-11-24T09:00:00+01:00", "resource": "anna", "notify": False,
        "customer": {"name": "Caller", "email": "caller@example.com"}})
    assert booked.status_code == 201, booked.text

    moved = await client.post(f"/api/v1/admin/sites/test-physio/bookings/{booked.json()['id']}/reschedule",
                              headers=headers, json={"start": "2026-11-24T11:00:00+01:00", "resource": "ben",
                                                     "notify": False})

    assert moved.status_code == 200, moved.text
    assert [r["key"] for r in moved.json()["resources"]][0] == "ben"
    assert sorted(n["recipient"] for n in await notes() if n["event"] == "staff-rescheduled") == [
        "anna@test-physio.example", "ben@test-physio.example"]
