"""Resources and services through the admin API, in the site file's terms, with real keys over HTTP."""

from __future__ import annotations

import pytest
from slotwise.domain.access import Scope
from slotwise.domain.actors import Actor
from slotwise.services import keys
from slotwise.services.sites import apply_site

from tests.support.sitefiles import TEST_SITE, parse_test_site

APPLIER = Actor.system("tests")
ADMIN = "/api/v1/admin/sites"
PUBLIC = "/api/v1/sites"
TUESDAY = "2026-11-24"  # the tests' clock stands at Monday 2026-11-23 08:00 in Berlin
# A business that has only signed up: the site and its hours, nothing bookable yet.
EMPTY_SITE = """
[site]
slug = "new-studio"
name = "New Studio"
timezone = "Europe/Berlin"
hours = { tue = ["09:00-12:00"] }
"""
OTHER_SITE = TEST_SITE.replace('slug = "test-physio"', 'slug = "other-studio"').replace(
    'name = "Test Physio"', 'name = "Other Studio"')
EVERY_SCOPE = list(Scope)
CUSTOMER = {"name": "Erika Muster", "email": "erika@example.com"}


@pytest.fixture(autouse=True)
async def sites(clock) -> None:
    await apply_site(parse_test_site(EMPTY_SITE), actor=APPLIER, now=clock())
    await apply_site(parse_test_site(OTHER_SITE), actor=APPLIER, now=clock())


async def new_key(clock, site: str = "new-studio", scopes=EVERY_SCOPE) -> dict[str, str]:
    created = await keys.create_key(site, name="Catalog sync", scopes=scopes, expires_at=None,
                                    actor=APPLIER, now=clock())
    return {"Authorization": f"Bearer {created.secret}"}


