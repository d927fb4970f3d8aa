"""The audit log over HTTP: every configuration change, with who made it and a readable diff."""

from __future__ import annotations

import json

import pytest
from slotwise.domain.access import Scope
from slotwise.domain.actors import Actor
from slotwise.services import accounts, keys
from slotwise.services.config import ServiceConfig
from slotwise.services.sites import apply_site

from tests.support.sitefiles import TEST_SITE, parse_test_site

APPLIER = Actor.system("tests")
SITE = "test-physio"
AUDIT = f"/api/v1/admin/sites/{SITE}/audit"
ADMIN = f"/api/v1/admin/sites/{SITE}"


@pytest.fixture(autouse=True)
async def site(clock) -> None:
    await apply_site(parse_test_site(TEST_SITE), actor=APPLIER, now=clock())


async def new_key(clock, site: str = SITE, scopes=tuple(Scope), name: str = "Integration") -> tuple[dict, str]:
    created = await keys.create_key(site, name=name, scopes=scopes, expires_at=None, actor=APPLIER, now=clock())
    return {"Authorization": f"Bearer {created.secret}"}, created.key.public_id


async def entries(client, headers, **params) -> list[dict]:
    response = await client.get(AUDIT, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def shape(found: list[dict]) -> list[tuple[str, str, str]]:
    return [(entry["action"], entry["object"], entry["ref"]) for entry in found]


async def test_changes_through_the_api_are_recorded_with_the_key_newest_first(client, clock):
    headers, key_id = await new_key(clock)

    created = await client.post(f"{ADMIN}/resources", json={"key": "mia", "name": "Mia", "kind": "person"},
                                headers=headers)
    patched = await client.patch(f"{ADMIN}/resources/mia", json={"name": "Mia Sommer", "hours": {"mon": ["09:00-12:00"]}},
                                 headers=headers)
    retired = await client.delete(f"{ADMIN}/resources/mia", headers=headers)
    assert (created.status_code, patched.status_code, retired.status_code) == (201, 200, 204)

    found = await entries(client, headers, actor=key_id)

    assert shape(found) == [("retired", "resource", "mia"), ("changed", "resource", "mia"),
                            ("created", "resource", "mia")]
    assert {entry["actor"]["kind"] for entry in found} == {"api_key"}
    assert found[0]["actor"] == {"kind": "api_key", "id": key_id, "label": "Integration"}
    assert found[0]["via"] == "admin-api"
    assert found[0]["summary"] == ["active: true → false"]
    assert found[1]["summary"] == ['name: "Mia" → "Mia Sommer"', 'hours.mon: — → ["09:00-12:00"]']
    assert {"field": "name", "old": None, "new": "Mia"} in found[2]["changes"]


async def test_slotwise_apply_is_recorded_as_the_command(client, clock, slotwise, tmp_path):
    headers, _ = await new_key(clock)
    changed = TEST_SITE.replace('name = "Test Physio"', 'name = "Test Physio & Sport"').replace(
        'key = "ben"\nname = "Ben Petersen"', 'key = "ben"\nname = "Ben P."')
    (tmp_path / "site.toml").write_text(changed)

    run = slotwise("apply", str(tmp_path / "site.toml"))
    assert run.returncode == 0, run.stderr

    found = await entries(client, headers, actor="command")
    assert sorted(shape(found)) == [("changed", "resource", "ben"), ("changed", "site", SITE)]
    assert {(e["actor"]["kind"], e["via"]) for e in found} == {("system", "apply")}
    site_entry = next(e for e in found if e["object"] == "site")
    assert site_entry["changes"] == [{"field": "name", "old": "Test Physio", "new": "Test Physio & Sport"}]


async def test_applying_the_same_file_again_records_nothing(client, clock):
    headers, _ = await new_key(clock)
    before = await entries(client, headers)

    await apply_site(parse_test_site(TEST_SITE), actor=APPLIER, now=clock())

    assert await entries(client, headers) == before


async def test_the_whole_site_put_is_recorded_per_object_as_a_site_document(client, clock):
    headers, key_id = await new_key(clock)
    document = (await client.get(f"{ADMIN}/", headers=headers)).json()
    document["services"] = [s for s in document["services"] if s["slug"] != "quick"]

    put = await client.put(f"{ADMIN}/", json=document, headers=headers)
    assert put.status_code == 200, put.text

    found = await entries(client, headers, actor=key_id)
    assert shape(found) == [("retired", "service", "quick")]
    assert found[0]["via"] == "site-document"
    assert found[0]["changes"] == [{"field": "enabled", "old": True, "new": False}]


async def test_time_off_keys_and_members_are_recorded_without_secrets(client, clock, settings):
    headers, key_id = await new_key(clock)
    block = await client.post(f"{ADMIN}/resources/anna/blocks", json={
        "start": "2026-11-24T13:00:00+01:00", "end": "2026-11-24T17:00:00+01:00", "reason": "Training"},
        headers=headers)
    assert block.status_code == 201, block.text
    freed = await client.delete(f"{ADMIN}/resources/anna/blocks/{block.json()['id']}", headers=headers)
    assert freed.status_code == 204
    other = await keys.create_key(SITE, name="Old sync", scopes=[Scope.BOOKINGS_READ], expires_at=None,
                                  actor=APPLIER, now=clock())
    await keys.revoke_key(other.key.public_id, actor=APPLIER, now=clock())
    member = await accounts.add_member("Owner@Example.com", site_slug=SITE, role="manager", actor=APPLIER,
                                       now=clock(), config=ServiceConfig.from_settings(settings),
                                       send_invitation=False)

    found = await entries(client, headers)

    assert shape(found)[:5] == [
        ("created", "membership", member.account.public_id),
        ("revoked", "key", other.key.public_id),
        ("created", "key", other.key.public_id),
        ("removed", "time_off", block.json()["id"]),
        ("created", "time_off", block.json()["id"]),
    ]
    assert {"field": "reason", "old": None, "new": "Training"} in found[4]["changes"]
    assert {"field": "role", "old": None, "new": "manager"} in found[0]["changes"]
    assert [c["field"] for c in found[1]["changes"]] == ["revoked_at"]
    text = json.dumps(found)
    assert other.secret not in text and other.secret[:12] not in text
    assert "hash" not in text and "sw_live_" not in text and "password" not in text


async def test_pages_and_filters(client, clock):
    headers, key_id = await new_key(clock)
    for index in range(5):
        response = await client.post(f"{ADMIN}/resources", json={"key": f"room-{index + 10}", "name": "Room",
                                                                  "kind": "room"}, headers=headers)
        assert response.status_code == 201

    first = await client.get(AUDIT, params={"actor": key_id, "limit": "2"}, headers=headers)
    second = await client.get(AUDIT, params={"actor": key_id, "limit": "2", "cursor": first.json()["next_cursor"]},
                              headers=headers)
    third = await client.get(AUDIT, params={"actor": key_id, "limit": "2", "cursor": second.json()["next_cursor"]},
                             headers=headers)

    refs = [e["ref"] for page in (first, second, third) for e in page.json()["data"]]
    assert refs == ["room-14", "room-13", "room-12", "room-11", "room-10"]
    assert third.json()["next_cursor"] is None
    assert await entries(client, headers, since="2026-11-24") == []
    assert len(await entries(client, headers, since="2026-11-23T07:00:00Z", actor=key_id)) == 5
    bad = await client.get(AUDIT, params={"limit": "201", "cursor": "nonsense", "since": "yesterday"},
                           headers=headers)
    assert bad.status_code == 422
    assert {e["name"] for e in bad.json()["errors"]} == {"limit", "cursor", "since"}


async def test_another_sites_key_is_404_and_a_key_without_catalog_read_is_403(client, clock):
    other_site = TEST_SITE.replace('slug = "test-physio"', 'slug = "other-studio"')
    await apply_site(parse_test_site(other_site), actor=APPLIER, now=clock())
    stranger, _ = await new_key(clock, site="other-studio")
    bookings_only, _ = await new_key(clock, scopes=[Scope.BOOKINGS_READ, Scope.CATALOG_WRITE])

    assert (await client.get(AUDIT, headers=stranger)).status_code == 404
    assert (await client.get(AUDIT, headers=bookings_only)).status_code == 403
    assert (await client.get(AUDIT)).status_code == 401


async def test_a_refused_change_leaves_no_entry(client, clock):
    headers, key_id = await new_key(clock)
    stale = await client.patch(f"{ADMIN}/resources/anna", json={"name": "Anna B."},
                               headers={**headers, "If-Match": '"stale"'})
    in_use = await client.delete(f"{ADMIN}/resources/anna", headers=headers)

    assert (stale.status_code, in_use.status_code) == (412, 409)
    assert await entries(client, headers, actor=key_id) == []


async def test_template_overrides_and_their_removal_are_recorded(client, clock):
    headers, key_id = await new_key(clock)

    put = await client.put(f"{ADMIN}/templates/confirmed/email/en", headers=headers,
                           json={"subject": "See you, {{ customer.name }}"})
    again = await client.put(f"{ADMIN}/templates/confirmed/email/en", headers=headers,
                             json={"subject": "See you, {{ customer.name }}"})
    removed = await client.delete(f"{ADMIN}/templates/confirmed/email/en", headers=headers)
    assert (put.status_code, again.status_code, removed.status_code) == (200, 200, 204)

    found = await entries(client, headers, actor=key_id)

    # The same source twice is one change; removing the override is the last.
    assert shape(found) == [("removed", "template", "confirmed/email/en"),
                            ("created", "template", "confirmed/email/en")]
    assert found[1]["summary"] == ['confirmed.en.subject.txt: — → "See you, {{ customer.name }}"']
