"""Services and availability through the HTTP API, on the configured database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slotwise.domain.actors import Actor
from slotwise.services.sites import apply_site

from tests.support.factories import add_booking, add_hold
from tests.support.sitefiles import parse_test_site

APPLIER = Actor.system("tests")

TUESDAY = "2026-11-24"
BASE = "/api/v1/sites/test-physio"


@pytest.fixture(autouse=True)
async def site(clock) -> None:
    await apply_site(parse_test_site(), actor=APPLIER, now=clock())


async def slots(client, **params) -> list[dict]:
    response = await client.get(f"{BASE}/availability", params=params)
    assert response.status_code == 200, response.text
    return response.json()["slots"]


def starts(slot_list: list[dict]) -> list[str]:
    return [slot["start"] for slot in slot_list]


async def test_services_are_listed_in_file_order_with_their_price(client):
    response = await client.get(f"{BASE}/services")

    assert response.status_code == 200
    body = response.json()
    assert body["timezone"] == "Europe/Berlin"
    assert [s["slug"] for s in body["services"]] == ["quick", "assessment", "class"]
    quick = body["services"][0]
    assert quick["price"] == {"amount": "25.00", "currency": "EUR", "minor": 2500}
    assert quick["duration_minutes"] == 30
    assert body["services"][2]["seats"] == 3


async def test_a_working_day_shows_every_step_of_both_opening_ranges(client):
    found = await slots(client, service="quick", start=TUESDAY, end=TUESDAY)

    morning = [f"{TUESDAY}T{h}:00+01:00" for h in ("09:00", "09:30", "10:00", "10:30", "11:00", "11:30")]
    afternoon = [f"{TUESDAY}T{h}:00+01:00" for h in (
        "13:00", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00", "16:30")]
    assert starts(found) == morning + afternoon
    assert found[0]["end"] == f"{TUESDAY}T09:30:00+01:00"
    assert found[0]["resources"] == [{"key": "anna", "name": "Anna Berg", "kind": "person"}]


async def test_slots_are_shown_in_the_zone_the_customer_asks_for(client):
    # Tuesday in New York (UTC-5) runs from 06:00 to 06:00 Berlin time, so it
    # holds all of Berlin's Tuesday: 09:00 Berlin is 03:00 in New York.
    found = await slots(client, service="quick", start=TUESDAY, end=TUESDAY, tz="America/New_York")

    assert found[0]["start"] == f"{TUESDAY}T03:00:00-05:00"
    assert found[-1]["start"] == f"{TUESDAY}T10:30:00-05:00"
    assert len(found) == 14


async def test_minimum_notice_hides_the_next_two_hours(client):
    # Now is Monday 08:00 Berlin; "quick" needs 2 hours' notice.
    found = await slots(client, service="quick", start="2026-11-23", end="2026-11-23")

    assert starts(found)[0] == "2026-11-23T10:00:00+01:00"


async def test_a_service_with_two_groups_takes_a_therapist_and_a_room(client):
    found = await slots(client, service="assessment", start=TUESDAY, end=TUESDAY)

    assert found[0]["start"] == f"{TUESDAY}T09:00:00+01:00"
    assert [r["key"] for r in found[0]["resources"]] == ["anna", "room-1"]


async def test_the_room_being_busy_removes_the_slot_for_every_therapist(client):
    # Room 1 is booked 10:00-10:45 (+15 min buffer until 11:00).
    await add_booking("test-physio", "assessment", ["anna", "room-1"],
                      datetime(2026, 11, 24, 9, 0, tzinfo=UTC))

    found = starts(await slots(client, service="assessment", start=TUESDAY, end=TUESDAY))

    # 09:00 ends 09:45 and its own buffer ends 10:00: it just fits before.
    assert f"{TUESDAY}T09:00:00+01:00" in found
    for taken in ("09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45"):
        assert f"{TUESDAY}T{taken}:00+01:00" not in found
    assert f"{TUESDAY}T11:00:00+01:00" in found


async def test_asking_for_one_resource_limits_slots_to_its_hours(client):
    found = await slots(client, service="assessment", start=TUESDAY, end=TUESDAY, resource="ben")

    assert found[0]["start"] == f"{TUESDAY}T10:00:00+01:00"
    # Ben works 10:00-14:00 but the room closes for lunch 12:00-13:00.
    assert found[-1]["start"] == f"{TUESDAY}T13:15:00+01:00"
    assert {r["resources"][0]["key"] for r in found} == {"ben"}


async def test_a_live_hold_blocks_its_slot_and_an_expired_one_does_not(client, clock):
    nine = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 09:00 Berlin
    half_past = nine + timedelta(minutes=30)
    await add_hold("test-physio", "quick", ["anna"], nine, expires_at=clock() + timedelta(minutes=10))
    await add_hold("test-physio", "quick", ["anna"], half_past, expires_at=clock() - timedelta(seconds=1))

    found = starts(await slots(client, service="quick", start=TUESDAY, end=TUESDAY))

    assert f"{TUESDAY}T09:00:00+01:00" not in found
    assert f"{TUESDAY}T09:30:00+01:00" in found


async def test_a_group_class_stays_open_until_every_seat_is_taken(client):
    wednesday_six = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # 18:00 Berlin
    await add_booking("test-physio", "class", ["studio"], wednesday_six)
    await add_booking("test-physio", "class", ["studio"], wednesday_six)

    found = await slots(client, service="class", start="2026-11-25", end="2026-11-25")
    assert [(s["start"], s["seats_left"]) for s in found] == [("2026-11-25T18:00:00+01:00", 1)]

    await add_booking("test-physio", "class", ["studio"], wednesday_six)
    assert await slots(client, service="class", start="2026-11-25", end="2026-11-25") == []


async def test_a_closed_date_has_no_slots(client):
    assert await slots(client, service="quick", start="2026-12-25", end="2026-12-25") == []


async def test_a_month_of_availability_spans_the_dst_change_correctly(client):
    found = await slots(client, service="quick", start="2027-03-22", end="2027-04-02", tz="Europe/Berlin")

    # Before 2027-03-28 Berlin is UTC+1, after it UTC+2; opening hours stay 09:00 local.
    assert "2027-03-26T09:00:00+01:00" in starts(found)
    assert "2027-03-29T09:00:00+02:00" in starts(found)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        pytest.param({"service": "quick", "start": "2026-11-31", "end": TUESDAY}, "start", id="impossible-date"),
        pytest.param({"service": "quick", "start": TUESDAY, "end": "tomorrow"}, "end", id="not-a-date"),
        pytest.param({"service": "quick", "start": TUESDAY}, "end", id="missing-end"),
        pytest.param({"start": TUESDAY, "end": TUESDAY}, "service", id="missing-service"),
        pytest.param({"service": "quick", "start": TUESDAY, "end": TUESDAY, "tz": "Mars/Olympus"}, "tz",
                     id="unknown-zone"),
        pytest.param({"service": "quick", "start": "2026-11-24", "end": "2027-02-24"}, "end",
                     id="range-over-92-days"),
        pytest.param({"service": "quick", "start": "2026-11-24", "end": "2026-11-20"}, "end",
                     id="end-before-start"),
        pytest.param({"service": "assessment", "start": TUESDAY, "end": TUESDAY, "resource": "studio"},
                     "resource", id="resource-not-offering-the-service"),
    ],
)
async def test_bad_parameters_answer_422_problem_details_naming_the_parameter(client, params, parameter):
    response = await client.get(f"{BASE}/availability", params=params)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    assert problem["type"].endswith("/invalid-input")
    assert parameter in [error["name"] for error in problem["errors"]]


async def test_a_range_of_exactly_92_days_is_accepted(client):
    response = await client.get(
        f"{BASE}/availability", params={"service": "quick", "start": "2026-11-24", "end": "2027-02-23"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v1/sites/nowhere/services", id="unknown-site-services"),
        pytest.param(f"/api/v1/sites/nowhere/availability?service=quick&start={TUESDAY}&end={TUESDAY}",
                     id="unknown-site-availability"),
        pytest.param(f"{BASE}/availability?service=massage&start={TUESDAY}&end={TUESDAY}",
                     id="unknown-service"),
    ],
)
async def test_unknown_sites_and_services_answer_404_problem_details(client, path):
    response = await client.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/not-found")


async def test_health_check_reaches_the_database(client):
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_openapi_describes_the_availability_endpoint(client):
    response = await client.get("/schema/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/sites/{site}/availability" in paths
    names = {p["name"] for p in paths["/api/v1/sites/{site}/availability"]["get"]["parameters"]}
    assert {"service", "start", "end", "tz", "resource"} <= names
