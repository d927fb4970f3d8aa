"""A new user's first day, through the admin API alone: an empty site, a catalog from scratch, a booking
from the widget, found, moved and cancelled.

The site starts as a bare ``[site]`` table (what ``slotwise apply`` of a
three-line file leaves) with a key from ``slotwise key create``; everything
after that is HTTP.
"""

from __future__ import annotations

from slotwise.domain.access import Scope
from slotwise.domain.actors import Actor
from slotwise.services import keys
from slotwise.services.sites import apply_site
from slotwise.sitefile import parse_site

from tests.support.pages import Forms, step_of

APPLIER = Actor.system("tests")
BARE_SITE = """
[site]
slug = "fresh-start"
name = "Fresh Start Tutoring"
timezone = "Europe/Berlin"
"""
ADMIN = "/api/v1/admin/sites/fresh-start"
NINE, TEN = "2026-11-24T09:00:00+01:00", "2026-11-24T10:00:00+01:00"  # Tuesday


async def test_a_new_user_builds_a_catalog_takes_a_widget_booking_finds_moves_and_cancels_it(client, clock):
    await apply_site(parse_site(BARE_SITE, source="fresh-start.toml"), actor=APPLIER, now=clock())
    created = await keys.create_key("fresh-start", name="First integration", scopes=list(Scope), expires_at=None,
                                    actor=APPLIER, now=clock())
    auth = {"Authorization": f"Bearer {created.secret}"}

    # The catalog, from nothing.
    assert (await client.get(f"{ADMIN}/services", headers=auth)).json()["data"] == []
    tutor = await client.post(f"{ADMIN}/resources", headers=auth, json={
        "key": "mira", "name": "Mira Lang", "kind": "person", "hours": {"tue": ["09:00-12:00"]}})
    assert tutor.status_code == 201, tutor.text
    lesson = await client.post(f"{ADMIN}/services", headers=auth, json={
        "slug": "lesson", "name": {"en": "Maths lesson", "de": "Mathestunde"}, "duration": 60,
        "price": "40.00 EUR", "resources": [["mira"]]})
    assert lesson.status_code == 201, lesson.text

    # The widget offers it at once and takes a booking (the hold, then the details form).
    services = await client.get("/book/fresh-start", headers={"HX-Request": "true"})
    assert "Maths lesson" in services.text
    details = await client.post("/book/fresh-start/hold", headers={"HX-Request": "true"}, data={
        "service": "lesson", "start": NINE, "tz": "Europe/Berlin", "locale": "en"})
    assert step_of(details.text) == "details", details.text[:500]
    form = Forms(details.text).form("/confirm")
    confirmed = await client.post(form["action"], headers={"HX-Request": "true"}, data={
        **form["fields"], "customer.name": "Jonas Weber", "customer.email": "jonas@example.com"})
    assert step_of(confirmed.text) == "confirmation", confirmed.text[:500]

    # Found by the customer's name, then moved and cancelled on their behalf.
    found = (await client.get(f"{ADMIN}/bookings", headers=auth, params={"q": "jonas"})).json()["data"]
    assert [(b["service"], b["start"], b["customer"]["email"]) for b in found] == [
        ("lesson", NINE, "jonas@example.com")]
    booking = found[0]["id"]
    moved = await client.post(f"{ADMIN}/bookings/{booking}/reschedule", headers=auth, json={"start": TEN})
    assert (moved.status_code, moved.json()["start"]) == (200, TEN), moved.text
    cancelled = await client.post(f"{ADMIN}/bookings/{booking}/cancel", headers=auth,
                                  json={"reason": "Tutor ill"})
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled"), cancelled.text

    detail = (await client.get(f"{ADMIN}/bookings/{booking}", headers=auth)).json()
    assert [(h["kind"], h["actor"]["kind"]) for h in detail["history"]] == [
        ("booked", "customer"), ("rescheduled", "api_key"), ("cancelled", "api_key")]
    assert detail["history"][2]["data"] == {"reason": "Tutor ill"}
    # The customer heard of each step: confirmed, moved, cancelled.
    assert [m["event"] for m in detail["messages"] if m["channel"] == "email"
            and m["recipient"] == "jonas@example.com"][:3] == ["confirmed", "rescheduled", "cancelled"]
