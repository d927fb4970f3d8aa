"""The back office's catalog: services and resources as forms, the site file (read-only, downloadable)
and the site's audit log (read-only).

Every write goes through ``services/catalog.py``, exactly as the admin API's
(``web/admin_catalog.py``): a form becomes a site-file table (a PATCH body for
an edit), the site file's parser checks it, and its messages come back with
paths (``hours.mon[0]``, ``name.de``) that :func:`field_errors` pins to the
form field they belong to. An edit form carries the object's ETag; saving it
sends it as ``if_match``, so a form edited while someone else saved answers
"changed meanwhile, reload" (the API's 412) instead of overwriting their change.
Reading needs ``catalog:read`` (staff and viewers too), writing ``catalog:write``
(owners and managers), the audit log ``audit:read`` (owners and managers).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel import Locale
from babel.numbers import NumberFormatError, get_currency_precision, parse_decimal
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from slotwise.clock import Clock
from slotwise.domain.access import Action
from slotwise.domain.locales import SUPPORTED_LOCALES
from slotwise.domain.model import ResourceKind, Site
from slotwise.i18n import FORMAT_LOCALES, Formatter
from slotwise.services import access
from slotwise.services import audit as audit_service
from slotwise.services import catalog as catalog_service
from slotwise.services import sites as site_service
from slotwise.services.errors import FieldProblem, Forbidden, InUse, InvalidInput, PreconditionFailed
from slotwise.sitefile.schema import PHONE_MODES, QUESTION_TYPES, WEEKDAYS
from slotwise.web.back_office import pages
from slotwise.web.back_office.session import Admin

SERVICE_NUMBERS = ("duration", "seats")
# The remaining fields, each as the site file writes it (minutes, or "2h", "180d").
SERVICE_TIMES = ("step", "buffer_before", "buffer_after", "min_notice", "max_advance", "cancel_until",
                 "reschedule_until", "listed_duration")
VIA = "back-office"  # how the audit log names this way in
MAX_QUESTIONS = 30
NOTICES = frozenset({"service-saved", "service-created", "service-disabled", "service-enabled",
                     "resource-saved", "resource-created", "resource-retired", "resource-restored"})


# --- forms ↔ site-file tables (pure) ------------------------------------------------------------


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


# --- helpers ------------------------------------------------------------------------------------


def _can(admin: Admin, action: Action, site: Site) -> bool:
    try:
        access.authorize(admin.caller, action, site)
    except Forbidden:
        return False
    return True


def _context(admin: Admin, site: Site, **extra: Any) -> dict[str, Any]:
    return {"admin": admin, "csrf": admin.csrf, "site": site, "nav": "catalog", "memberships": admin.memberships,
            "can_write": _can(admin, Action.CATALOG_WRITE, site), "can_audit": _can(admin, Action.AUDIT_READ, site),
            **extra}


def _base(site: Site) -> str:
    return f"/admin/sites/{quote(site.slug)}/catalog"


# --- the list -------------------------------------------------------------------------------------


@get("/sites/{site:str}/catalog")
async def catalog_page(request: Request, site: FromPath[str], admin: NamedDependency[Admin]) -> Template:
    """Services and resources, disabled and retired ones too, each with its edit link and its switch."""
    found = await pages._site(admin, site, Action.CATALOG_READ)
    return await _catalog(request, admin, found)


async def _catalog(request: Request, admin: Admin, site: Site, *, error: str | None = None,
                   status: int = 200) -> Template:
    locale = pages._locale(request)
    fmt = Formatter(locale)
    services = [{"id": s.id, "slug": s.table["slug"], "name": _text_in(s.table["name"], locale),
                 "duration": fmt.duration(s.table["duration"]), "price": shown_price(s.table.get("price"), fmt),
                 "enabled": s.table["enabled"],
                 "etag": s.etag} for s in await catalog_service.list_services(site)]
    resources = [{"id": r.id, "key": r.table["key"], "name": _text_in(r.table["name"], locale),
                  "kind": r.table["kind"], "active": r.active, "etag": r.etag}
                 for r in await catalog_service.list_resources(site)]
    notice = request.query_params.get("notice")
    return pages._page(request, "catalog/index.html", _context(
        admin, site, services=services, resources=resources, fmt=fmt, error=error,
        notice=notice if notice in NOTICES else None, kinds=_kind_labels(fmt)), status=status)


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


def _text_in(value: Any, locale: str) -> str:
    if isinstance(value, str):
        return value
    return value.get(locale) or next(iter(value.values()), "")


def _kind_labels(fmt: Formatter) -> dict[str, str]:
    return {"person": fmt.gettext("A person"), "room": fmt.gettext("Room"), "court": fmt.gettext("Court"),
            "table": fmt.gettext("Table"), "equipment": fmt.gettext("Equipment"),
            "vehicle": fmt.gettext("Vehicle"), "other": fmt.gettext("Something else")}


# --- services ---------------------------------------------------------------------------------------


async def _service_page(request: Request, admin: Admin, site: Site, *, form: dict[str, Any], ref: str | None,
                        etag: str | None, errors: dict[str, list[str]] | None = None,
                        loose: list[str] | None = None, stale: bool = False, status: int = 200) -> Template:
    locale = pages._locale(request)
    fmt = Formatter(locale)
    resources = [(r.table["key"], _text_in(r.table["name"], locale))
                 for r in await catalog_service.list_resources(site) if r.active]
    return pages._page(request, "catalog/service.html", _context(
        admin, site, form=form, ref=ref, etag=etag, errors=errors or {}, loose=loose or [], stale=stale,
        resources=resources, languages=SUPPORTED_LOCALES, phone_modes=PHONE_MODES, times=SERVICE_TIMES,
        question_types=QUESTION_TYPES, new_question=max((q["n"] for q in form["questions"]), default=-1) + 1,
        fmt=fmt, base=_base(site)), status=status)


def _chosen_groups(form_items: list[tuple[str, str]]) -> dict[int, list[str]]:
    chosen: dict[int, list[str]] = {}
    for key, value in form_items:
        found = re.fullmatch(r"group-(\d{1,2})", key)
        if found:
            chosen.setdefault(int(found.group(1)), []).append(value)
    return chosen


async def _form_items(request: Request) -> tuple[dict[str, str], list[tuple[str, str]]]:
    form = await request.form()
    items = [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
    return {key: value for key, value in items}, items


def _priced(form: dict[str, str], request: Request) -> dict[str, str]:
    """The form with its price in the site file's terms, read as the page's language writes prices."""
    return {**form, "price": typed_price(form.get("price", ""), pages._locale(request))}


def _posted_service(form: dict[str, str], chosen: dict[int, list[str]], locale: str, groups: int) -> dict[str, Any]:
    """What the person typed, to show it again next to the problems."""
    shown = service_form({}, locale)
    shown.update({
        "slug": form.get("slug", ""),
        **{f: {lang: form.get(f"{f}.{lang}", "") for lang in SUPPORTED_LOCALES}
           for f in ("name", "description", "category")},
        **{f: form.get(f, "") for f in SERVICE_NUMBERS + SERVICE_TIMES + ("price", "reminders")},
        "enabled": form.get("enabled") == "1", "ask_address": form.get("ask_address") == "1",
        "phone": form.get("phone", "optional"),
        "groups": [chosen.get(index, []) for index in range(max(groups, 1))],
        "questions": posted_questions(form), "metadata": form.get("metadata", ""),
    })
    return shown


@get("/sites/{site:str}/catalog/services/new")
async def new_service_page(request: Request, site: FromPath[str], admin: NamedDependency[Admin]) -> Template:
    found = await pages._site(admin, site, Action.CATALOG_WRITE)
    form = service_form({"duration": 30, "seats": 1}, found.locale)
    return await _service_page(request, admin, found, form=form, ref=None, etag=None)


@post("/sites/{site:str}/catalog/services/new")
async def create_service(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                         clock: NamedDependency[Clock]) -> Response:
    found = await pages._site(admin, site, Action.CATALOG_WRITE)
    form, items = await _form_items(request)
    chosen = _chosen_groups(items)
    form["groups"] = "1"
    try:
        await catalog_service.create_service(found, service_body(_priced(form, request), chosen, found.locale,
                                                                 creating=True),
                                             actor=admin.account.actor, via=VIA, now=clock())
    except InvalidInput as exc:
        errors, loose = field_errors(_service_problems(exc.problems, form, found.locale), SERVICE_FIELDS)
        return await _service_page(request, admin, found, form=_posted_service(form, chosen, found.locale, 1),
                                   ref=None, etag=None, errors=errors, loose=loose, status=422)
    return pages._go(f"{_base(found)}?notice=service-created", request)


@get("/sites/{site:str}/catalog/services/{ref:str}")
async def service_page(request: Request, site: FromPath[str], ref: FromPath[str],
                       admin: NamedDependency[Admin]) -> Template:
    found = await pages._site(admin, site, Action.CATALOG_WRITE)
    service = await catalog_service.get_service(found, ref)
    return await _service_page(request, admin, found, form=service_form(service.table, found.locale),
                               ref=service.id, etag=service.etag)


@post("/sites/{site:str}/catalog/services/{ref:str}")
async def save_service(request: Request, site: FromPath[str], ref: FromPath[str], admin: NamedDependency[Admin],
                       clock: NamedDependency[Clock]) -> Response:
    found = await pages._site(admin, site, Action.CATALOG_WRITE)
    current = await catalog_service.get_service(found, ref)
    form, items = await _form_items(request)
    chosen = _chosen_groups(items)
    shown = {**_posted_service(form, chosen, found.locale, len(current.table["resources"])),
             "slug": current.table["slug"]}
    try:
        await catalog_service.update_service(found, current.id, service_body(_priced(form, request), chosen,
                                                                             found.locale, creating=False),
                                             if_match=form.get("etag") or "", actor=admin.account.actor, via=VIA,
                                             now=clock())
    except PreconditionFailed:
        return await _service_page(request, admin, found, form=shown, ref=current.id, etag=form.get("etag"),
                                   stale=True, status=409)
    except InvalidInput as exc:
        errors, loose = field_errors(_service_problems(exc.problems, form, found.locale), SERVICE_FIELDS)
        return await _service_page(request, admin, found, form=shown, ref=current.id, etag=form.get("etag"),
                                   errors=errors, loose=loose, status=422)
    return pages._go(f"{_base(found)}?notice=service-saved", request)


@post("/sites/{site:str}/catalog/services/{ref:str}/enabled")
async def switch_service(request: Request, site: FromPath[str], ref: FromPath[str], admin: NamedDependency[Admin],
                         clock: NamedDependency[Clock]) -> Response:
    """Disable (no longer bookable, kept for its bookings) or enable again, from the list."""
    found = await pages._site(admin, site, Action.CATALOG_WRITE)
    form = await pages._form(request)
    try:
        if form.get("enabled") == "1":
            await catalog_service.update_service(found, ref, {"enabled": True}, if_match=form.get("etag") or "",
                                                 actor=admin.account.actor, via=VIA, now=clock())
            notice = "service-enabled"
        else:
            await catalog_service.disable_service(found, ref, if_match=form.get("etag") or "",
                                                  actor=admin.account.actor, via=VIA, now=clock())
            notice = "service-disabled"
    except PreconditionFailed:
        return await _catalog(request, admin, found, error="stale", status=409)
    except InvalidInput as exc:
        return await _catalog(request, admin, found, error="; ".join(
            str(p.params.get("message", p.code)) for p in exc.problems), status=422)
    return pages._go(f"{_base(found)}?notice={notice}", request)


# --- resources --------------------------------------------------------------------------------------


async def _resource_page(request: Request, admin: Admin, site: Site, *, form: dict[str, Any], ref: str | None,
                         etag: str | None, errors: dict[str, list[str]] | None = None,
                         loose: list[str] | None = None, stale: bool = False, status: int = 200) -> Template:
    locale = pages._locale(request)
    fmt = Formatter(locale)
    day_names = dict(zip(WEEKDAYS, (fmt.gettext("Monday"), fmt.gettext("Tuesday"), fmt.gettext("Wednesday"),
                                    fmt.gettext("Thursday"), fmt.gettext("Friday"), fmt.gettext("Saturday"),
                                    fmt.gettext("Sunday")), strict=True))
    return pages._page(request, "catalog/resource.html", _context(
        admin, site, form=form, ref=ref, etag=etag, errors=errors or {}, loose=loose or [], stale=stale,
        languages=SUPPORTED_LOCALES, kinds=_kind_labels(fmt), kind_values=[str(k) for k in ResourceKind],
        weekdays=WEEKDAYS, day_names=day_names, fmt=fmt, base=_base(site)), status=status)


def _posted_resource(form: dict[str, str], locale: str) -> dict[str, Any]:
    return {
        "key": form.get("key", ""), "name": {lang: form.get(f"name.{lang}", "") for lang in SUPPORTED_LOCALES},
        "kind": form.get("kind", ""), "own_hours": form.get("own_hours") == "1",
        "hours": {day: form.get(f"hours.{day}", "") for day in WEEKDAYS}, "closed": form.get("closed", ""),
        "timezone": form.get("timezone", ""), "extra_open": form.get("extra_open", ""),
        "metadata": form.get("metadata", ""),
    }


async def _site_hours(site: Site) -> dict[str, list[str]]:
    return (await site_service.site_document(site)).document.get("site", {}).get("hours") or {}


@get("/sites/{site:str}/catalog/resources/new")
async def new_resource_page(request: Request, site: FromPath[str], admin: NamedDependency[Admin]) -> Template:
    found = await pages._site(admin, site, Action.CATALOG_WRITE)
    return await _resource_page(request, admin, found, form=resource_form({}, found.locale, await _site_hours(found)),
                                ref=None, etag=None)


@post("/sites/{site:str}/catalog/resources/new")
async def create_resource(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                          clock: NamedDependency[Clock]) -> Response:
    found = await pages._site(admin, site, Action.CATALOG_WRITE)
    form = await pages._form(request)
    try:
        await catalog_service.create_resource(found, resource_body(form, found.locale, creating=True),
                                              actor=admin.account.actor, via=VIA, now=clock())
    except InvalidInput as exc:
        errors, loose = field_errors(_pin_plain(exc.problems, found.locale), RESOURCE_FIELDS)
        return await _resource_page(request, admin, found, form=_posted_resource(form, found.locale), ref=None,
                                    etag=None, errors=errors, loose=loose, status=422)
    return pages._go(f"{_base(found)}?notice=resource-created", request)


@get("/sites/{site:str}/catalog/resources/{ref:str}")
async def resource_page(request: Request, site: FromPath[str], ref: FromPath[str],
                        admin: NamedDependency[Admin]) -> Template:
    found = await pages._site(admin, site, Action.CATALOG_WRITE)
    resource = await catalog_service.get_resource(found, ref)
    return await _resource_page(request, admin, found,
                                form=resource_form(resource.table, found.locale, await _site_hours(found)),
                                ref=resource.id, etag=resource.etag)


@post("/sites/{site:str}/catalog/resources/{ref:str}")
async def save_resource(request: Request, site: FromPath[str], ref: FromPath[str], admin: NamedDependency[Admin],
                        clock: NamedDependency[Clock]) -> Response:
    found = await pages._site(admin, site, Action.CATALOG_WRITE)
    current = await catalog_service.get_resource(found, ref)
    form = await pages._form(request)
    shown = {**_posted_resource(form, found.locale), "key": current.table["key"]}
    try:
        await catalog_service.update_resource(found, current.id, resource_body(form, found.locale, creating=False),
                                              if_match=form.get("etag") or "", actor=admin.account.actor, via=VIA,
                                              now=clock())
    except PreconditionFailed:
        return await _resource_page(request, admin, found, form=shown, ref=current.id, etag=form.get("etag"),
                                    stale=True, status=409)
    except InvalidInput as exc:
        errors, loose = field_errors(_pin_plain(exc.problems, found.locale), RESOURCE_FIELDS)
        return await _resource_page(request, admin, found, form=shown, ref=current.id, etag=form.get("etag"),
                                    errors=errors, loose=loose, status=422)
    return pages._go(f"{_base(found)}?notice=resource-saved", request)


@post("/sites/{site:str}/catalog/resources/{ref:str}/active")
async def switch_resource(request: Request, site: FromPath[str], ref: FromPath[str], admin: NamedDependency[Admin],
                          clock: NamedDependency[Clock]) -> Response:
    """Retire (refused while an enabled service offers it) or bring back, from the list."""
    found = await pages._site(admin, site, Action.CATALOG_WRITE)
    form = await pages._form(request)
    try:
        if form.get("active") == "1":
            await catalog_service.update_resource(found, ref, {"active": True}, if_match=form.get("etag") or "",
                                                  actor=admin.account.actor, via=VIA, now=clock())
            notice = "resource-restored"
        else:
            await catalog_service.retire_resource(found, ref, if_match=form.get("etag") or "",
                                                  actor=admin.account.actor, via=VIA, now=clock())
            notice = "resource-retired"
    except PreconditionFailed:
        return await _catalog(request, admin, found, error="stale", status=409)
    except InUse as exc:
        return await _catalog(request, admin, found, error="in-use:" + ", ".join(exc.used_by), status=409)
    except InvalidInput as exc:
        return await _catalog(request, admin, found, error="; ".join(
            str(p.params.get("message", p.code)) for p in exc.problems), status=422)
    return pages._go(f"{_base(found)}?notice={notice}", request)


# --- the site file and the audit log ------------------------------------------------------------------


@get("/sites/{site:str}/site-file")
async def site_file_page(request: Request, site: FromPath[str], admin: NamedDependency[Admin]) -> Template:
    """The whole site as the site file the API exports (read-only), with a download link."""
    found = await pages._site(admin, site, Action.SITE_READ)
    current = await site_service.site_document(found)
    return pages._page(request, "catalog/site_file.html", _context(
        admin, found, nav="site-file", toml=site_service.document_as_toml(current.document)))


@get("/sites/{site:str}/site-file.toml")
async def site_file_download(site: FromPath[str], admin: NamedDependency[Admin]) -> Response:
    found = await pages._site(admin, site, Action.SITE_READ)
    current = await site_service.site_document(found)
    return Response(site_service.document_as_toml(current.document), media_type="application/toml",
                    headers={**pages.PAGE_HEADERS, "ETag": current.etag,
                             "Content-Disposition": f'attachment; filename="{found.slug}.toml"'})


@get("/sites/{site:str}/audit")
async def audit_page(request: Request, site: FromPath[str], admin: NamedDependency[Admin]) -> Template:
    """Who changed what in the site's configuration, newest first, 50 a page (owners and managers)."""
    found = await pages._site(admin, site, Action.AUDIT_READ)
    locale = pages._locale(request)
    fmt = Formatter(locale)
    cursor = request.query_params.get("cursor")
    problems = False
    entries, next_cursor = [], None
    try:
        page = await audit_service.list_entries(found, {"cursor": cursor, "limit": "50"})
        entries, next_cursor = page.entries, page.next_cursor
    except InvalidInput:
        problems = True
    zone = ZoneInfo(found.timezone)
    actions = {"created": fmt.gettext("created"), "changed": fmt.gettext("changed"), "retired": fmt.gettext("retired"),
               "restored": fmt.gettext("brought back"), "removed": fmt.gettext("removed"),
               "revoked": fmt.gettext("revoked")}
    objects = {"site": fmt.gettext("Site"), "resource": fmt.gettext("Resource"), "service": fmt.gettext("Service"),
               "time_off": fmt.gettext("Time off"), "key": fmt.gettext("API key"),
               "membership": fmt.gettext("Team member")}
    rows = [{"at": fmt.moment(entry.at.astimezone(zone)), "actor": entry.actor.label or entry.actor.ref,
             "via": entry.via, "action": actions.get(str(entry.action), str(entry.action)),
             "object": objects.get(entry.object_kind, entry.object_kind), "ref": entry.object_ref,
             "changes": [str(change) for change in entry.changes]} for entry in entries]
    return pages._page(request, "catalog/audit.html", _context(
        admin, found, nav="audit", rows=rows, problems=problems,
        next_url=f"/admin/sites/{quote(found.slug)}/audit?cursor={quote(next_cursor)}" if next_cursor else None))


ROUTES = [catalog_page, new_service_page, create_service, service_page, save_service, switch_service,
          new_resource_page, create_resource, resource_page, save_resource, switch_resource, site_file_page,
          site_file_download, audit_page]