async def post(client, path: str, body: dict, headers: dict, status: int = 201) -> dict:
    response = await client.post(f"{ADMIN}/new-studio/{path}", json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


async def starts(client, service: str, day: str = TUESDAY, site: str = "new-studio", **params) -> list[str]:
    response = await client.get(f"{PUBLIC}/{site}/availability",
                                params={"service": service, "start": day, "end": day, **params})
    assert response.status_code == 200, response.text
    return [slot["start"][11:16] for slot in response.json()["slots"]]


async def build_catalog(client, headers) -> tuple[dict, dict]:
    resource = await post(client, "resources", {"key": "mia", "name": "Mia Sommer", "kind": "person"}, headers)
    service = await post(client, "services", {
        "slug": "massage", "name": "Massage", "duration": "1h", "step": "30m", "price": "60.00 EUR",
        "resources": ["mia"], "questions": [{"key": "notes", "label": "Anything we should know?",
                                             "type": "textarea"}],
    }, headers)
    return resource, service


# --- a new user builds a catalog ----------------------------------------------------------


async def test_a_catalog_built_through_the_api_is_bookable_at_once(client, clock):
    headers = await new_key(clock)

    resource, service = await build_catalog(client, headers)

    assert resource["id"].startswith("res_") and resource["key"] == "mia"
    assert (resource["timezone"], resource["hours"], resource["active"]) == (None, None, True)
    assert service["id"].startswith("svc_")
    assert (service["duration"], service["step"], service["price"]) == (60, 30, "60.00 EUR")
    assert service["resources"] == [["mia"]]
    assert service["questions"][0]["max_length"] == 2000
    listed = (await client.get(f"{PUBLIC}/new-studio/services")).json()
    assert [s["slug"] for s in listed["services"]] == ["massage"]
    # Mia inherits the site's Tuesday 09:00-12:00.
    assert await starts(client, "massage") == ["09:00", "09:30", "10:00", "10:30", "11:00"]

    booked = await client.post(f"{PUBLIC}/new-studio/bookings", json={
        "service": "massage", "start": f"{TUESDAY}T10:00:00+01:00", "customer": CUSTOMER,
        "answers": {"notes": "Left shoulder"}})

    assert booked.status_code == 201, booked.text
    assert await starts(client, "massage") == ["09:00", "11:00"]
    # Both are in the admin lists, in the order they were added, and readable by key or id.
    assert [r["key"] for r in (await client.get(f"{ADMIN}/new-studio/resources", headers=headers)).json()["data"]
            ] == ["mia"]
    for ref in ("mia", resource["id"]):
        one = await client.get(f"{ADMIN}/new-studio/resources/{ref}", headers=headers)
        assert one.status_code == 200 and one.json() == resource
    by_id = await client.get(f"{ADMIN}/new-studio/services/{service['id']}", headers=headers)
    assert by_id.json() == service and by_id.headers["etag"].startswith('"')


async def test_patching_hours_changes_availability_at_once_and_only_what_was_sent(client, clock):
    headers = await new_key(clock)
    await build_catalog(client, headers)
    assert len(await starts(client, "massage")) == 5

    changed = await client.patch(f"{ADMIN}/new-studio/resources/mia", headers=headers,
                                 json={"hours": {"tue": ["14:00-16:00"]}, "closed": ["2026-12-24..2026-12-26"]})

    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["hours"] == {"tue": ["14:00-16:00"]} and body["closed"] == ["2026-12-24..2026-12-26"]
    assert (body["name"], body["kind"]) == ("Mia Sommer", "person")
    assert await starts(client, "massage") == ["14:00", "14:30", "15:00"]

    # null puts back the default: Mia inherits the site's hours again.
    await client.patch(f"{ADMIN}/new-studio/resources/mia", headers=headers, json={"hours": None})
    assert len(await starts(client, "massage")) == 5
    # A service's fields the same way: a longer appointment fits fewer times.
    longer = await client.patch(f"{ADMIN}/new-studio/services/massage", headers=headers,
                                json={"duration": "90m"})
    assert longer.status_code == 200 and longer.json()["price"] == "60.00 EUR"
    assert await starts(client, "massage") == ["09:00", "09:30", "10:00", "10:30"]


async def test_disabled_services_and_retired_resources_are_no_longer_offered(client, clock):
    headers = await new_key(clock)
    await build_catalog(client, headers)
    await post(client, "resources", {"key": "leo", "name": "Leo", "kind": "person"}, headers)
    await client.patch(f"{ADMIN}/new-studio/services/massage", headers=headers,
                       json={"resources": ["mia", "leo"]})
    assert await starts(client, "massage", resource="leo")

    # A resource an enabled service offers cannot be retired from under it.
    in_use = await client.delete(f"{ADMIN}/new-studio/resources/leo", headers=headers)
    assert in_use.status_code == 409 and in_use.json()["used_by"] == ["massage"]
    await client.patch(f"{ADMIN}/new-studio/services/massage", headers=headers, json={"resources": ["mia"]})
    retired = await client.delete(f"{ADMIN}/new-studio/resources/leo", headers=headers)

    assert retired.status_code == 204
    leo = (await client.get(f"{ADMIN}/new-studio/resources/leo", headers=headers)).json()
    assert leo["active"] is False
    refused = await client.post(f"{PUBLIC}/new-studio/bookings", json={
        "service": "massage", "start": f"{TUESDAY}T09:00:00+01:00", "resource": "leo", "customer": CUSTOMER})
    assert refused.status_code == 422, refused.text
    # ... and a service may no longer name it.
    named = await client.patch(f"{ADMIN}/new-studio/services/massage", headers=headers,
                               json={"resources": ["leo"]})
    assert named.status_code == 422 and named.json()["errors"][0]["name"] == "resources[0]"

    disabled = await client.delete(f"{ADMIN}/new-studio/services/massage", headers=headers)

    assert disabled.status_code == 204
    assert (await client.get(f"{PUBLIC}/new-studio/services")).json()["services"] == []
    booking = await client.post(f"{PUBLIC}/new-studio/bookings", json={
        "service": "massage", "start": f"{TUESDAY}T09:00:00+01:00", "customer": CUSTOMER})
    assert booking.status_code == 404, booking.text
    admin_view = (await client.get(f"{ADMIN}/new-studio/services/massage", headers=headers)).json()
    assert admin_view["enabled"] is False
    # Enabled again, it is bookable again.
    await client.patch(f"{ADMIN}/new-studio/services/massage", headers=headers, json={"enabled": True})
    assert len(await starts(client, "massage")) == 5
    # Leo comes back with "active": true (POSTing his key again is refused and says how).
    again = await post(client, "resources", {"key": "leo", "name": "Leo", "kind": "person"}, headers, 422)
    assert '"active": true' in again["errors"][0]["detail"]
    back = await client.patch(f"{ADMIN}/new-studio/resources/leo", headers=headers, json={"active": True})
    assert back.json()["active"] is True


# --- the site file's checks and messages --------------------------------------------------


async def test_bodies_are_checked_like_a_site_file_with_its_messages_and_paths(client, clock):
    headers = await new_key(clock)
    await post(client, "resources", {"key": "mia", "name": "Mia", "kind": "person"}, headers)

    bad_resource = await post(client, "resources", {
        "key": "room-1", "name": "Room", "kind": "rooom", "hours": {"mon": ["12:00-09:00"], "tue": ["9-12"]},
        "colour": "red"}, headers, 422)
    bad_service = await post(client, "services", {
        "slug": "yoga", "name": "Yoga", "duration": "90", "resources": ["mia", "mai"],
        "questions": [{"key": "a", "label": "A", "type": "text"}, {"key": "b", "label": "B", "type": "essay"}],
    }, headers, 422)

    assert bad_resource["status"] == 422
    resource_errors = {e["name"]: e["detail"] for e in bad_resource["errors"]}
    assert resource_errors == {
        "kind": 'unknown kind "rooom"; expected "person", "room", "court", "table", "equipment", '
                '"vehicle" or "other"',
        "hours.mon[0]": '"12:00-09:00": the end must be after the start; to run past midnight, '
                        'end at "24:00" and go on from "00:00" the next day',
        "hours.tue[0]": '"9" is not a time: write HH:MM with two digits each, e.g. "09:05"',
        "colour": "unknown key; expected one of: key, name, kind, timezone, hours, closed, extra_open, metadata",
    }
    assert {e["code"] for e in bad_resource["errors"]} == {"site-file-rule"}
    service_errors = {e["name"]: e["detail"] for e in bad_service["errors"]}
    assert service_errors == {
        "duration": '"90" is not a duration: write minutes (90) or text like "90m", "2h", "1h30m", "60d", "2w"',
        "questions[1].type": 'unknown question type "essay"; expected "text", "textarea", "select", '
                             '"checkbox" or "number"',
        "resources[1]": 'no resource with key "mai"; did you mean "mia"?',
    }
    listed = await client.get(f"{ADMIN}/new-studio/resources", headers=headers)
    assert [r["key"] for r in listed.json()["data"]] == ["mia"]
    assert (await client.get(f"{ADMIN}/new-studio/services", headers=headers)).json() == {
        "data": [], "next_cursor": None}


async def test_a_patch_checks_the_merged_result_and_keys_do_not_change(client, clock):
    headers = await new_key(clock)
    await build_catalog(client, headers)

    notice = await client.patch(f"{ADMIN}/new-studio/services/massage", headers=headers,
                                json={"min_notice": "400d"})
    rename = await client.patch(f"{ADMIN}/new-studio/resources/mia", headers=headers, json={"key": "mia-2"})
    typo = await client.patch(f"{ADMIN}/new-studio/services/massage", headers=headers, json={"duraton": 30})

    assert notice.status_code == 422
    assert notice.json()["errors"][0]["name"] == "min_notice"
    assert "must not be longer than max_advance" in notice.json()["errors"][0]["detail"]
    assert rename.status_code == 422 and rename.json()["errors"][0]["name"] == "key"
    assert typo.json()["errors"] == [{"name": "duraton", "code": "site-file-rule",
                                      "detail": 'unknown key; did you mean "duration"?'}]
    # Nothing changed; sending back what GET answered changes nothing either.
    current = (await client.get(f"{ADMIN}/new-studio/services/massage", headers=headers))
    same = await client.patch(f"{ADMIN}/new-studio/services/massage", headers=headers, json=current.json())
    assert same.status_code == 200 and same.headers["etag"] == current.headers["etag"]
    assert current.json()["min_notice"] == 0


# --- ETag and If-Match --------------------------------------------------------------------


async def test_if_match_with_an_old_etag_is_412_and_changes_nothing(client, clock):
    headers = await new_key(clock)
    await build_catalog(client, headers)
    read = await client.get(f"{ADMIN}/new-studio/resources/mia", headers=headers)
    etag = read.headers["etag"]

    first = await client.patch(f"{ADMIN}/new-studio/resources/mia", json={"name": "Mia S."},
                               headers={**headers, "If-Match": etag})
    second = await client.patch(f"{ADMIN}/new-studio/resources/mia", json={"name": "Mia Sommer-Berg"},
                                headers={**headers, "If-Match": etag})
    stale_delete = await client.delete(f"{ADMIN}/new-studio/services/massage",
                                       headers={**headers, "If-Match": '"0000"'})

    assert first.status_code == 200 and first.headers["etag"] != etag
    assert second.status_code == 412, second.text
    assert second.json()["type"].endswith("/precondition-failed")
    assert stale_delete.status_code == 412
    assert (await client.get(f"{ADMIN}/new-studio/resources/mia", headers=headers)).json()["name"] == "Mia S."
    assert await starts(client, "massage")
    service_etag = (await client.get(f"{ADMIN}/new-studio/services/massage", headers=headers)).headers["etag"]
    deleted = await client.delete(f"{ADMIN}/new-studio/services/massage",
                                  headers={**headers, "If-Match": service_etag})
    assert deleted.status_code == 204


# --- who may ------------------------------------------------------------------------------


async def test_a_key_of_another_site_finds_nothing_on_any_catalog_route(client, clock):
    ours = await new_key(clock)
    theirs = await new_key(clock, site="other-studio")
    routes = [
        ("GET", "resources", None), ("POST", "resources", {"key": "x", "name": "X", "kind": "room"}),
        ("GET", "resources/anna", None), ("PATCH", "resources/anna", {"name": "Y"}),
        ("DELETE", "resources/studio", None),
        ("GET", "services", None), ("POST", "services", {"slug": "x", "name": "X", "duration": 30,
                                                         "resources": ["anna"]}),
        ("GET", "services/quick", None), ("PATCH", "services/quick", {"name": "Y"}),
        ("DELETE", "services/quick", None),
    ]
    for method, path, body in routes:
        for site in ("other-studio", "no-such-site"):
            response = await client.request(method, f"{ADMIN}/{site}/{path}", headers=ours, json=body)
            assert response.status_code == 404, (method, site, path, response.text)
    # Nothing changed over there.
    quick = (await client.get(f"{ADMIN}/other-studio/services/quick", headers=theirs)).json()
    assert (quick["name"], quick["enabled"]) == ("Quick check", True)
    assert len((await client.get(f"{ADMIN}/other-studio/resources", headers=theirs)).json()["data"]) == 4


async def test_catalog_read_is_enough_to_read_and_writes_need_catalog_write(client, clock):
    await build_catalog(client, await new_key(clock))
    reader = await new_key(clock, scopes=[Scope.CATALOG_READ])
    bookings_only = await new_key(clock, scopes=[Scope.BOOKINGS_READ, Scope.BOOKINGS_WRITE])

    for path in ("resources", "resources/mia", "services", "services/massage"):
        assert (await client.get(f"{ADMIN}/new-studio/{path}", headers=reader)).status_code == 200
        assert (await client.get(f"{ADMIN}/new-studio/{path}", headers=bookings_only)).status_code == 403
    writes = [("POST", "resources", {"key": "x", "name": "X", "kind": "room"}),
              ("PATCH", "resources/mia", {"name": "Y"}), ("DELETE", "resources/mia", None),
              ("POST", "services", {"slug": "x", "name": "X", "duration": 30, "resources": ["mia"]}),
              ("PATCH", "services/massage", {"name": "Y"}), ("DELETE", "services/massage", None)]
    for method, path, body in writes:
        response = await client.request(method, f"{ADMIN}/new-studio/{path}", headers=reader, json=body)
        assert response.status_code == 403, (method, path, response.text)
    assert (await client.get(f"{ADMIN}/new-studio/services/massage", headers=reader)).json()["name"] == "Massage"


# --- the API and the site file ------------------------------------------------------------


async def test_applying_the_site_file_again_retires_what_only_the_api_added(client, clock):
    headers = await new_key(clock)
    await build_catalog(client, headers)

    report = await apply_site(parse_test_site(EMPTY_SITE), actor=APPLIER, now=clock())

    assert sorted(report.deactivated) == ["resource mia", "service massage"]
    assert (await client.get(f"{PUBLIC}/new-studio/services")).json()["services"] == []
    assert (await client.get(f"{ADMIN}/new-studio/resources/mia", headers=headers)).json()["active"] is False


async def test_a_create_repeated_with_its_idempotency_key_creates_once(client, clock):
    headers = await new_key(clock)
    body = {"key": "mia", "name": "Mia", "kind": "person"}

    first = await client.post(f"{ADMIN}/new-studio/resources", json=body, headers={**headers, "Idempotency-Key": "k1"})
    again = await client.post(f"{ADMIN}/new-studio/resources", json=body, headers={**headers, "Idempotency-Key": "k1"})
    other = await client.post(f"{ADMIN}/new-studio/resources", json={**body, "key": "leo"},
                              headers={**headers, "Idempotency-Key": "k1"})
    service = {"slug": "massage", "name": "Massage", "duration": 60, "resources": ["mia"]}
    made = [await client.post(f"{ADMIN}/new-studio/services", json=service,
                              headers={**headers, "Idempotency-Key": "k2"}) for _ in range(2)]

    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 422)
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert again.json() == first.json()
    assert [m.status_code for m in made] == [201, 201] and made[0].json() == made[1].json()
    assert len((await client.get(f"{ADMIN}/new-studio/resources", headers=headers)).json()["data"]) == 1
    assert len((await client.get(f"{ADMIN}/new-studio/services", headers=headers)).json()["data"]) == 1
