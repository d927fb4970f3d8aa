"""The catalog forms' pure half: a form's fields ↔ the site file's tables, and the parser's messages pinned
to form fields.

A service or resource form becomes a site-file table (a create) or a PATCH body
(an edit) here, an object's table becomes the form's values, a price typed the
page language's way becomes the site file's "60.00 EUR", and the site file's
problem paths (``hours.mon[0]``, ``questions[2].label``) find the field they
name. None of it touches a request, a session or the database, so it is kept
apart from the pages in ``catalog.py`` (which read the form, call
``services/catalog.py`` and render) and is tested on its own, without a server.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from babel import Locale
from babel.numbers import NumberFormatError, format_currency, get_currency_precision, parse_decimal

from slotwise.domain.locales import SUPPORTED_LOCALES
from slotwise.i18n import FORMAT_LOCALES, Formatter
from slotwise.services.errors import FieldProblem
from slotwise.sitefile.schema import PHONE_MODES, WEEKDAYS

SERVICE_NUMBERS = ("duration", "seats")
# The remaining fields, each as the site file writes it (minutes, or "2h", "180d").
SERVICE_TIMES = ("step", "buffer_before", "buffer_after", "min_notice", "max_advance", "cancel_until",
                 "reschedule_until", "listed_duration")
MAX_QUESTIONS = 30


# --- forms ↔ site-file tables ----------------------------------------------------------------------


def _per_language(table: dict[str, Any], field: str, locale: str) -> dict[str, str]:
    """A per-language text as one value per language ("" where none): a plain string is the site's language."""
    value = table.get(field)
    if value is None:
        return {lang: "" for lang in SUPPORTED_LOCALES}
    if isinstance(value, str):
        return {lang: value if lang == locale else "" for lang in SUPPORTED_LOCALES}
    return {lang: value.get(lang, "") for lang in SUPPORTED_LOCALES}


def _language_value(form: dict[str, str], field: str, locale: str) -> str | dict[str, str] | None:
    """The form's ``field.en``/``field.de`` as the site file takes them: only the site's language → a plain
    string (as a hand-written file would have it); several → a table; none → None (the default)."""
    given = {lang: form.get(f"{field}.{lang}", "").strip() for lang in SUPPORTED_LOCALES}
    given = {lang: text for lang, text in given.items() if text}
    if not given:
        return None
    if list(given) == [locale]:
        return given[locale]
    return given


def readable_minutes(minutes: Any) -> str:
    """Minutes as a person would type them and the site file takes them: 2880 → "2d", 120 → "2h", 45 → "45"."""
    if not isinstance(minutes, int) or isinstance(minutes, bool):
        return "" if minutes is None else str(minutes)
    if minutes and minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes and minutes % 60 == 0 and minutes >= 120:
        return f"{minutes // 60}h"
    return str(minutes)


def metadata_text(metadata: dict[str, Any] | None) -> str:
    """The owner's own keys as ``key = value`` lines; text that would read as a number or true/false is quoted."""
    lines = []
    for key, value in (metadata or {}).items():
        if isinstance(value, bool):
            shown = "true" if value else "false"
        elif isinstance(value, (int, float)):
            shown = str(value)
        else:
            shown = json.dumps(value, ensure_ascii=False) if _metadata_value(value) != value else value
        lines.append(f"{key} = {shown}")
    return "\n".join(lines)


def _metadata_value(raw: str) -> str | int | float | bool:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        try:
            return str(json.loads(raw))
        except ValueError:
            return raw[1:-1]
    if raw in ("true", "false"):
        return raw == "true"
    if re.fullmatch(r"-?\d{1,15}", raw):
        return int(raw)
    if re.fullmatch(r"-?\d{1,15}\.\d{1,15}", raw):
        return float(raw)
    return raw


def metadata_body(raw: str) -> dict[str, Any]:
    """``key = value`` lines as the site file's ``metadata`` table (a line without ``=`` is a key without
    a value: the parser names it)."""
    table: dict[str, Any] = {}
    for line in raw.splitlines():
        if not line.strip():
            continue
        key, _, value = line.partition("=")
        table[key.strip()] = _metadata_value(value)
    return table


def _number(raw: str) -> int | str | None:
    """A whole number as a number, anything else as typed (the site file's parser says what is wrong)."""
    raw = raw.strip()
    if not raw:
        return None
    return int(raw) if raw.isdigit() else raw


def _lines(raw: str) -> list[str]:
    return [part.strip() for part in re.split(r"[\n,;]+", raw) if part.strip()]


