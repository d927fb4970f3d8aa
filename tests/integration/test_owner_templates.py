"""A site's own message templates reach the queued messages."""

from __future__ import annotations

from slotwise.domain.actors import Actor
from slotwise.persistence.tables import OutboxMessage
from slotwise.services.delivery import email_from_json, sms_from_json
from slotwise.services.sites import apply_site
from slotwise.services.tokens import MANAGE_TOKEN_PLACEHOLDER

from tests.support.sitefiles import TEST_SITE, parse_test_site

APPLIER = Actor.system("tests")

OWNER_SITE = TEST_SITE.replace(
    'contact_phone = "+49 40 1111111"', 'contact_phone = "+49 40 1111111"\nsms_enabled = true'
) + """
[templates.email]
"confirmed.subject.txt" = "See you soon, {{ customer.name }}"

[templates.sms]
"confirmed.en" = "Booked at {{ place }}: {{ when }}. Manage: {{ manage_url }}"
"""


async def test_owner_templates_render_into_the_queued_confirmation(client, clock):
    await apply_site(parse_test_site(OWNER_SITE), actor=APPLIER, now=clock())

    response = await client.post("/api/v1/sites/test-physio/bookings", json={
        "service": "quick", "start": "2026-11-24T09:00:00+01:00", "locale": "en",
        "customer": {"name": "Erika", "email": "erika@example.com", "phone": "+49 151 23456789"}})
    assert response.status_code == 201, response.text

    email_row = await OutboxMessage.select().where(
        (OutboxMessage.channel == "email") & (OutboxMessage.event == "confirmed")).first().output(load_json=True)
    sms_row = await OutboxMessage.select().where(
        (OutboxMessage.channel == "sms") & (OutboxMessage.event == "confirmed")).first().output(load_json=True)
    assert email_from_json(email_row["content"]).subject == "See you soon, Erika"
    body = sms_from_json(sms_row["content"]).body
    assert body.startswith("Booked at Test Physio: ")
    # Queued with a placeholder for the token; the worker fills in the real link.
    assert body.endswith(f"/manage/{MANAGE_TOKEN_PLACEHOLDER}")
