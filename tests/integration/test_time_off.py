"""Time off through the admin API: any span blocks the resource at once, for showing and for booking."""

from __future__ import annotations

import pytest
from slotwise.domain.access import Scope
from slotwise.domain.actors import Actor
from slotwise.services import keys
from slotwise.services.sites import apply_site

from tests.support.sitefiles import TEST_SITE, parse_test_site

APPLIER = Actor.system("tests")
OTHER_SITE = TEST_SITE.replace('slug = "test-physio"', 'slug = "other-studio"')
ADMIN = "/api/v1/admin/sites/test-physio"
PUBLIC = "/api/v1/sites/test-physio"
TUESDAY = "2026-11-24"


@pytest.fixture(autouse=True)
async def sites(clock) -> None:
    await apply_site(parse_test_site(TEST_SITE), actor=APPLIER, now=clock())
    await apply_site(parse_test_site(OTHER_SITE), actor=APPLIER, now=clock())


@pytest.fixture
async def owner(clock) -> dict[str, str]:
    created = await keys.create_key("test-physio", name="Reception", scopes=list(Scope), expires_at=None,
                                    actor=APPLIER, now=clock())
    return {"Authorization": f"Bearer {created.secret}"}


async def free_starts(client, day: str = TUESDAY, service: str = "quick") -> list[str]:
    response = await client.get(f"{PUBLIC}/availability", params={"service": service, "start": day, "end": day})
    return [slot["start"][11:16] for slot in response.json()["slots"]]


async def book(client, start: str, service: str = "quick", name: str = "Erika"):
    return await client.post(f"{PUBLIC}/bookings", json={
        "service": service, "start": start, "customer": {"name": name, "email": "erika@example.com"}})


async def test_a_blocked_afternoon_is_gone_from_the_calendar_and_cannot_be_booked_until_freed(client, owner):
    assert "13:00" in await free_starts(client)

    blocked = await client.post(f"{ADMIN}/resources/anna/blocks", headers=owner, json={
        "start": f"{TUESDAY}T13:00:00+01:00", "end": f"{TUESDAY}T17:00:00+01:00", "reason": "Training"})

    assert blocked.status_code == 201, blocked.text
    body = blocked.json()
    assert body["id"].startswith("off_") and body["actor"]["kind"] == "api_key"
    assert body["start"] == f"{TUESDAY}T13:00:00+01:00" and body["overlapping_bookings"] == []
    afternoon = [t for t in await free_starts(client) if t >= "13:00"]
    assert afternoon == []
    assert "09:00" in await free_starts(client)  # the morning stays
    refused = await book(client, f"{TUESDAY}T14:00:00+01:00")
    assert refused.status_code == 409
    hold = await client.post(f"{PUBLIC}/holds", json={"service": "quick", "start": f"{TUESDAY}T14:00:00+01:00"})
    assert hold.status_code == 409

    listed = await client.get(f"{ADMIN}/resources/anna/blocks", headers=owner)
    assert [b["id"] for b in listed.json()["data"]] == [body["id"]]
    freed = await client.delete(f"{ADMIN}/resources/anna/blocks/{body['id']}", headers=owner)
    assert freed.status_code == 204
    assert "14:00" in await free_starts(client)
    assert (await book(client, f"{TUESDAY}T14:00:00+01:00")).status_code == 201


async def test_a_fortnight_off_blocks_its_last_days_too(client, owner):
    blocked = await client.post(f"{ADMIN}/resources/anna/blocks", headers=owner, json={
        "start": "2026-11-30T00:00:00+01:00", "end": "2026-12-14T00:00:00+01:00", "reason": "Holiday"})

    assert blocked.status_code == 201
    assert await free_starts(client, "2026-12-11") == []
    assert (await book(client, "2026-12-11T10:00:00+01:00")).status_code == 409
    assert await free_starts(client, "2026-12-14") != []


async def test_bookings_already_inside_are_named_and_kept(client, owner):
    inside = await book(client, f"{TUESDAY}T10:00:00+01:00")
    assert inside.status_code == 201

    blocked = await client.post(f"{ADMIN}/resources/anna/blocks", headers=owner, json={
        "start": f"{TUESDAY}T09:00:00+01:00", "end": f"{TUESDAY}T12:00:00+01:00"})

    booking_id = "bkg_" + inside.json()["id"].replace("-", "")
    assert blocked.json()["overlapping_bookings"] == [booking_id]
    kept = await client.get(f"{ADMIN}/bookings/{booking_id}", headers=owner)
    assert kept.json()["status"] == "confirmed"


async def test_a_group_session_is_blocked_like_anything_else(client, owner):
    await client.post(f"{ADMIN}/resources/studio/blocks", headers=owner, json={
        "start": "2026-11-25T18:00:00+01:00", "end": "2026-11-25T19:00:00+01:00", "reason": "Repairs"})

    assert await free_starts(client, "2026-11-25", service="class") == []


async def test_bad_spans_unknown_resources_other_sites_and_missing_scopes_are_refused(client, owner, clock):
    backwards = await client.post(f"{ADMIN}/resources/anna/blocks", headers=owner, json={
        "start": f"{TUESDAY}T17:00:00+01:00", "end": f"{TUESDAY}T13:00:00+01:00"})
    unknown = await client.post(f"{ADMIN}/resources/nobody/blocks", headers=owner, json={
        "start": f"{TUESDAY}T13:00:00+01:00", "end": f"{TUESDAY}T17:00:00+01:00"})
    theirs = await client.post("/api/v1/admin/sites/other-studio/resources/anna/blocks", headers=owner, json={
        "start": f"{TUESDAY}T13:00:00+01:00", "end": f"{TUESDAY}T17:00:00+01:00"})
    reader = await keys.create_key("test-physio", name="Reader", scopes=[Scope.BOOKINGS_READ], expires_at=None,
                                   actor=APPLIER, now=clock())
    unscoped = await client.post(f"{ADMIN}/resources/anna/blocks",
                                 headers={"Authorization": f"Bearer {reader.secret}"},
                                 json={"start": f"{TUESDAY}T13:00:00+01:00", "end": f"{TUESDAY}T17:00:00+01:00"})

    assert backwards.status_code == 422 and backwards.json()["errors"][0]["name"] == "end"
    assert (unknown.status_code, theirs.status_code, unscoped.status_code) == (404, 404, 403)
    assert "13:00" in await free_starts(client)