def service_form(table: dict[str, Any], locale: str) -> dict[str, Any]:
    """A service's table as the form shows it."""
    return {
        "slug": table.get("slug", ""),
        "name": _per_language(table, "name", locale),
        "description": _per_language(table, "description", locale),
        "category": _per_language(table, "category", locale),
        **{field: "" if table.get(field) is None else str(table[field]) for field in SERVICE_NUMBERS},
        **{field: readable_minutes(table.get(field)) for field in SERVICE_TIMES},
        "price": table.get("price") or "",
        "enabled": table.get("enabled", True),
        "ask_address": table.get("ask_address", False),
        "phone": table.get("phone", "optional"),
        "reminders": ", ".join(str(m) for m in table.get("reminders") or []),
        "groups": table.get("resources") or [[]],
        "metadata": metadata_text(table.get("metadata")),
        "questions": [{**question_form(q, locale), "n": n, "position": n + 1}
                      for n, q in enumerate(table.get("questions") or [])],
    }


QUESTION_BOUNDS = ("min", "max", "max_length")


def question_form(question: dict[str, Any], locale: str) -> dict[str, Any]:
    """One question as its row of the form: options one per line, per language."""
    options = question.get("options") or []
    return {
        "key": question.get("key", ""), "label": _per_language(question, "label", locale),
        "type": question.get("type", "text"), "required": bool(question.get("required")),
        "options": {lang: "\n".join(_per_language({"o": option}, "o", locale)[lang] for option in options)
                    for lang in SUPPORTED_LOCALES},
        **{bound: "" if question.get(bound) is None else str(question[bound]) for bound in QUESTION_BOUNDS},
    }


def question_rows(form: dict[str, str], locale: str) -> list[tuple[int, dict[str, Any]]]:
    """The form's question rows as (row number, site-file question), in the order their positions say;
    removed rows and empty new rows left out."""
    rows = []
    for index in range(MAX_QUESTIONS + 1):
        prefix = f"questions.{index}."
        if f"{prefix}key" not in form:
            continue
        key = form[f"{prefix}key"].strip()
        label = _language_value(form, f"{prefix}label", locale)
        if form.get(f"{prefix}remove") == "1" or (not key and label is None):
            continue
        question: dict[str, Any] = {"key": key, "label": label if label is not None else "",
                                    "type": form.get(f"{prefix}type", "text"),
                                    "required": form.get(f"{prefix}required") == "1"}
        per_language = {lang: _lines_only(form.get(f"{prefix}options.{lang}", "")) for lang in SUPPORTED_LOCALES}
        filled = {lang: lines for lang, lines in per_language.items() if lines}
        if filled:
            longest = max(len(lines) for lines in filled.values())
            plain = list(filled) == [locale]
            question["options"] = [
                filled[locale][n] if plain else {lang: lines[n] for lang, lines in filled.items() if n < len(lines)}
                for n in range(longest)]
        for bound in QUESTION_BOUNDS:
            value = _number(form.get(f"{prefix}{bound}", ""))
            if value is not None:
                question[bound] = value
        raw_position = form.get(f"{prefix}position", "").strip()
        position = int(raw_position) if raw_position.isdigit() else 1000 + index
        rows.append((position, index, question))
    rows.sort(key=lambda row: (row[0], row[1]))
    return [(index, question) for _, index, question in rows]


def posted_questions(form: dict[str, str]) -> list[dict[str, Any]]:
    """The question rows as typed (to show them again next to their problems), by their row numbers."""
    rows = []
    for n in range(MAX_QUESTIONS + 1):
        prefix = f"questions.{n}."
        if f"{prefix}key" not in form:
            continue
        row = {"n": n, "key": form[f"{prefix}key"], "type": form.get(f"{prefix}type", "text"),
               "required": form.get(f"{prefix}required") == "1", "remove": form.get(f"{prefix}remove") == "1",
               "position": form.get(f"{prefix}position", ""),
               "label": {lang: form.get(f"{prefix}label.{lang}", "") for lang in SUPPORTED_LOCALES},
               "options": {lang: form.get(f"{prefix}options.{lang}", "") for lang in SUPPORTED_LOCALES},
               **{bound: form.get(f"{prefix}{bound}", "") for bound in QUESTION_BOUNDS}}
        if row["key"].strip() or any(row["label"].values()):
            rows.append(row)
    return rows


def _lines_only(raw: str) -> list[str]:
    return [line.strip() for line in raw.splitlines() if line.strip()]


