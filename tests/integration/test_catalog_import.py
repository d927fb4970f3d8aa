"""Resources and services imported from CSV sheets over HTTP, with real keys: dry runs, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from slotwise.domain.access import Scope
from slotwise.domain.actors import Actor
from slotwise.services import keys
from slotwise.services.sites import apply_site

from tests.support.sitefiles import TEST_SITE, parse_test_site

APPLIER = Actor.system("tests")
ADMIN = "/api/v1/admin/sites"
SITE = "new-studio"
EMPTY_SITE = """
[site]
slug = "new-studio"
name = "New Studio"
timezone = "Europe/Berlin"
hours = { tue = ["09:00-12:00"] }
"""
CSV = {"Content-Type": "text/csv; charset=utf-8"}

RESOURCES = (
    "key,name,kind,hours,closed\r\n"
    "mia,Mia Sommer,person,mon-fri=09:00-12:00 13:00-17:00,2026-12-24..2026-12-26\r\n"
    "room-1,Room 1,room,,\r\n"
)


@pytest.fixture(autouse=True)
async def sites(clock) -> None:
    await apply_site(parse_test_site(EMPTY_SITE), actor=APPLIER, now=clock())
    await apply_site(parse_test_site(TEST_SITE), actor=APPLIER, now=clock())


async def new_key(clock, site: str = SITE, scopes=tuple(Scope)) -> dict[str, str]:
    created = await keys.create_key(site, name="Sheet sync", scopes=scopes, expires_at=None, actor=APPLIER,
                                    now=clock())
    return {"Authorization": f"Bearer {created.secret}"}


async def upload(client, headers, body: str | bytes, kind: str = "resources", status: int = 200,
                 dry_run: bool = False, **extra_headers) -> dict:
    response = await client.post(f"{ADMIN}/{SITE}/import/{kind}", params={"dry_run": "1"} if dry_run else {},
                                 content=body.encode() if isinstance(body, str) else body,
                                 headers={**headers, **CSV, **extra_headers})
    assert response.status_code == status, response.text
    return response.json()


async def resources(client, headers) -> dict[str, dict]:
    response = await client.get(f"{ADMIN}/{SITE}/resources", headers=headers)
    return {item["key"]: item for item in response.json()["data"]}


async def audit(client, headers) -> list[dict]:
    """The audit log's entries about resources and services (applying the site and the key have their own)."""
    response = await client.get(f"{ADMIN}/{SITE}/audit", headers=headers)
    assert response.status_code == 200, response.text
    return [entry for entry in response.json()["data"] if entry["object"] in ("resource", "service")]


async def test_a_dry_run_reports_every_row_and_changes_nothing(client, clock):
    headers = await new_key(clock)

    report = await upload(client, headers, RESOURCES, dry_run=True)

    assert (report["dry_run"], report["applied"], report["valid"]) == (True, False, True)
    assert [(row["row"], row["key"], row["outcome"]) for row in report["rows"]] == [
        (2, "mia", "created"), (3, "room-1", "created")]
    assert await resources(client, headers) == {}
    assert await audit(client, headers) == []


