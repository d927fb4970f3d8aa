"""Applying site files: idempotent, in place, all or nothing; through the real command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import Allocation, Booking, Resource, Service, Site
from slotwise.services.sites import apply_site

from tests.support.factories import add_booking
from tests.support.sitefiles import TEST_SITE, parse_test_site, write

APPLIER = Actor.system("tests")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "harbour-physio.toml"


async def snapshot() -> dict[str, list[dict]]:
    return {
        table._meta.tablename: await table.select().order_by(table.id).output(load_json=True)
        for table in (Site, Resource, Service, Booking, Allocation)
    }


async def test_applying_a_new_site_creates_it_with_its_resources_and_services(clock):
    report = await apply_site(parse_test_site(), actor=APPLIER, now=clock())

    assert report.created == [
        "site test-physio", "resource anna", "resource ben", "resource room-1", "resource studio",
        "service quick", "service assessment", "service class",
    ]
    ben = await Resource.select().where(Resource.key == "ben").first().output(load_json=True)
    assert ben["hours"] == {"tue": [[600, 840]]}
    assert ben["timezone"] is None  # inherits the site's until it sets its own


async def test_applying_the_same_file_twice_changes_nothing(clock):
    await apply_site(parse_test_site(), actor=APPLIER, now=clock())
    before = await snapshot()
    clock.advance(timedelta(hours=1))

    report = await apply_site(parse_test_site(), actor=APPLIER, now=clock())

    assert not report.changed
    assert await snapshot() == before


async def test_an_edited_file_updates_in_place_and_keeps_bookings(clock):
    await apply_site(parse_test_site(), actor=APPLIER, now=clock())
    booking_id = await add_booking("test-physio", "quick", ["anna"], datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    ids_before = {row["key"]: row["id"] for row in await Resource.select(Resource.key, Resource.id)}

    edited = TEST_SITE.replace('name = "Anna Berg"', 'name = "Dr. Anna Berg"').replace(
        "duration = 30\nstep = 30", "duration = 20\nstep = 30")
    report = await apply_site(parse_test_site(edited), actor=APPLIER, now=clock())

    assert report.updated == ["resource anna", "service quick"]
    assert {row["key"]: row["id"] for row in await Resource.select(Resource.key, Resource.id)} == ids_before
    assert await Booking.count().where(Booking.id == booking_id) == 1
    assert await Allocation.count().where(Allocation.booking == booking_id) == 1
    quick = await Service.select().where(Service.slug == "quick").first()
    assert quick["duration_minutes"] == 20


async def test_removed_resources_and_services_are_retired_not_deleted(clock):
    await apply_site(parse_test_site(), actor=APPLIER, now=clock())
    without_class = TEST_SITE[: TEST_SITE.index('[[services]]\nslug = "class"')]
    without_class = without_class.replace(
        '[[resources]]\nkey = "studio"\nname = "Studio"\nkind = "room"\nhours = { wed = ["18:00-19:00"] }\n', "")

    report = await apply_site(parse_test_site(without_class), actor=APPLIER, now=clock())

    assert sorted(report.deactivated) == ["resource studio", "service class"]
    studio = await Resource.select().where(Resource.key == "studio").first()
    assert studio["active"] is False
    klass = await Service.select().where(Service.slug == "class").first()
    assert klass["enabled"] is False


def test_the_apply_command_applies_and_reports_a_second_run_as_unchanged(tmp_path, slotwise):
    path = write(tmp_path, TEST_SITE)

    first = slotwise("apply", str(path))
    second = slotwise("apply", str(path))

    assert first.returncode == 0, first.stderr
    assert "created  site test-physio" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "nothing changed" in second.stdout


async def test_check_leaves_the_database_empty(tmp_path, slotwise):
    path = write(tmp_path, TEST_SITE)

    result = slotwise("apply", "--check", str(path))

    assert result.returncode == 0
    assert await Site.count() == 0


BAD_EDITS = [
    pytest.param('timezone = "Europe/Berlin"', 'timezone = "Europe/Berlln"', "site.timezone", id="unknown-zone"),
    pytest.param('tue = ["09:00-12:00", "13:00-17:00"]', 'tue = ["09:00-12:00", "13:00-25:00"]',
                 "site.hours.tue[1]", id="hour-25"),
    pytest.param('wed = ["09:00-12:00", "13:00-17:00"]', 'wed = ["09:00-12:00", "11:00-17:00"]',
                 "site.hours.wed", id="overlapping-hours"),
    pytest.param("duration = 45", "duration = 47", "services[1].duration", id="duration-not-multiple-of-5"),
    pytest.param('resources = ["studio"]', 'resources = ["gym"]', "services[2].resources[0]",
                 id="unknown-resource-key"),
    pytest.param("seats = 3", "seats = 0", "services[2].seats", id="seats-below-one"),
]


@pytest.mark.parametrize(("old", "new", "path"), BAD_EDITS)
async def test_a_bad_file_exits_nonzero_naming_file_and_path_and_changes_nothing(
    tmp_path, clock, old, new, path, slotwise
):
    await apply_site(parse_test_site(), actor=APPLIER, now=clock())
    before = await snapshot()
    assert old in TEST_SITE
    bad = write(tmp_path, TEST_SITE.replace(old, new, 1).replace('name = "Test Physio"', 'name = "Renamed"'),
                name="bad-site.toml")

    result = slotwise("apply", str(bad))

    assert result.returncode == 1
    assert "bad-site.toml" in result.stderr
    assert f": {path}" in result.stderr
    assert await snapshot() == before


async def test_the_demo_site_offers_assessments_with_a_therapist_and_a_room(client, slotwise):
    assert slotwise("apply", str(EXAMPLE)).returncode == 0

    response = await client.get(
        "/api/v1/sites/harbour-physio/availability",
        params={"service": "assessment", "start": "2026-11-30", "end": "2026-12-04"},
    )

    assert response.status_code == 200
    slots = response.json()["slots"]
    assert slots, "the demo site should have free assessments in its first full week"
    therapist, room = slots[0]["resources"]
    assert therapist["kind"] == "person" and room["kind"] == "room"
