"""Resources and services from a spreadsheet: CSV text in, site-file tables out, one per row. Pure.

The columns are the fields of a ``[[resources]]`` or ``[[services]]`` table;
each row becomes that table, which ``parse_resource``/``parse_service`` then
check with the site file's own rules and messages. This module only reads
the sheet and the cells; the full syntax, with examples, is ``docs/csv.md``.

- **Text**: UTF-8, with or without a byte-order mark (Excel writes one).
  The delimiter is ``;`` or ``,``, whichever the header line uses more
  (outside quotes); a tie is ``,``. Quotes as RFC 4180 (a spreadsheet adds
  them where a cell needs them).
- **Header**: the first row names the columns, in any order, in any case;
  spaces and hyphens count as ``_`` ("Buffer after" is ``buffer_after``).
  Only the key column (``key``/``slug``) is required. A column left out
  leaves that field as it is on an existing object (a new one gets the
  default); an **empty cell** puts the field back to its default, as if a
  site file left the key out.
- **Rows** are numbered as the spreadsheet shows them: the header is row 1.
  Rows whose cells are all empty are skipped.
- **Cells** are text, stored exactly as typed (a name like ``=1+2`` is a
  name, never a formula). Complex fields have a cell syntax (see
  :data:`CELL_SYNTAX`); ``none`` writes an empty list or table where empty
  has a meaning of its own (no reminders, no weekly hours).
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any, Literal

from slotwise.sitefile.schema import WEEKDAYS

Kind = Literal["resources", "services"]

# A catalog is tens of rows; thousands is a wrong file (and one transaction holds them all).
MAX_ROWS = 2000

KEY_COLUMN: dict[Kind, str] = {"resources": "key", "services": "slug"}
COLUMNS: dict[Kind, tuple[str, ...]] = {
    "resources": ("key", "name", "kind", "timezone", "hours", "closed", "extra_open"),
    "services": ("slug", "name", "description", "duration", "step", "buffer_before", "buffer_after",
                 "min_notice", "max_advance", "cancel_until", "reschedule_until", "seats", "price", "phone",
                 "reminders", "questions", "resources", "enabled"),
}
_DURATIONS = frozenset({"duration", "step", "buffer_before", "buffer_after", "min_notice", "max_advance",
                        "cancel_until", "reschedule_until"})

# How each complex column is written in a cell (shown in messages and docs/csv.md).
CELL_SYNTAX = {
    "hours": "mon=09:00-12:00 13:00-17:00; tue-fri=09:00-17:00 (empty: the site's hours; none: no weekly hours)",
    "closed": "2026-12-24 2026-12-27..2026-12-31 (dates and ranges, separated by spaces, commas or ;)",
    "extra_open": "2026-12-30=10:00-11:00; 2027-01-02=09:00-12:00 14:00-16:00",
    "reminders": "24h 2h (empty: the default; none: no reminders)",
    "resources": "anna ben + room-1 room-2 (one of anna or ben, and one of the rooms)",
    "questions": "reason | What brings you in? | text; referral | How did you hear of us? | select | "
                 "options=Friend, Doctor | required",
    "enabled": "yes or no",
}


@dataclass(frozen=True, slots=True)
class CsvProblem:
    """One thing wrong in the sheet: its row (the header is 1), its column as the header writes it."""

    row: int
    column: str | None  # None: the whole row or the whole file
    message: str


@dataclass(frozen=True, slots=True)
class CsvRow:
    number: int  # as the spreadsheet shows it
    cells: dict[str, str]  # canonical column -> the cell's text


@dataclass(slots=True)
class Sheet:
    """The sheet as read: the header's own names per canonical column, the rows, and what was wrong."""

    headers: dict[str, str] = field(default_factory=dict)  # canonical -> as written
    rows: list[CsvRow] = field(default_factory=list)
    problems: list[CsvProblem] = field(default_factory=list)

    def header_of(self, column: str) -> str:
        return self.headers.get(column, column)


