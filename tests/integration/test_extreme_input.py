"""Dates at and beyond the ends of the calendar, and absurdly nested bodies, never make a 500.

Every parameter that takes a date or an instant gets every extreme year at
every extreme offset; whatever the product cannot represent answers 422 (the
API) or asks again (the pages), never an error of the server.
"""

from __future__ import annotations

import itertools

import pytest
from slotwise.domain.access import Scope
from slotwise.domain.actors import Actor
from slotwise.services import keys
from slotwise.services.sites import apply_site

from tests.support.sitefiles import TEST_SITE, parse_test_site

APPLIER = Actor.system("tests")
SITE = "/api/v1/sites/test-physio"
ADMIN = "/api/v1/admin/sites/test-physio"
YEARS = ["0001", "0002", "1999", "2000", "2199", "2200", "9998", "9999"]
OFFSETS = ["+14:00", "-12:00", "Z"]
DAYS = [f"{year}-12-31" for year in YEARS] + [f"{year}-01-01" for year in YEARS]
INSTANTS = [f"{day}T23:59:59{offset}" for day, offset in itertools.product(DAYS, OFFSETS)]
OUTSIDE = {"0001", "0002", "1999", "2200", "9998", "9999"}


@pytest.fixture(autouse=True)
async def site(clock) -> None:
    await apply_site(parse_test_site(TEST_SITE), actor=APPLIER, now=clock())


@pytest.fixture
async def owner(clock) -> dict[str, str]:
    created = await keys.create_key("test-physio", name="Extreme", scopes=list(Scope), expires_at=None,
                                    actor=APPLIER, now=clock())
    return {"Authorization": f"Bearer {created.secret}"}


async def manage_token(client) -> str:
    booked = await client.post(f"{SITE}/bookings", json={
        "service": "quick", "start": "2026-11-24T09:00:00+01:00",
        "customer": {"name": "Erika", "email": "erika@example.com"}})
    return booked.json()["manage_url"].rsplit("/", 1)[1]


def expect(response, value: str) -> None:
    assert response.status_code < 500, (response.request.url, value, response.text)
    if value[:4] in OUTSIDE and response.request.url.path.startswith("/api/"):
        assert response.status_code == 422, (response.request.url, value, response.text)


async def test_extreme_days_in_every_date_parameter(client, owner):
    for day in DAYS:
        expect(await client.get(f"{SITE}/availability", params={"service": "quick", "start": day, "end": day}),
               day)
        expect(await client.get(f"{SITE}/availability",
                                params={"service": "quick", "start": "2026-11-24", "end": day}), day)
        for name in ("from", "to", "updated_since"):
            expect(await client.get(f"{ADMIN}/bookings", params={name: day}, headers=owner), day)
        page = await client.get("/book/test-physio", params={"service": "quick", "date": day})
        month = await client.get("/book/test-physio", params={"service": "quick", "month": day[:7]})
        assert (page.status_code, month.status_code) == (200, 200)


async def test_extreme_instants_in_every_instant_field(client, owner):
    token = await manage_token(client)
    customer = {"name": "Erika", "email": "erika@example.com"}
    for instant in INSTANTS:
        expect(await client.post(f"{SITE}/holds", json={"service": "quick", "start": instant}), instant)
        expect(await client.post(f"{SITE}/bookings", json={"service": "quick", "start": instant,
                                                            "customer": customer}), instant)
        expect(await client.post(f"/api/v1/manage/{token}/reschedule", json={"start": instant}), instant)
        expect(await client.post(f"{ADMIN}/bookings", headers=owner,
                                 json={"service": "quick", "start": instant, "customer": customer}), instant)
        expect(await client.post(f"{ADMIN}/resources/anna/blocks", headers=owner,
                                 json={"start": "2026-11-24T09:00:00+01:00", "end": instant}), instant)
        expect(await client.get(f"{ADMIN}/bookings", params={"from": instant}, headers=owner), instant)
        hold = await client.post("/book/test-physio/hold", data={"service": "quick", "start": instant})
        page = await client.get("/book/test-physio", params={"service": "quick", "start": instant})
        moved = await client.post(f"/manage/{token}/reschedule", data={"start": instant})
        assert all(r.status_code < 500 for r in (hold, page, moved)), instant


@pytest.mark.parametrize("path", [f"{SITE}/bookings", f"{SITE}/holds", f"{ADMIN}/bookings",
                                  f"{ADMIN}/resources/anna/blocks"])
async def test_a_body_nested_a_hundred_thousand_deep_is_a_400(client, owner, path):
    response = await client.post(path, content=b"[" * 100_000, headers={
        "content-type": "application/json", **owner})

    assert response.status_code == 400
    assert response.json()["type"].endswith("/too-deeply-nested")


async def test_brackets_inside_strings_and_ordinary_bodies_pass(client):
    response = await client.post(f"{SITE}/bookings", json={
        "service": "quick", "start": "2026-11-24T09:00:00+01:00",
        "customer": {"name": "[" * 200 + "Erika", "email": "erika@example.com"}})

    assert response.status_code == 422  # a name too long, not a nesting problem
    assert response.json()["errors"][0]["name"] == "customer.name"


async def test_the_json_api_takes_json_only_and_the_pages_forms_only(client, owner):
    booking = ('{"service": "quick", "start": "2026-11-24T09:00:00+01:00",'
               ' "customer": {"name": "Erika", "email": "erika@example.com"}}')
    # What a plain HTML form on any website can send cross-site without asking.
    for media in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        response = await client.post(f"{SITE}/bookings", content=booking, headers={"content-type": media})
        assert response.status_code == 415, media
        assert response.json()["accepted"] == ["application/json"]
    sent_as_json = await client.post(f"{SITE}/bookings", content=booking,
                                     headers={"content-type": "application/json; charset=utf-8"})
    assert sent_as_json.status_code == 201
    page = await client.post("/book/test-physio/hold", content='{"service": "quick"}',
                             headers={"content-type": "application/json"})
    assert page.status_code == 415
    admin = await client.post(f"{ADMIN}/bookings", content=booking, headers={"content-type": "text/plain", **owner})
    assert admin.status_code == 415