async def test_an_import_creates_then_updates_and_leaves_the_rest_unchanged(client, clock):
    headers = await new_key(clock)
    await upload(client, headers, RESOURCES)

    again = await upload(client, headers, "key,name\nmia,Mia Sommer-Berg\nroom-1,Room 1\n")

    assert [(row["key"], row["outcome"]) for row in again["rows"]] == [("mia", "updated"), ("room-1", "unchanged")]
    assert again["counts"] == {"created": 0, "updated": 1, "unchanged": 1, "error": 0}
    stored = await resources(client, headers)
    # Columns the sheet leaves out stay as they were.
    assert stored["mia"]["name"] == "Mia Sommer-Berg"
    assert stored["mia"]["hours"] == {day: ["09:00-12:00", "13:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    assert stored["mia"]["closed"] == ["2026-12-24..2026-12-26"]
    assert stored["room-1"]["hours"] is None  # an empty cell: the site's hours


async def test_one_bad_row_writes_nothing_and_the_answer_names_its_row_and_column(client, clock):
    headers = await new_key(clock)
    sheet = ("Key;Name;Kind;Hours\n"
             "mia;Mia Sommer;person;mon=09:00-12:00\n"
             "boat;The Boat;ship;\n"
             "lab;Lab;room;mon=25:00-26:00\n")

    problem = await upload(client, headers, sheet, status=422)

    assert problem["type"].endswith("/import-rejected")
    by_row = {row["row"]: row for row in problem["rows"]}
    assert by_row[2]["outcome"] == "created"
    assert [(e["column"], e["code"]) for e in by_row[3]["errors"]] == [("Kind", "site-file-rule")]
    assert "unknown kind" in by_row[3]["errors"][0]["detail"]
    assert by_row[4]["errors"][0]["column"] == "Hours" and by_row[4]["errors"][0]["path"].startswith("hours.mon")
    assert {e["name"] for e in problem["errors"]} == {"row 3, column Kind", "row 4, column Hours"}
    assert await resources(client, headers) == {}
    assert await audit(client, headers) == []


async def test_services_from_an_excel_sheet_with_a_bom_semicolons_and_cell_syntax(client, clock):
    headers = await new_key(clock)
    await upload(client, headers, "key;name;kind\nmia;Mia;person\nben;Ben;person\nroom-1;Room 1;room\n")
    sheet = ("\ufeffslug;name;duration;step;price;reminders;resources;questions;enabled\r\n"
             'massage;Massage;60;30m;60.00 EUR;24h 2h;mia ben + room-1;'
             '"reason | What brings you in? | text | required; how | How did you hear of us? | select | '
             'options=Friend, Doctor";yes\r\n'
             "old-class;Old class;1h;;0;none;mia;;no\r\n")

    report = await upload(client, headers, sheet.encode("utf-8"), kind="services")

    assert [row["outcome"] for row in report["rows"]] == ["created", "created"]
    listed = (await client.get(f"{ADMIN}/{SITE}/services", headers=headers)).json()["data"]
    massage, old = listed
    assert (massage["duration"], massage["step"], massage["price"]) == (60, 30, "60.00 EUR")
    assert massage["reminders"] == [1440, 120]
    assert massage["resources"] == [["mia", "ben"], ["room-1"]]
    assert [(q["key"], q["type"], q["required"]) for q in massage["questions"]] == [
        ("reason", "text", True), ("how", "select", False)]
    assert massage["questions"][1]["options"] == ["Friend", "Doctor"]
    assert (old["enabled"], old["reminders"], old["price"], old["step"]) == (False, [], None, 60)


async def test_a_service_naming_an_unknown_resource_is_that_rows_error(client, clock):
    headers = await new_key(clock)

    problem = await upload(client, headers, "slug,name,duration,resources\nyoga,Yoga,60,nobody\n",
                           kind="services", status=422)

    [row] = problem["rows"]
    assert (row["row"], row["outcome"], row["errors"][0]["column"]) == (2, "error", "resources")
    assert "no resource with key" in row["errors"][0]["detail"]


async def test_formula_like_and_hostile_cells_are_stored_as_the_text_typed(client, clock):
    headers = await new_key(clock)
    sheet = ('key,name,kind\n'
             'evil,"=HYPERLINK(""http://evil.example"",""click"")",person\n'
             'plus,+49 40 123,room\n'
             'tag,<script>alert(1)</script>,other\n'
             'at,@SUM(A1),equipment\n')

    await upload(client, headers, sheet)

    stored = await resources(client, headers)
    assert stored["evil"]["name"] == '=HYPERLINK("http://evil.example","click")'
    assert stored["plus"]["name"] == "+49 40 123"
    assert stored["tag"]["name"] == "<script>alert(1)</script>"
    assert stored["at"]["name"] == "@SUM(A1)"


async def test_the_header_row_is_checked_unknown_columns_named(client, clock):
    headers = await new_key(clock)

    report = await upload(client, headers, "key,name,kind,colour\nmia,Mia,person,red\n", dry_run=True)

    assert report["valid"] is False
    assert report["rows"][0]["row"] == 1
    assert report["rows"][0]["errors"][0]["column"] == "colour"


async def test_the_same_idempotency_key_replays_the_report_and_writes_once(client, clock):
    headers = await new_key(clock)
    first = await upload(client, headers, RESOURCES, **{"Idempotency-Key": "sheet-1"})

    again = await upload(client, headers, RESOURCES, **{"Idempotency-Key": "sheet-1"})
    other = await client.post(f"{ADMIN}/{SITE}/import/resources", content=b"key,name,kind\nx,X,room\n",
                              headers={**headers, **CSV, "Idempotency-Key": "sheet-1"})

    assert again["rows"] == first["rows"] and again["counts"]["created"] == 2
    assert other.status_code == 422
    assert len(await audit(client, headers)) == 2


async def test_only_csv_only_catalog_writers_only_their_own_site(client, clock):
    writer = await new_key(clock)
    reader = await new_key(clock, scopes=[Scope.CATALOG_READ])
    stranger = await new_key(clock, site="test-physio")

    as_json = await client.post(f"{ADMIN}/{SITE}/import/resources", json={"key": "x"}, headers=writer)
    forbidden = await client.post(f"{ADMIN}/{SITE}/import/resources", content=RESOURCES, headers={**reader, **CSV})
    hidden = await client.post(f"{ADMIN}/{SITE}/import/resources", content=RESOURCES, headers={**stranger, **CSV})
    too_big = await client.post(f"{ADMIN}/{SITE}/import/resources", content=b"key,name,kind\n" + b"x" * 2_100_000,
                                headers={**writer, **CSV})

    assert as_json.status_code == 415
    assert forbidden.status_code == 403
    assert hidden.status_code == 404
    assert too_big.status_code == 413
    assert await resources(client, writer) == {}


async def test_an_import_is_audited_with_the_key_that_made_it(client, clock):
    headers = await new_key(clock)
    await upload(client, headers, RESOURCES)
    await upload(client, headers, "key,name\nmia,Mia Sommer-Berg\n")

    entries = await audit(client, headers)

    assert [(e["action"], e["object"], e["ref"], e["via"]) for e in entries] == [
        ("changed", "resource", "mia", "csv-import"),
        ("created", "resource", "room-1", "csv-import"),
        ("created", "resource", "mia", "csv-import")]
    assert entries[0]["actor"]["kind"] == "api_key" and entries[0]["actor"]["label"] == "Sheet sync"
    assert entries[0]["summary"] == ['name: "Mia Sommer" → "Mia Sommer-Berg"']


async def test_the_demo_sites_example_sheets_import_and_import_again_unchanged(client, clock):
    headers = await new_key(clock)
    examples = Path(__file__).resolve().parents[2] / "examples"
    sheets = [("resources", (examples / "harbour-physio-resources.csv").read_bytes()),
              ("services", (examples / "harbour-physio-services.csv").read_bytes())]

    first = [await upload(client, headers, body, kind=kind) for kind, body in sheets]
    again = [await upload(client, headers, body, kind=kind) for kind, body in sheets]

    assert [report["counts"]["created"] for report in first] == [5, 4]
    assert [report["counts"]["unchanged"] for report in again] == [5, 4]
    listed = (await client.get(f"{ADMIN}/{SITE}/services", headers=headers)).json()["data"]
    assert [(s["slug"], s["enabled"]) for s in listed][-1] == ("lymphdrainage", False)


async def test_a_retired_resource_a_sheet_lists_comes_back_and_the_log_says_restored(client, clock):
    headers = await new_key(clock)
    await upload(client, headers, RESOURCES)
    retired = await client.delete(f"{ADMIN}/{SITE}/resources/room-1", headers=headers)
    assert retired.status_code == 204

    report = await upload(client, headers, "key\nroom-1\n")

    assert report["rows"][0]["outcome"] == "updated"
    assert (await resources(client, headers))["room-1"]["active"] is True
    latest = (await audit(client, headers))[0]
    assert (latest["action"], latest["via"], latest["summary"]) == ("restored", "csv-import", ["active: false → true"])
