"""The admin API through HTTP with real keys: who gets in, what they see, what they may change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slotwise.domain.access import Scope
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import ApiKey, OutboxMessage
from slotwise.services import keys
from slotwise.services.sites import apply_site

from tests.support.sitefiles import POLICY_SITE, TEST_SITE, parse_test_site

APPLIER = Actor.system("tests")
OTHER_SITE = TEST_SITE.replace('slug = "test-physio"', 'slug = "other-studio"').replace(
    'name = "Test Physio"', 'name = "Other Studio"')
ADMIN = "/api/v1/admin/sites"
NINE, TEN, ELEVEN = "2026-11-24T09:00:00+01:00", "2026-11-24T10:00:00+01:00", "2026-11-24T11:00:00+01:00"
EVERY_SCOPE = list(Scope)


@pytest.fixture(autouse=True)
async def sites(clock) -> None:
    await apply_site(parse_test_site(POLICY_SITE), actor=APPLIER, now=clock())
    await apply_site(parse_test_site(OTHER_SITE), actor=APPLIER, now=clock())


async def new_key(clock, site: str = "test-physio", scopes=EVERY_SCOPE, expires_at=None) -> str:
    created = await keys.create_key(site, name="Integration", scopes=scopes, expires_at=expires_at,
                                    actor=APPLIER, now=clock())
    return created.secret


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def book(client, start: str = NINE, site: str = "test-physio", name: str = "Erika Muster") -> dict:
    response = await client.post(f"/api/v1/sites/{site}/bookings", json={
        "service": "quick", "start": start,
        "customer": {"name": name, "email": name.lower().replace(" ", ".") + "@example.com"}})
    assert response.status_code == 201, response.text
    return response.json()


async def admin_id(client, key: str, site: str = "test-physio") -> list[str]:
    listed = await client.get(f"{ADMIN}/{site}/bookings", headers=bearer(key))
    assert listed.status_code == 200, listed.text
    return [b["id"] for b in listed.json()["data"]]


# --- who gets in ----------------------------------------------------------------------


async def test_no_key_a_wrong_key_a_revoked_or_expired_key_all_answer_401(client, clock):
    revoked = await new_key(clock)
    key = await ApiKey.select(ApiKey.public_id).order_by(ApiKey.id, ascending=False).first()
    await keys.revoke_key(key["public_id"], actor=APPLIER, now=clock())
    expired = await new_key(clock, expires_at=clock() + timedelta(hours=1))
    clock.now += timedelta(hours=1)

    for headers in ({}, {"Authorization": "Basic abc"}, bearer("sw_live_" + "x" * 32), bearer(revoked),
                    bearer(expired)):
        response = await client.get(f"{ADMIN}/test-physio/bookings", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_key_of_one_site_finds_nothing_of_another_on_any_admin_route(client, clock):
    ours = await new_key(clock)
    theirs = await new_key(clock, site="other-studio")
    await book(client, site="other-studio")
    await book(client)
    their_booking = (await admin_id(client, theirs, "other-studio"))[0]
    our_booking = (await admin_id(client, ours))[0]
    routes = [
        ("GET", f"{ADMIN}/other-studio/", None),
        ("GET", f"{ADMIN}/other-studio/bookings", None),
        ("POST", f"{ADMIN}/other-studio/bookings",
         {"service": "quick", "start": TEN, "customer": {"name": "X", "email": "x@example.com"}}),
        ("GET", f"{ADMIN}/other-studio/bookings/{their_booking}", None),
        ("POST", f"{ADMIN}/other-studio/bookings/{their_booking}/cancel", {}),
        ("POST", f"{ADMIN}/other-studio/bookings/{their_booking}/reschedule", {"start": TEN}),
        # Their booking through our site's path, and a site that does not exist at all.
        ("GET", f"{ADMIN}/test-physio/bookings/{their_booking}", None),
        ("POST", f"{ADMIN}/test-physio/bookings/{their_booking}/cancel", {}),
        ("GET", f"{ADMIN}/no-such-site/bookings", None),
    ]
    for method, path, body in routes:
        response = await client.request(method, path, headers=bearer(ours), json=body)
        assert response.status_code == 404, (method, path, response.text)
    # Nothing changed over there, and our own booking is reachable.
    assert (await client.get(f"{ADMIN}/other-studio/bookings/{their_booking}", headers=bearer(theirs))
            ).json()["status"] == "confirmed"
    assert (await client.get(f"{ADMIN}/test-physio/bookings/{our_booking}", headers=bearer(ours))).status_code == 200


async def test_a_key_without_the_scope_gets_403_and_changes_nothing(client, clock):
    reader = await new_key(clock, scopes=[Scope.BOOKINGS_READ])
    await book(client)
    booking = (await admin_id(client, reader))[0]

    cancel = await client.post(f"{ADMIN}/test-physio/bookings/{booking}/cancel", json={}, headers=bearer(reader))
    site = await client.get(f"{ADMIN}/test-physio/", headers=bearer(reader))

    assert (cancel.status_code, site.status_code) == (403, 403)
    assert (await client.get(f"{ADMIN}/test-physio/bookings/{booking}", headers=bearer(reader))
            ).json()["status"] == "confirmed"


# --- reading ------------------------------------------------------------------------------


async def test_the_list_filters_by_day_status_resource_and_customer(client, clock):
    key = await new_key(clock)
    await book(client, NINE, name="Erika Muster")
    await book(client, TEN, name="Max Probe")
    await book(client, "2026-11-25T09:00:00+01:00", name="Erika Zweite")
    cancelled = await book(client, ELEVEN, name="Storno Kunde")
    token = cancelled["manage_url"].rsplit("/", 1)[1]
    await client.post(f"/api/v1/manage/{token}/cancel", json={})

    async def names(**params) -> list[str]:
        response = await client.get(f"{ADMIN}/test-physio/bookings", params=params, headers=bearer(key))
        assert response.status_code == 200, response.text
        return [b["customer"]["name"] for b in response.json()["data"]]

    assert await names(**{"from": "2026-11-24", "to": "2026-11-24"}) == [
        "Erika Muster", "Max Probe", "Storno Kunde"]
    assert await names(status="cancelled") == ["Storno Kunde"]
    assert await names(q="erika") == ["Erika Muster", "Erika Zweite"]
    assert await names(resource="anna", **{"from": "2026-11-25T00:00:00+01:00"}) == ["Erika Zweite"]
    bad = await client.get(f"{ADMIN}/test-physio/bookings", params={"from": "soon", "limit": "900"},
                           headers=bearer(key))
    assert bad.status_code == 422
    assert {e["name"] for e in bad.json()["errors"]} == {"from", "limit"}


async def test_pages_neither_repeat_nor_skip_when_bookings_are_added_meanwhile(client, clock):
    key = await new_key(clock)
    starts = [f"2026-11-24T{h:02d}:{m:02d}:00+01:00" for h in (9, 10, 11) for m in (0, 30)]
    for start in starts:
        await book(client, start)
    first = (await client.get(f"{ADMIN}/test-physio/bookings", params={"limit": 2}, headers=bearer(key))).json()
    # Someone books before the cursor and after it while the owner pages.
    await book(client, "2026-11-24T13:00:00+01:00")
    await book(client, "2026-11-23T16:00:00+01:00")
    seen = [b["start"] for b in first["data"]]
    cursor = first["next_cursor"]
    while cursor:
        page = (await client.get(f"{ADMIN}/test-physio/bookings", params={"limit": 2, "cursor": cursor},
                                 headers=bearer(key))).json()
        seen += [b["start"] for b in page["data"]]
        cursor = page["next_cursor"]

    assert seen == [*starts, "2026-11-24T13:00:00+01:00"]


async def test_a_bookings_detail_has_its_history_with_actors_and_its_messages(client, clock):
    key = await new_key(clock)
    await book(client)
    booking = (await admin_id(client, key))[0]

    moved = await client.post(f"{ADMIN}/test-physio/bookings/{booking}/reschedule", json={"start": TEN},
                              headers=bearer(key))
    detail = (await client.get(f"{ADMIN}/test-physio/bookings/{booking}", headers=bearer(key))).json()

    assert moved.status_code == 200, moved.text
    assert detail["start"] == "2026-11-24T10:00:00+01:00"
    key_id = (await ApiKey.select(ApiKey.public_id).first())["public_id"]
    assert [(h["kind"], h["actor"]["kind"], h["actor"]["id"]) for h in detail["history"]] == [
        ("booked", "customer", "api"), ("rescheduled", "api_key", key_id)]
    assert detail["history"][1]["actor"]["label"] == "Integration"
    assert {(m["event"], m["channel"], m["status"]) for m in detail["messages"]} >= {
        ("confirmed", "email", "queued"), ("rescheduled", "email", "queued")}


# --- changing ---------------------------------------------------------------------------


async def test_staff_rules_let_a_key_cancel_after_the_customers_cut_off(client, clock):
    key = await new_key(clock)
    customer = await book(client)
    booking = (await admin_id(client, key))[0]
    clock.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # past the 24 h cancel cut-off
    token = customer["manage_url"].rsplit("/", 1)[1]
    assert (await client.post(f"/api/v1/manage/{token}/cancel", json={})).status_code == 409

    cancelled = await client.post(f"{ADMIN}/test-physio/bookings/{booking}/cancel",
                                  json={"reason": "Therapist ill", "notify": True}, headers=bearer(key))

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert any(m["event"] == "cancelled" for m in cancelled.json()["messages"])


async def test_booking_on_behalf_without_notice_sends_nothing_and_names_the_key(client, clock):
    key = await new_key(clock)

    created = await client.post(f"{ADMIN}/test-physio/bookings", headers=bearer(key), json={
        "service": "quick", "start": NINE, "customer": {"name": "Caller", "email": "caller@example.com"},
        "notify": False})

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"].startswith("bkg_") and body["messages"] == []
    assert body["history"][0]["actor"]["kind"] == "api_key"
    assert await OutboxMessage.count() == 0


async def test_unknown_fields_and_wrong_types_are_refused_per_field(client, clock):
    key = await new_key(clock)
    await book(client)
    booking = (await admin_id(client, key))[0]

    typo = await client.post(f"{ADMIN}/test-physio/bookings/{booking}/cancel", json={"reasn": "x"},
                             headers=bearer(key))
    wrong = await client.post(f"{ADMIN}/test-physio/bookings/{booking}/reschedule",
                              json={"start": "tomorrow", "notify": "yes"}, headers=bearer(key))

    assert typo.status_code == 422 and typo.json()["errors"][0] == {
        "name": "reasn", "code": "field-unknown", "detail": "is not a field of this request"}
    assert wrong.status_code == 422
    assert {(e["name"], e["code"]) for e in wrong.json()["errors"]} == {
        ("start", "instant-expected"), ("notify", "boolean-expected")}


# --- keys ------------------------------------------------------------------------------------


async def test_a_key_is_stored_only_as_its_hash_and_touched_at_most_once_a_minute(client, clock):
    key = await new_key(clock)
    row = await ApiKey.select().first()
    assert key not in str(row) and row["hint"] == key[:12] and row["last_used_at"] is None

    await client.get(f"{ADMIN}/test-physio/bookings", headers=bearer(key))
    first = (await ApiKey.select(ApiKey.last_used_at).first())["last_used_at"]
    clock.now += timedelta(seconds=30)
    await client.get(f"{ADMIN}/test-physio/bookings", headers=bearer(key))
    unchanged = (await ApiKey.select(ApiKey.last_used_at).first())["last_used_at"]
    clock.now += timedelta(seconds=31)
    await client.get(f"{ADMIN}/test-physio/bookings", headers=bearer(key))
    later = (await ApiKey.select(ApiKey.last_used_at).first())["last_used_at"]

    assert first == unchanged < later


async def test_a_key_made_by_the_command_works_and_its_revoke_in_another_process_stops_it_at_once(
    client, slotwise
):
    made = slotwise("key", "create", "--site", "test-physio", "--name", "Zapier",
                    "--scopes", "bookings:read,bookings:write")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("sw_live_") and len(key) >= 40
    assert (await client.get(f"{ADMIN}/test-physio/bookings", headers=bearer(key))).status_code == 200

    key_id = (await ApiKey.select(ApiKey.public_id).where(ApiKey.name == "Zapier").first())["public_id"]
    revoked = slotwise("key", "revoke", key_id)
    assert revoked.returncode == 0, revoked.stderr

    assert (await client.get(f"{ADMIN}/test-physio/bookings", headers=bearer(key))).status_code == 401
    listed = slotwise("key", "list", "--site", "test-physio")
    assert "revoked" in listed.stdout and key not in listed.stdout


def test_the_command_refuses_an_unknown_scope(slotwise):
    made = slotwise("key", "create", "--site", "test-physio", "--name", "X", "--scopes", "everything")
    assert made.returncode == 2 and "unknown scope" in made.stderr