def renumber_questions(problems: list[FieldProblem], order: list[int]) -> list[FieldProblem]:
    """``questions[2].label`` names the body's third question; the form knows it by its row number."""
    out = []
    for problem in problems:
        found = re.match(r"questions\[(\d+)\](.*)", problem.field)
        if found and int(found.group(1)) < len(order):
            problem = FieldProblem(f"questions[{order[int(found.group(1))]}]{found.group(2)}", problem.code,
                                   problem.params)
        out.append(problem)
    return out


def service_body(form: dict[str, str], chosen: dict[int, list[str]], locale: str, *,
                 creating: bool) -> dict[str, Any]:
    """The form as a site-file table (a create) or PATCH body (an edit: ``None`` puts back a default)."""
    body: dict[str, Any] = {
        "name": _language_value(form, "name", locale),
        "description": _language_value(form, "description", locale),
        "category": _language_value(form, "category", locale),
        "price": form.get("price", "").strip() or None,
        "enabled": form.get("enabled") == "1",
        "ask_address": form.get("ask_address") == "1",
        "reminders": [_number(part) for part in _lines(form.get("reminders", ""))],
        "metadata": metadata_body(form.get("metadata", "")) or None,
    }
    for field in SERVICE_NUMBERS + SERVICE_TIMES:
        body[field] = _number(form.get(field, ""))
    if form.get("phone") in PHONE_MODES:
        body["phone"] = form["phone"]
    count = int(form["groups"]) if form.get("groups", "").isdigit() else len(chosen)
    groups = [chosen.get(index, []) for index in range(min(count, 20))]
    if groups:
        body["resources"] = groups if len(groups) > 1 else groups[0]
    if form.get("questions_shown") == "1":
        body["questions"] = [question for _, question in question_rows(form, locale)]
    if creating:
        body["slug"] = form.get("slug", "").strip()
        body = {key: value for key, value in body.items() if value is not None and value != [] and value != {}}
    return body


