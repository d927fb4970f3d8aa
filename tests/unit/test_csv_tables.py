"""Reading catalog sheets: dialects, byte-order marks, headers, rows as the spreadsheet numbers them, cell syntax."""

from __future__ import annotations

from pathlib import Path

import pytest
from slotwise.sitefile import load_site_file, parse_resource, parse_service
from slotwise.sitefile.csv_tables import (
    MAX_ROWS,
    CsvRow,
    column_of,
    delimiter_of,
    read_sheet,
    row_table,
)


@pytest.mark.parametrize(("text", "delimiter"), [
    ("key,name,kind\n", ","),
    ("key;name;kind\n", ";"),
    ('key;"name, full";kind\n', ";"),  # a comma inside quotes does not count
    ('"a;b",c\n', ","),
    ("key\n", ","),  # one column: either will do
    ("a;b,c\nx,y,z,w,v\n", ","),  # a tie on the header is a comma; later lines are not counted
])
def test_the_delimiter_is_what_the_header_uses_most(text: str, delimiter: str) -> None:
    assert delimiter_of(text) == delimiter


@pytest.mark.parametrize("encoded", [
    "key;name;kind\r\nanna;Änna;person\r\n".encode("utf-8-sig"),
    "key;name;kind\r\nanna;Änna;person\r\n".encode(),
    b"key,name,kind\nanna,\xc3\x84nna,person",  # no final line break
])
def test_utf8_with_or_without_a_bom_and_either_line_ending(encoded: bytes) -> None:
    sheet = read_sheet(encoded, "resources")
    assert sheet.problems == []
    assert sheet.rows == [CsvRow(2, {"key": "anna", "name": "Änna", "kind": "person"})]


def test_a_file_that_is_not_utf8_is_row_ones_problem() -> None:
    sheet = read_sheet("key;name\nanna;Änna\n".encode("cp1252"), "resources")
    assert [(p.row, p.column) for p in sheet.problems] == [(1, None)]
    assert "UTF-8" in sheet.problems[0].message


def test_rows_are_numbered_as_the_spreadsheet_shows_them() -> None:
    # Row 3 is empty (skipped, but counted); row 4's description spans two lines in one cell.
    sheet = read_sheet(b'slug,name,description\nyoga,Yoga,\n,,\nmassage,Massage,"Two\nlines"\npilates,Pilates,\n',
                       "services")
    assert [(row.number, row.cells["slug"]) for row in sheet.rows] == [(2, "yoga"), (4, "massage"), (5, "pilates")]
    assert sheet.rows[1].cells["description"] == "Two\nlines"


def test_the_header_is_matched_loosely_and_reported_as_written() -> None:
    sheet = read_sheet(b"Slug;Buffer After;min-notice;Colour;slug\nx;5;2h;red;y\n", "services")
    assert sheet.headers == {"slug": "Slug", "buffer_after": "Buffer After", "min_notice": "min-notice"}
    assert [(p.row, p.column) for p in sheet.problems] == [(1, "Colour"), (1, "slug")]
    assert "did you mean" not in sheet.problems[0].message  # nothing is close to "colour"


def test_the_key_column_is_required_and_extra_cells_are_a_rows_problem() -> None:
    sheet = read_sheet(b"name,kind\nAnna,person,extra\n", "resources")
    assert [(p.row, p.column) for p in sheet.problems] == [(1, None), (2, None)]


def test_too_many_rows() -> None:
    body = b"key,name,kind\n" + b"".join(b"r%d,R,room\n" % i for i in range(MAX_ROWS + 1))
    sheet = read_sheet(body, "resources")
    assert len(sheet.rows) == MAX_ROWS
    assert [p.row for p in sheet.problems] == [MAX_ROWS + 2]


def table(sheet_kind: str, **cells: str) -> dict:
    found, problems = row_table(CsvRow(2, cells), sheet_kind)
    assert problems == {}
    return found


@pytest.mark.parametrize(("cell", "expected"), [
    ("mon=09:00-12:00 13:00-17:00; tue=09:00-17:00",
     {"mon": ["09:00-12:00", "13:00-17:00"], "tue": ["09:00-17:00"]}),
    ("Mon-Wed = 09:00-12:00, 13:00-17:00", {day: ["09:00-12:00", "13:00-17:00"] for day in ("mon", "tue", "wed")}),
    ("sat=10:00-14:00\nsun=10:00-12:00", {"sat": ["10:00-14:00"], "sun": ["10:00-12:00"]}),
    ("none", {}),
])
def test_hours(cell: str, expected: dict) -> None:
    assert table("resources", hours=cell)["hours"] == expected