def _canonical(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def delimiter_of(text: str) -> str:
    """``;`` or ``,``: whichever the first line uses more outside quotes (a tie is ``,``)."""
    counts = {";": 0, ",": 0}
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "\r\n":
            break
        elif not quoted and char in counts:
            counts[char] += 1
    return ";" if counts[";"] > counts[","] else ","


def decode(data: bytes) -> str:
    """UTF-8 text without its byte-order mark. Raises ValueError with a message for the user."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"is not UTF-8 text (bad byte at offset {error.start}); "
                         "save the sheet as \"CSV UTF-8\"") from None


def read_sheet(data: bytes, kind: Kind) -> Sheet:
    """The header and the non-empty rows of a CSV body; problems with the file itself in ``problems``."""
    sheet = Sheet()
    try:
        text = decode(data)
    except ValueError as error:
        sheet.problems.append(CsvProblem(1, None, f"the file {error}"))
        return sheet
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_of(text), strict=False)
    try:
        header = next(reader, None)
    except csv.Error as error:
        sheet.problems.append(CsvProblem(1, None, f"the header cannot be read: {error}"))
        return sheet
    if not header or not any(cell.strip() for cell in header):
        sheet.problems.append(CsvProblem(1, None, f"the first row must name the columns, e.g. "
                                                  f"{', '.join(COLUMNS[kind][:3])}"))
        return sheet
    order = _header(sheet, header, kind)
    number = 1
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            sheet.problems.append(CsvProblem(number, None, f"cannot be read: {error}"))
            break
        if not any(cell.strip() for cell in cells):
            continue
        if len(sheet.rows) == MAX_ROWS:
            sheet.problems.append(CsvProblem(number, None, f"at most {MAX_ROWS} rows can be imported at once"))
            break
        if len(cells) > len(header):
            sheet.problems.append(CsvProblem(number, None, f"has {len(cells)} cells, but the header names "
                                                           f"{len(header)} columns"))
            continue
        sheet.rows.append(CsvRow(number, {column: cells[index] for index, column in order.items()
                                          if index < len(cells)}))
    return sheet


def _header(sheet: Sheet, header: list[str], kind: Kind) -> dict[int, str]:
    """Index -> canonical column; unknown, repeated and missing columns are row 1's problems."""
    order: dict[int, str] = {}
    for index, written in enumerate(header):
        column = _canonical(written)
        if not column:
            continue
        if column not in COLUMNS[kind]:
            match = difflib.get_close_matches(column, COLUMNS[kind], n=1)
            hint = f'; did you mean "{match[0]}"?' if match else f"; the columns are {', '.join(COLUMNS[kind])}"
            sheet.problems.append(CsvProblem(1, written.strip(), f"unknown column{hint}"))
        elif column in sheet.headers:
            sheet.problems.append(CsvProblem(1, written.strip(), "this column appears twice"))
        else:
            sheet.headers[column] = written.strip()
            order[index] = column
    key = KEY_COLUMN[kind]
    if key not in sheet.headers:
        sheet.problems.append(CsvProblem(1, None, f'a column "{key}" is required: it names each row\'s object'))
    return order


# --------------------------------------------------------------------------
# Cells -> the values a site file's table holds
# --------------------------------------------------------------------------


class CellError(ValueError):
    """A cell that does not follow its column's syntax; the message says how to write it."""


_LIST_SPLIT = re.compile(r"[\s,;]+")
_RANGE_SPLIT = re.compile(r"[\s,]+")
_NONE = "none"
_TRUE = frozenset({"true", "yes", "y", "1", "ja", "x"})
_FALSE = frozenset({"false", "no", "n", "0", "nein"})


def row_table(row: CsvRow, kind: Kind) -> tuple[dict[str, Any], dict[str, str]]:
    """The row as a site-file table (an empty cell is None: the default) and the cells it could not read.

    Columns missing from the sheet are missing from the table.
    """
    table: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for column, raw in row.cells.items():
        text = raw.strip()
        if not text:
            table[column] = None
            continue
        try:
            table[column] = _cell(kind, column, raw)
        except CellError as error:
            problems[column] = str(error)
    return table, problems


def _cell(kind: Kind, column: str, raw: str) -> Any:
    text = raw.strip()
    if column in _DURATIONS or column == "seats":
        return int(text) if text.isdigit() else text  # "45" is minutes, as 45 in a file; "1h30m" stays text
    if column == "enabled":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise CellError(f'must be yes or no (or true/false), got "{text}"')
    if column == "hours":
        return {} if text.lower() == _NONE else _weekly(text)
    if column == "extra_open":
        return {} if text.lower() == _NONE else _dated(text)
    if column == "closed":
        return [] if text.lower() == _NONE else _LIST_SPLIT.split(text)
    if column == "reminders":
        return [] if text.lower() == _NONE else [
            int(item) if item.isdigit() else item for item in _LIST_SPLIT.split(text)]
    if column == "resources" and kind == "services":
        return _groups(text)
    if column == "questions":
        return [] if text.lower() == _NONE else _questions(text)
    if column == "description":
        return raw  # kept as typed, inner line breaks included (the parser trims the ends)
    return text


def _pairs(text: str, what: str, example: str) -> list[tuple[str, list[str]]]:
    """"a=x y; b=z" -> [("a", ["x", "y"]), ("b", ["z"])]; ; or a line break between pairs."""
    pairs = []
    for part in re.split(r"[;\n]+", text):
        if not part.strip():
            continue
        name, equals, ranges = part.partition("=")
        if not equals:
            raise CellError(f'"{part.strip()}" needs a {what} and "=", like {example}')
        pairs.append((name.strip().lower(), [item for item in _RANGE_SPLIT.split(ranges.strip()) if item]))
    return pairs


def _weekly(text: str) -> dict[str, list[str]]:
    """``mon=09:00-12:00 13:00-17:00; tue-fri=09:00-17:00`` -> {"mon": [...], "tue": [...], ...}."""
    hours: dict[str, list[str]] = {}
    for days, ranges in _pairs(text, "weekday", CELL_SYNTAX["hours"].split(" (")[0]):
        first, dash, last = days.partition("-")
        if first not in WEEKDAYS or (dash and last not in WEEKDAYS):
            raise CellError(f'"{days}" is not a weekday; write mon, tue, wed, thu, fri, sat, sun or a span '
                            'like mon-fri')
        start, end = WEEKDAYS.index(first), WEEKDAYS.index(last) if dash else WEEKDAYS.index(first)
        if end < start:
            raise CellError(f'"{days}" runs backwards; write the earlier day first, like mon-fri')
        for day in WEEKDAYS[start:end + 1]:
            if day in hours:
                raise CellError(f"{day} is given twice")
            hours[day] = ranges
    return hours


def _dated(text: str) -> dict[str, list[str]]:
    """``2026-12-30=10:00-11:00; 2027-01-02=09:00-12:00`` -> {"2026-12-30": ["10:00-11:00"], ...}."""
    found: dict[str, list[str]] = {}
    for day, ranges in _pairs(text, "date", CELL_SYNTAX["extra_open"]):
        if day in found:
            raise CellError(f"{day} is given twice")
        found[day] = ranges
    return found


def _groups(text: str) -> list[Any]:
    """``anna ben`` -> ["anna", "ben"] (any one); ``anna ben + room-1`` -> [["anna", "ben"], ["room-1"]]."""
    groups = [[key for key in _RANGE_SPLIT.split(part.strip()) if key] for part in re.split(r"[+;]", text)]
    return groups[0] if len(groups) == 1 else groups


_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _questions(text: str) -> list[Any]:
    """Questions separated by ``;`` or line breaks, each ``key | label | type | settings…``.

    Settings: ``required``, ``options=a, b, c``, ``max_length=500``, ``min=1``,
    ``max=10``. A cell that starts with ``[`` is read as the site file's own
    list of tables (TOML inline tables, or JSON).
    """
    if text.startswith("["):
        return _structured(text)
    questions = []
    for part in re.split(r"[;\n]+", text):
        if not part.strip():
            continue
        pieces = [piece.strip() for piece in part.split("|")]
        if len(pieces) < 3:
            raise CellError(f'"{part.strip()}" must be key | label | type, like '
                            f'"{CELL_SYNTAX["questions"].split(";")[0]}"')
        question: dict[str, Any] = {"key": pieces[0], "label": pieces[1], "type": pieces[2].lower()}
        for setting in pieces[3:]:
            name, equals, value = (item.strip() for item in setting.partition("="))
            name = name.lower()
            if not equals and name in ("required", "optional"):
                question["required"] = name == "required"
            elif equals and name == "options":
                question["options"] = [option.strip() for option in value.split(",") if option.strip()]
            elif equals and name in ("min", "max", "max_length") and _NUMBER.fullmatch(value):
                question[name] = float(value) if "." in value else int(value)
            else:
                raise CellError(f'"{setting}" is not a question setting; use required, options=a, b, '
                                "max_length=500, min=1 or max=10")
        questions.append(question)
    return questions


def _structured(text: str) -> Any:
    """The site file's own list of tables in a cell: JSON, or TOML's inline form."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    except RecursionError:  # "[[[[…" a hundred thousand deep: both decoders recurse per level
        raise CellError("is nested too deeply to be a list of questions") from None
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError as error:
        raise CellError(f"is neither a TOML nor a JSON list of tables: {error}") from None
    except RecursionError:
        raise CellError("is nested too deeply to be a list of questions") from None


def column_of(path: str) -> str:
    """A site-file problem's path -> the column it is in: ``hours.mon[0]`` -> ``hours``."""
    return re.split(r"[.\[]", path, maxsplit=1)[0] if path else ""