def resource_form(table: dict[str, Any], locale: str, site_hours: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """A resource's table as the form shows it; without hours of its own, the site's are shown to start from."""
    hours = table.get("hours")
    shown = hours if hours is not None else (site_hours or {})
    return {
        "key": table.get("key", ""),
        "name": _per_language(table, "name", locale),
        "kind": table.get("kind", "person"),
        "own_hours": hours is not None,
        "hours": {day: ", ".join(shown.get(day, [])) for day in WEEKDAYS},
        "closed": "\n".join(table.get("closed") or []),
        "timezone": table.get("timezone") or "",
        "extra_open": "\n".join(f"{day}: {', '.join(ranges)}"
                                 for day, ranges in (table.get("extra_open") or {}).items()),
        "metadata": metadata_text(table.get("metadata")),
    }


def resource_body(form: dict[str, str], locale: str, *, creating: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": _language_value(form, "name", locale),
        "kind": form.get("kind", "").strip() or None,
        "hours": ({day: _lines(form.get(f"hours.{day}", "")) for day in WEEKDAYS
                   if _lines(form.get(f"hours.{day}", ""))} if form.get("own_hours") == "1" else None),
        "closed": _lines(form.get("closed", "")),
        "timezone": form.get("timezone", "").strip() or None,
        "extra_open": extra_open_body(form.get("extra_open", "")),
        "metadata": metadata_body(form.get("metadata", "")) or None,
    }
    if creating:
        body["key"] = form.get("key", "").strip()
        body = {key: value for key, value in body.items() if value is not None and value != [] and value != {}}
    return body


def extra_open_body(raw: str) -> dict[str, list[str]]:
    """``2026-12-19: 10:00-14:00, 15:00-16:00`` lines as the site file's ``extra_open`` table."""
    table: dict[str, list[str]] = {}
    for line in raw.splitlines():
        if line.strip():
            day, _, ranges = line.partition(": ")
            table[day.strip()] = _lines(ranges)
    return table


def field_errors(problems: list[FieldProblem], fields: set[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Each problem at the form field its path names (``hours.mon[0]`` → ``hours.mon``, ``name`` → the
    site's language's name field, ``resources[1]`` → ``resources``); the rest for the top of the form."""
    pinned: dict[str, list[str]] = {}
    loose: list[str] = []
    for problem in problems:
        message = str(problem.params.get("message", problem.code))
        path = re.sub(r"\[\d+\]", lambda m: "." + m.group(0)[1:-1], problem.field)
        parts = path.split(".")
        for size in range(len(parts), 0, -1):
            candidate = ".".join(parts[:size])
            if candidate in fields:
                pinned.setdefault(candidate, []).append(message)
                break
        else:
            loose.append(f"{problem.field}: {message}" if problem.field not in ("body", "") else message)
    return pinned, loose


QUESTION_FIELDS = {f"questions.{i}.{name}" for i in range(MAX_QUESTIONS + 1)
                   for name in ("key", "type", "required", "min", "max", "max_length", "label", "options",
                                *(f"{f}.{lang}" for f in ("label", "options") for lang in SUPPORTED_LOCALES))}
SERVICE_FIELDS = QUESTION_FIELDS | ({"slug", "questions", "metadata", "price", "enabled", "phone", "reminders",
                                     "resources", "ask_address"}
                  | set(SERVICE_NUMBERS) | set(SERVICE_TIMES)
                  | {f"{f}.{lang}" for f in ("name", "description", "category") for lang in SUPPORTED_LOCALES})
RESOURCE_FIELDS = ({"key", "kind", "closed", "hours", "timezone", "extra_open", "metadata"}
                   | {f"hours.{day}" for day in WEEKDAYS}
                   | {f"name.{lang}" for lang in SUPPORTED_LOCALES})


def _pin_plain(problems: list[FieldProblem], locale: str) -> list[FieldProblem]:
    """``name`` (a plain string) means the site's language's field."""
    out = []
    for problem in problems:
        if problem.field in ("name", "description", "category"):
            problem = FieldProblem(f"{problem.field}.{locale}", problem.code, problem.params)
        out.append(problem)
    return out


def _service_problems(problems: list[FieldProblem], form: dict[str, str], locale: str) -> list[FieldProblem]:
    order = [n for n, _ in question_rows(form, locale)]
    return renumber_questions(_pin_plain(problems, locale), order)


# --- prices ----------------------------------------------------------------------------------------


def shown_price(price: str | None, fmt: Formatter) -> str | None:
    """The site file's "60.00 EUR" as the page's language writes it ("€60.00", "60,00 €")."""
    if not price:
        return None
    amount, _, currency = price.partition(" ")
    try:
        minor = int(Decimal(amount).scaleb(get_currency_precision(currency)))
        return fmt.price(minor, currency)
    except (InvalidOperation, ValueError, KeyError):
        return price


def form_price(price: str | None, locale: str) -> str:
    """The price field's value: the site file's "60.00 EUR" as the page's language writes it ("60,00 €",
    "€60.00"), as the list beside the form shows it, when :func:`typed_price` reads that back to the same
    price; else the site file's form (a currency the language has no unambiguous symbol for)."""
    if not price:
        return ""
    amount, _, currency = price.partition(" ")
    try:
        written = format_currency(Decimal(amount), currency, locale=FORMAT_LOCALES[locale])
    except (InvalidOperation, ValueError, KeyError):
        return price
    back_amount, _, back_currency = typed_price(written, locale).partition(" ")
    try:
        same = back_currency == currency.upper() and Decimal(back_amount) == Decimal(amount)
    except InvalidOperation:
        same = False
    return written if same else price


_SITE_FILE_PRICE = re.compile(r"\d+(\.\d+)?\s+[A-Za-z]{3}")
_TYPED_PRICE = re.compile(r"(?P<before>[^\d\s.,]+)?\s*(?P<amount>\d[\d.,]*)\s*(?P<after>[^\d\s.,]+)?")


def typed_price(text: str, locale: str) -> str:
    """A price typed in the form, in the site file's terms: "48,50 €" on a German page is "48.50 EUR".

    People write a price as their language does, and the list beside the form
    shows it that way ("60,00 €"), so the page's own way is taken as well as
    the site file's "60.00 EUR". Anything else (no currency, two of them, an
    amount the page's language would not write) goes to the site file's parser
    unchanged, so its message names the problem. Parsing is strict: "48.50" on
    a German page is refused there, never read as 4850.
    """
    text = text.strip()
    found = None if _SITE_FILE_PRICE.fullmatch(text) else _TYPED_PRICE.fullmatch(text)
    if not found or (found["before"] and found["after"]):
        return text
    code = _currency_code(found["before"] or found["after"] or "", FORMAT_LOCALES[locale])
    try:
        amount = parse_decimal(found["amount"], locale=FORMAT_LOCALES[locale], strict=True)
    except NumberFormatError:
        return text
    return f"{amount} {code}" if code else text


def _currency_code(mark: str, babel_locale: str) -> str | None:
    """An ISO code as typed ("eur"), or the code of a symbol the language gives to one currency only ("€")."""
    if re.fullmatch(r"[A-Za-z]{3}", mark):
        return mark.upper()
    codes = [code for code, symbol in Locale.parse(babel_locale).currency_symbols.items() if symbol == mark]
    return codes[0] if len(codes) == 1 else None