@pytest.mark.parametrize(("cell", "message"), [
    ("monday=09:00-12:00", "is not a weekday"),
    ("fri-mon=09:00-12:00", "runs backwards"),
    ("mon=09:00-12:00; mon-tue=13:00-14:00", "mon is given twice"),
    ("09:00-12:00", 'needs a weekday and "="'),
])
def test_hours_that_cannot_be_read_say_how_to_write_them(cell: str, message: str) -> None:
    _, problems = row_table(CsvRow(2, {"hours": cell}), "resources")
    assert message in problems["hours"]


def test_a_resource_row_is_the_site_files_table() -> None:
    found = table("resources", key="anna", name=" Anna ", kind="person", timezone="", hours="",
                  closed="2026-12-24, 2026-12-27..2026-12-31", extra_open="2026-12-30=10:00-11:00 14:00-15:00")
    assert found == {"key": "anna", "name": "Anna", "kind": "person", "timezone": None, "hours": None,
                     "closed": ["2026-12-24", "2026-12-27..2026-12-31"],
                     "extra_open": {"2026-12-30": ["10:00-11:00", "14:00-15:00"]}}
    spec = parse_resource({name: value for name, value in found.items() if value is not None})
    assert len(spec.closed) == 6 and spec.hours is None


def test_a_service_row_is_the_site_files_table() -> None:
    found = table("services", slug="massage", name="Massage", duration="60", step="30m", seats="8",
                  price="60.00 EUR", reminders="24h, 120", resources="anna ben + room-1", enabled="No",
                  questions="reason | Why? | text | required | max_length=300; "
                            "how | How did you find us? | select | options=Friend, Web")
    assert (found["duration"], found["step"], found["seats"]) == (60, "30m", 8)
    assert found["reminders"] == ["24h", 120]
    assert found["resources"] == [["anna", "ben"], ["room-1"]]
    assert found["enabled"] is False
    assert found["questions"] == [
        {"key": "reason", "label": "Why?", "type": "text", "required": True, "max_length": 300},
        {"key": "how", "label": "How did you find us?", "type": "select", "options": ["Friend", "Web"]}]
    spec = parse_service(found, resources=["anna", "ben", "room-1"])
    assert spec.seats == 8 and spec.reminders == (1440, 120) and not spec.enabled


@pytest.mark.parametrize("cell", [
    '[{ key = "reason", label = "Why?", type = "text" }]',
    '[{"key": "reason", "label": "Why?", "type": "text"}]',
])
def test_questions_may_be_the_site_files_own_list(cell: str) -> None:
    assert table("services", questions=cell)["questions"] == [{"key": "reason", "label": "Why?", "type": "text"}]


def test_one_group_of_resources_is_a_flat_list_and_none_empties_a_list() -> None:
    found = table("services", resources="anna, ben", reminders="none", questions="none")
    assert found == {"resources": ["anna", "ben"], "reminders": [], "questions": []}


@pytest.mark.parametrize(("column", "cell", "message"), [
    ("enabled", "maybe", "must be yes or no"),
    ("questions", "reason | Why?", "must be key | label | type"),
    ("questions", "reason | Why? | text | mandatory", "is not a question setting"),
    ("questions", "[{ key = ", "neither a TOML nor a JSON"),
    ("questions", "[" * 100_000, "nested too deeply"),
    ("questions", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
])
def test_service_cells_that_cannot_be_read(column: str, cell: str, message: str) -> None:
    _, problems = row_table(CsvRow(2, {column: cell}), "services")
    assert message in problems[column]


def test_formula_like_cells_are_text() -> None:
    found = table("resources", name="=1+2", kind="@SUM(A1)")
    assert found == {"name": "=1+2", "kind": "@SUM(A1)"}


@pytest.mark.parametrize(("path", "column"), [
    ("hours.mon[0]", "hours"), ("questions[1].type", "questions"), ("resources[0][1]", "resources"),
    ("name", "name"), ("", ""),
])
def test_a_site_file_path_is_in_its_column(path: str, column: str) -> None:
    assert column_of(path) == column


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def sheet_specs(kind: str, resources: list[str] | None = None) -> list:
    sheet = read_sheet((EXAMPLES / f"harbour-physio-{kind}.csv").read_bytes(), kind)
    assert sheet.problems == []
    specs = []
    for row in sheet.rows:
        found = {name: value for name, value in table(kind, **row.cells).items() if value is not None}
        specs.append(parse_resource(found) if kind == "resources" else parse_service(found, resources=resources))
    return specs


def test_the_example_sheets_are_the_demo_sites_catalog() -> None:
    demo = load_site_file(EXAMPLES / "harbour-physio.toml")

    assert tuple(sheet_specs("resources")) == demo.resources
    assert tuple(sheet_specs("services", [r.key for r in demo.resources])) == demo.services
