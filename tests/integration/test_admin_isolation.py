"""A site's data never reaches another site's key: every admin route, walked from the app's own route table.

Site B is the demo site with a booking, a time-off block, a webhook and a
delivery, each addressed by its real id; site A is a copy under another slug
whose key has every scope. A's key on any of B's routes answers 404, the same
answer as for a site that does not exist, and changes nothing; without a key
each route answers 401. New routes are covered as soon as they are mounted:
the walk reads them from the app, so a route cannot be forgotten here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from slotwise.domain.access import Scope
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import AuditEntry, Booking, TimeOff
from slotwise.services import keys
from slotwise.services.sites import apply_site
from slotwise.sitefile import load_site_file, parse_site

DEMO = Path(__file__).resolve().parents[2] / "examples" / "harbour-physio.toml"
APPLIER = Actor.system("tests")
SITE_B = "harbour-physio"
SITE_A = "copycat-physio"
ADMIN_PREFIX = "/api/v1/admin/sites/{site"
CSV_SHEET = "key,name,kind\nmia,Mia,person\n"
# The routes this walk must find at least (it finds every mounted one).
AT_LEAST = 40


async def key_for(site: str, clock) -> dict[str, str]:
    created = await keys.create_key(site, name=f"{site} integration", scopes=list(Scope), expires_at=None,
                                    actor=APPLIER, now=clock())
    return {"Authorization": f"Bearer {created.secret}"}


def admin_routes(app) -> list[tuple[str, str]]:
    """(method, path template) of every admin route on one site, as mounted."""
    found = []
    for route in app.routes:
        if not route.path.startswith(ADMIN_PREFIX):
            continue
        for method in sorted(getattr(route, "methods", ())):
            if method not in ("HEAD", "OPTIONS"):
                found.append((method, re.sub(r"{(\w+):\w+}", r"{\1}", route.path)))
    return found


def example_bodies(document: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """The OpenAPI document's JSON example of each route's body: well-formed, so only the site can refuse it."""
    bodies = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
            schema = content.get("application/json", {}).get("schema")
            if schema is None:
                continue
            if "$ref" in schema:
                schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
            examples = schema.get("examples") or [{}]
            bodies[(method.upper(), path)] = examples[0]
    return bodies


@pytest.fixture
async def site_b(client, clock) -> dict[str, str]:
    """Site B with one of everything, and the values that name them in paths."""
    demo = load_site_file(DEMO)
    await apply_site(demo, actor=APPLIER, now=clock())
    copy = DEMO.read_text(encoding="utf-8").replace(f'slug = "{SITE_B}"', f'slug = "{SITE_A}"')
    await apply_site(parse_site(copy, source="copycat.toml"), actor=APPLIER, now=clock())
    own = await key_for(SITE_B, clock)
    admin = f"/api/v1/admin/sites/{SITE_B}"

    booked = await client.post(f"/api/v1/sites/{SITE_B}/bookings", json={
        "service": "follow-up", "start": "2026-11-30T15:00:00+01:00", "resource": "ben",
        "customer": {"name": "Bea Bystander", "email": "bea@example.com"}})
    assert booked.status_code == 201, booked.text
    block = await client.post(f"{admin}/resources/anna/blocks", headers=own, json={
        "start": "2026-12-02T13:00:00+01:00", "end": "2026-12-02T17:00:00+01:00", "reason": "Training"})
    assert block.status_code == 201, block.text
    webhook = await client.post(f"{admin}/webhooks", headers=own, json={
        "url": "https://hooks.example.com/slotwise", "events": ["booking.created"]})
    assert webhook.status_code == 201, webhook.text
    ping = await client.post(f"{admin}/webhooks/{webhook.json()['id']}/test", headers=own)
    assert ping.status_code == 202, ping.text
    calendar = await client.post(f"{admin}/resources/anna/calendars", headers=own, json={
        "kind": "ics", "url": "https://calendar.example.com/anna/busy.ics"})
    assert calendar.status_code == 201, calendar.text
    return {
        "site": SITE_B, "booking_id": "bkg_" + booked.json()["id"].replace("-", ""),
        "resource": "anna", "key": "anna", "service": "follow-up", "email": "bea@example.com",
        "block_id": block.json()["id"], "webhook": webhook.json()["id"], "delivery": ping.json()["delivery"],
        "calendar_id": calendar.json()["id"],
        "event": "confirmed", "channel": "email", "locale": "en",
    }


async def state_of_b() -> tuple[Any, ...]:
    """What A's key must not have changed on B."""
    bookings = await Booking.select(Booking.status, Booking.start_at, Booking.customer_name, Booking.metadata)
    blocks = await TimeOff.count()
    audit = await AuditEntry.count()
    return (sorted(map(str, bookings)), blocks, audit)


async def test_another_sites_key_gets_404_on_every_admin_route_and_changes_nothing(client, clock, app, site_b):
    document = (await client.get("/schema/openapi.json")).json()
    bodies = example_bodies(document)
    other = await key_for(SITE_A, clock)
    routes = admin_routes(app)
    before = await state_of_b()

    answered = []
    for method, template in routes:
        url = template.format(**site_b)
        kwargs: dict[str, Any] = {}
        if template.endswith(("/import/resources", "/import/services")):
            kwargs = {"content": CSV_SHEET.encode(), "headers": {**other, "content-type": "text/csv"}}
        elif (method, template) in bodies:
            kwargs = {"json": bodies[(method, template)], "headers": other}
        else:
            kwargs = {"headers": other}
        response = await client.request(method, url, **kwargs)

        assert response.status_code == 404, (method, template, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), (method, template)
        assert "bea@example.com" not in response.text and "Bea Bystander" not in response.text
        answered.append((method, template))

    assert len(answered) >= AT_LEAST, answered
    assert await state_of_b() == before


async def test_every_admin_route_asks_for_a_key(client, app, site_b):
    for method, template in admin_routes(app):
        response = await client.request(method, template.format(**site_b))

        assert response.status_code == 401, (method, template, response.status_code, response.text)
        assert response.headers["www-authenticate"].lower().startswith("bearer"), (method, template)
