"""Reading a site file: TOML in, a :class:`~slotwise.sitefile.schema.SiteSpec` out,
or a :class:`~slotwise.sitefile.errors.SiteFileError` listing every problem.

Pass 1 checks each table with a strict pydantic model whose fields use the
value parsers of ``values``; pass 2 checks across tables. See the package docstring.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from datetime import date
from types import MappingProxyType
from typing import Annotated, Any, TypeVar, get_args

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from slotwise.domain.limits import (
    DEFAULT_HOLD_MINUTES,
    DEFAULT_MAX_ADVANCE_MINUTES,
    DEFAULT_MAX_RESCHEDULES,
    DEFAULT_REMINDERS,
    GRID_MINUTES,
    HOLD_MINUTES_RANGE,
    MAX_ANY_MINUTES,
    MAX_RESCHEDULES_LIMIT,
    MAX_SEATS,
    MAX_SERVICE_MINUTES,
    NAME_MAX_LENGTH,
)
from slotwise.domain.locales import SUPPORTED_LOCALES, default_text
from slotwise.domain.metadata import METADATA_MESSAGES, metadata_problems
from slotwise.domain.messages import MESSAGE_EVENTS
from slotwise.domain.model import Question, QuestionType, ResourceKind, TimeRange
from slotwise.sitefile.errors import Problem, SiteFileError
from slotwise.sitefile.schema import (
    NO_HOURS,
    PHONE_MODES,
    QUESTION_TYPES,
    WEEKDAYS,
    Locale,
    PhoneMode,
    ReadOnlyWeeklyHours,
    ResourceSpec,
    ServiceSpec,
    SiteSpec,
)
from slotwise.sitefile.values import (
    DEFAULT_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    MAX_LENGTH_LIMIT,
    _accent,
    _choice,
    _date_span,
    _day_ranges,
    _did_you_mean,
    _distinct_origins,
    _duration_text,
    _email,
    _expand,
    _fail,
    _minutes,
    _minutes_between,
    _number,
    _on_grid,
    _one_line,
    _origin,
    _phone,
    _Price,
    _price,
    _reminder_list,
    _show,
    _single_date,
    _slug,
    _text,
    _time_range,
    _time_zone,
    _whole_number,
)

# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------


def load_site_file(path: str | os.PathLike[str]) -> SiteSpec:
    """Read a UTF-8 TOML site file and parse it; the path is the error source."""
    source = os.fspath(path)
    try:
        # utf-8-sig: tolerate the byte-order mark some Windows editors write.
        with open(path, encoding="utf-8-sig") as file:
            text = file.read()
    except UnicodeDecodeError as error:
        raise SiteFileError(
            source, [Problem("", f"is not UTF-8 text (bad byte at offset {error.start})")]
        ) from None
    except OSError as error:
        raise SiteFileError(
            source, [Problem("", f"cannot read the file: {error.strerror or error}")]
        ) from None
    return parse_site(text, source=source)


def parse_site(text: str, *, source: str) -> SiteSpec:
    """Parse and validate a site file's text. Raises :class:`SiteFileError`.

    ``source`` names the text in messages (usually the file name).
    """
    return parse_site_data(_read_toml(text, source), source=source)


def parse_site_data(data: Any, *, source: str) -> SiteSpec:
    """Validate a site file already read into a table (TOML, or the same shape as JSON)."""
    if not isinstance(data, dict):
        raise SiteFileError(source, [Problem("", "must be a table with [site], resources and services")])
    report = _Report(data)

    report.validate(_RawFile, data, ())
    site_data = data.get("site")
    resource_items = _tables_in(data.get("resources"))
    service_items = _tables_in(data.get("services"))

    raw_site = (
        report.validate(_RawSite, site_data, ("site",)) if isinstance(site_data, dict) else None
    )
    locale = raw_site.locale if raw_site else "en"
    raw_resources = [
        report.validate(_RawResource, item, ("resources", index)) for index, item in resource_items
    ]
    raw_services = [
        report.validate(_RawService, item, ("services", index)) for index, item in service_items
    ]

    _check_unique(report, resource_items, ("resources",), "key", "resource key")
    _check_unique(report, service_items, ("services",), "slug", "service slug")
    known_resources = {
        item["key"] for _, item in resource_items if isinstance(item.get("key"), str)
    }
    groups_by_service: dict[int, tuple[tuple[str, ...], ...]] = {}
    for index, item in service_items:
        loc = ("services", index)
        _check_unique(
            report, _tables_in(item.get("questions")), (*loc, "questions"), "key", "question key"
        )
        if isinstance(item.get("resources"), list):
            groups_by_service[index] = _resource_groups(
                report, item["resources"], (*loc, "resources"), known_resources
            )

    email_templates, sms_templates = _templates(report, data.get("templates"))

    if report.problems or raw_site is None:
        raise SiteFileError(source, report.problems)
    return SiteSpec(
        slug=raw_site.slug,
        name=raw_site.name,
        timezone=raw_site.timezone,
        locale=raw_site.locale,
        allowed_origins=tuple(raw_site.allowed_origins),
        accent=raw_site.accent,
        contact_email=raw_site.contact_email,
        contact_phone=raw_site.contact_phone,
        address=raw_site.address,
        hours=_weekly(raw_site.hours) or NO_HOURS,
        closed=_expand(raw_site.closed),
        hold_minutes=raw_site.hold_minutes,
        max_reschedules=raw_site.max_reschedules,
        sms_enabled=raw_site.sms_enabled,
        sandbox=raw_site.sandbox,
        notify_email=raw_site.notify_email,
        feed_customer_names=raw_site.feed_customer_names,
        resources=tuple(_resource_spec(raw, locale) for raw in raw_resources if raw),
        services=tuple(
            _service_spec(raw, groups_by_service[index], locale)
            for (index, _), raw in zip(service_items, raw_services, strict=True)
            if raw
        ),
        email_templates=MappingProxyType(email_templates),
        sms_templates=MappingProxyType(sms_templates),
    )


def parse_resource(table: Any, *, source: str = "request", locale: str = "en") -> ResourceSpec:
    """One ``[[resources]]`` table on its own (e.g. an API body) -> :class:`ResourceSpec`.

    The same model, value parsers and messages as in a file; problem paths
    start inside the table (``hours.mon[0]``). ``locale`` is the site's
    language (what a plain string is in). Raises :class:`SiteFileError`.
    """
    report = _Report(table if isinstance(table, dict) else {})
    raw = report.validate(_RawResource, table, ())
    if report.problems or raw is None:
        raise SiteFileError(source, report.problems)
    return _resource_spec(raw, locale)


def parse_service(
    table: Any, *, resources: Iterable[str], source: str = "request", locale: str = "en"
) -> ServiceSpec:
    """One ``[[services]]`` table on its own -> :class:`ServiceSpec`.

    ``resources`` are the resource keys it may name (a file's own; through
    the API, the site's active resources). Paths start inside the table
    (``questions[1].type``, ``resources[0]``). Raises :class:`SiteFileError`.
    """
    data = table if isinstance(table, dict) else {}
    report = _Report(data)
    raw = report.validate(_RawService, table, ())
    _check_unique(report, _tables_in(data.get("questions")), ("questions",), "key", "question key")
    groups: tuple[tuple[str, ...], ...] = ()
    if isinstance(data.get("resources"), list):
        groups = _resource_groups(report, data["resources"], ("resources",), set(resources))
    if report.problems or raw is None:
        raise SiteFileError(source, report.problems)
    return _service_spec(raw, groups, locale)


_EVENT = "|".join(MESSAGE_EVENTS)
_LOCALE = "|".join(SUPPORTED_LOCALES)
# "confirmed.txt" (any language) or "confirmed.de.txt"; parts: subject, text, HTML.
_EMAIL_TEMPLATE_NAME = re.compile(rf"^({_EVENT})(\.({_LOCALE}))?\.(subject\.txt|txt|html)$")
_SMS_TEMPLATE_NAME = re.compile(rf"^({_EVENT})(\.({_LOCALE}))?$")
# Templates are text for one message; longer is a pasted document, not a template.
TEMPLATE_MAX_LENGTH = 20_000


def _templates(report: _Report, raw: Any) -> tuple[dict[str, str], dict[str, str]]:
    """``[templates.email]`` and ``[templates.sms]``: names checked, sources parsed in the sandbox."""
    if raw is None:
        return {}, {}
    if not isinstance(raw, dict):
        report.add(("templates",), "must be a table with email and sms tables")
        return {}, {}
    found: dict[str, dict[str, str]] = {"email": {}, "sms": {}}
    for channel, table in raw.items():
        if channel not in found:
            report.add(("templates", channel), "unknown key; use [templates.email] or [templates.sms]")
            continue
        if not isinstance(table, dict):
            report.add(("templates", channel), "must be a table of template name = template text")
            continue
        pattern = _EMAIL_TEMPLATE_NAME if channel == "email" else _SMS_TEMPLATE_NAME
        example = '"confirmed.de.txt"' if channel == "email" else '"confirmed.de"'
        for name, source in table.items():
            loc = ("templates", channel, name)
            if not pattern.match(name):
                report.add(loc, f"unknown template name; use e.g. {example} (see docs/messages.md)")
            elif not isinstance(source, str) or not source.strip():
                report.add(loc, "must be the template's text")
            elif len(source) > TEMPLATE_MAX_LENGTH:
                report.add(loc, f"must be at most {TEMPLATE_MAX_LENGTH} characters")
            else:
                error = template_syntax_error(source)
                if error is not None:
                    report.add(loc, f"template error on line {error[0]}: {error[1]}")
                else:
                    found[channel][name] = source
    return found["email"], found["sms"]


_TEMPLATE_SYNTAX = ImmutableSandboxedEnvironment()


def template_syntax_error(source: str) -> tuple[int, str] | None:
    """``(line, message)`` when ``source`` is not a valid template for the sandbox, else None.

    The one check site files and the admin API's template routes share.
    """
    try:
        _TEMPLATE_SYNTAX.parse(source)
    except TemplateSyntaxError as error:
        return error.lineno, error.message or "invalid template"
    return None


def _read_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML, turning a syntax error into a Problem at its line/column."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # Python 3.11's message ends in "(at line 3, column 7)" or
        # "(at end of document)"; move that into the problem's path.
        message = str(error)
        where = re.search(r"\s*\(at (line \d+, column \d+|end of document)\)$", message)
        path = where.group(1) if where else ""
        reason = message[: where.start()] if where else message
        raise SiteFileError(source, [Problem(path, f"invalid TOML: {reason}")]) from None


def _tables_in(value: Any) -> list[tuple[int, dict[str, Any]]]:
    """The (index, table) pairs of an array of tables; other items are skipped
    (their type error is reported by the structural pass)."""
    if not isinstance(value, list):
        return []
    return [(index, item) for index, item in enumerate(value) if isinstance(item, dict)]


# --------------------------------------------------------------------------
# Pass 1: the structure, as strict pydantic models of the raw tables
# --------------------------------------------------------------------------

# Each type also says, as JSON Schema, what a file (or the admin API's JSON) may write
# there: the API's OpenAPI document is generated from these models (``json_schemas``).
_MINUTES_SCHEMA = {
    "anyOf": [{"type": "integer", "minimum": 0}, {"type": "string"}],
    "description": 'minutes (90) or text with units w/d/h/m: "90m", "2h", "1h30m", "60d", "2w"',
    "examples": [90, "1h30m"],
}
_RANGE_SCHEMA = {"type": "string", "examples": ["09:00-12:30"],
                 "description": 'wall-clock "HH:MM-HH:MM"; "24:00" may end a range'}
_DATE_SPAN_SCHEMA = {"type": "string", "examples": ["2026-12-24", "2026-12-24..2027-01-01"],
                     "description": 'a date "YYYY-MM-DD" or an inclusive range "first..last"'}


def _int_schema(low: int, high: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, "maximum": high}


def _enum(options: Iterable[str], description: str = "") -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(options),
                           **({"description": description} if description else {})})


Slug = Annotated[str, AfterValidator(_slug)]
Name = Annotated[str, AfterValidator(_text(NAME_MAX_LENGTH))]


def _per_language(max_length: int, *, allow_empty: bool = False) -> Any:
    """A plain string (the site's language) or a table of them by locale: ``{ en = "…", de = "…" }``.

    ``allow_empty`` lets the plain string be empty (a description left out);
    a language named in a table must always have text.
    """
    plain = _text(max_length, allow_empty=allow_empty)
    check = _text(max_length)

    def parse(value: Any) -> str | dict[str, str]:
        if isinstance(value, str):
            return plain(value)
        if not isinstance(value, dict):
            _fail(f'must be text in quotes or a table by language such as {{ en = "…", de = "…" }}, '
                  f"got {_show(value)}")
        if not value:
            _fail(f"must name at least one language ({', '.join(SUPPORTED_LOCALES)})")
        for locale, text in value.items():
            if locale not in SUPPORTED_LOCALES:
                _fail(f"unknown language {_show(locale)}; use {', '.join(SUPPORTED_LOCALES)}", at=locale)
            if not isinstance(text, str):
                _fail(f"must be text in quotes, got {_show(text)}", at=locale)
            try:
                check(text)
            except PydanticCustomError as error:  # the value parser's own message, at this language
                _fail(str((error.context or {}).get("reason", error)), at=locale)
        return {locale: check(value[locale]) for locale in SUPPORTED_LOCALES if locale in value}

    return PlainValidator(parse)


def _metadata(value: Any) -> dict[str, Any]:
    """Custom fields (domain/metadata.py); the first problem is reported, at its key."""
    for key, code, _params in metadata_problems(value):
        _fail(METADATA_MESSAGES[code], at=key)
    return dict(value)


# Both documented for the OpenAPI document: the validators take any value and judge it themselves.
LOCAL_TEXT_SCHEMA = {"anyOf": [{"type": "string"}, {"type": "object", "additionalProperties": {"type": "string"},
                                                     "description": "by language: en, de"}]}
LocalName = Annotated[str | dict[str, str], _per_language(NAME_MAX_LENGTH), WithJsonSchema(LOCAL_TEXT_SCHEMA)]
Metadata = Annotated[dict[str, Any], PlainValidator(_metadata), WithJsonSchema({
    "type": "object", "maxProperties": 50, "description": "custom fields: text, numbers or true/false",
    "additionalProperties": {"type": ["string", "number", "boolean"]}})]
# Where customers go, on one line: the lines of a multi-line TOML string are joined by ", ".
Address = Annotated[str, AfterValidator(_one_line), AfterValidator(_text(NAME_MAX_LENGTH))]
Description = Annotated[str, AfterValidator(_text(DESCRIPTION_MAX_LENGTH, allow_empty=True))]
TimeZoneName = Annotated[str, AfterValidator(_time_zone)]
Email = Annotated[str, AfterValidator(_email)]
Minutes = Annotated[int, PlainValidator(_minutes), WithJsonSchema(_MINUTES_SCHEMA)]
GridMinutes = Annotated[int, PlainValidator(_minutes), AfterValidator(_on_grid),
                        WithJsonSchema({**_MINUTES_SCHEMA, "description": _MINUTES_SCHEMA["description"]
                                        + f"; a multiple of {GRID_MINUTES}"})]
# A service's length or step: on the grid, at least one grid unit, at most a week.
ServiceMinutes = Annotated[
    GridMinutes, AfterValidator(_minutes_between(GRID_MINUTES, MAX_SERVICE_MINUTES))
]
# A buffer: on the grid, at most a week like a service, so a booking's blocked
# time (duration + buffers) is bounded: the busy-time query relies on it.
BufferMinutes = Annotated[GridMinutes, AfterValidator(_minutes_between(0, MAX_SERVICE_MINUTES))]
# One day's ranges: sorted, checked for overlaps, touching ranges joined.
DayRanges = Annotated[
    list[Annotated[TimeRange, PlainValidator(_time_range), WithJsonSchema(_RANGE_SCHEMA)]],
    AfterValidator(_day_ranges)
]
DateSpan = Annotated[tuple[date, date], PlainValidator(_date_span), WithJsonSchema(_DATE_SPAN_SCHEMA)]


class _Table(BaseModel):
    # strict: a TOML string is never silently taken for a number or a bool.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _RawFile(_Table):
    site: dict[str, Any]
    resources: list[dict[str, Any]] = []
    services: list[dict[str, Any]] = []
    templates: dict[str, Any] = {}


class _RawHours(_Table):
    """Weekly hours: weekday -> ranges. A missing weekday or [] is closed."""

    mon: DayRanges = ()
    tue: DayRanges = ()
    wed: DayRanges = ()
    thu: DayRanges = ()
    fri: DayRanges = ()
    sat: DayRanges = ()
    sun: DayRanges = ()


class _RawSite(_Table):
    slug: Slug
    name: Name
    timezone: TimeZoneName
    locale: Annotated[Locale, PlainValidator(_choice("locale", SUPPORTED_LOCALES)),
                      _enum(SUPPORTED_LOCALES)] = "en"
    allowed_origins: Annotated[
        list[Annotated[str, AfterValidator(_origin)]], AfterValidator(_distinct_origins)
    ] = []
    accent: Annotated[str, AfterValidator(_accent)] | None = None
    contact_email: Email | None = None
    contact_phone: Annotated[str, AfterValidator(_phone)] | None = None
    address: Address | None = None
    notify_email: Email | None = None
    hours: _RawHours | None = None
    closed: list[DateSpan] = []
    hold_minutes: Annotated[int, PlainValidator(_whole_number(*HOLD_MINUTES_RANGE)),
                            WithJsonSchema(_int_schema(*HOLD_MINUTES_RANGE))] = (
        DEFAULT_HOLD_MINUTES
    )
    max_reschedules: Annotated[int, PlainValidator(_whole_number(0, MAX_RESCHEDULES_LIMIT)),
                               WithJsonSchema(_int_schema(0, MAX_RESCHEDULES_LIMIT))] = (
        DEFAULT_MAX_RESCHEDULES
    )
    sms_enabled: bool = False
    sandbox: bool = False
    feed_customer_names: bool = False


class _RawResource(_Table):
    key: Slug
    name: LocalName
    kind: Annotated[
        ResourceKind,
        PlainValidator(lambda value: ResourceKind(_choice("kind", list(ResourceKind))(value))),
        _enum(ResourceKind),
    ]
    timezone: TimeZoneName | None = None
    hours: _RawHours | None = None
    closed: list[DateSpan] = []
    extra_open: Annotated[
        dict[Annotated[date, PlainValidator(_single_date)], DayRanges],
        Field(description='extra opening hours by date: {"2026-12-19": ["10:00-14:00"]}'),
    ] = {}
    metadata: Metadata = {}

    @model_validator(mode="after")
    def _extra_open_days_have_ranges(self) -> _RawResource:
        for day, ranges in self.extra_open.items():
            if not ranges:
                _fail(
                    f"{day.isoformat()} has no ranges; list the extra opening hours, "
                    "or use closed to close a date",
                    at="extra_open",
                )
        return self


class _RawQuestion(_Table):
    key: Slug
    label: LocalName
    type: Annotated[str, PlainValidator(_choice("question type", QUESTION_TYPES)), _enum(QUESTION_TYPES)]
    required: bool = False
    options: list[LocalName] | None = None
    min: Annotated[int | float, PlainValidator(_number), WithJsonSchema({"type": "number"})] | None = None
    max: Annotated[int | float, PlainValidator(_number), WithJsonSchema({"type": "number"})] | None = None
    max_length: Annotated[int, PlainValidator(_whole_number(1, MAX_LENGTH_LIMIT)),
                          WithJsonSchema(_int_schema(1, MAX_LENGTH_LIMIT))] | None = None

    @model_validator(mode="after")
    def _settings_fit_the_type(self) -> _RawQuestion:
        if self.type == "select":
            if not self.options:
                _fail("a select question needs at least one option", at="options")
            # An option's value is one of its texts (the site's language), so two
            # options sharing any text could collide: each text names one option.
            seen: set[str] = set()
            for option in self.options:
                texts = set(option.values()) if isinstance(option, dict) else {option}
                if texts & seen:
                    _fail(f"option {_show(option)} is listed twice", at="options")
                seen |= texts
        elif self.options is not None:
            _fail("only select questions have options", at="options")
        if self.type != "number":
            for bound in ("min", "max"):
                if getattr(self, bound) is not None:
                    _fail("only number questions have min and max", at=bound)
        elif self.min is not None and self.max is not None and self.min > self.max:
            _fail(f"must not be greater than max ({self.min} > {self.max})", at="min")
        if self.max_length is not None and self.type not in DEFAULT_MAX_LENGTH:
            _fail("only text and textarea questions have max_length", at="max_length")
        return self


class _RawService(_Table):
    slug: Slug
    name: LocalName
    description: Annotated[
        str | dict[str, str], _per_language(DESCRIPTION_MAX_LENGTH, allow_empty=True),
        WithJsonSchema(LOCAL_TEXT_SCHEMA)] = ""
    category: LocalName | None = None
    duration: ServiceMinutes
    # What customers are told, when it differs from the time blocked (e.g. 50 of 60 minutes).
    listed_duration: Annotated[Minutes, AfterValidator(_minutes_between(1, MAX_SERVICE_MINUTES))] | None = None
    ask_address: bool = False
    metadata: Metadata = {}
    step: ServiceMinutes | None = None  # None: the same as duration
    buffer_before: BufferMinutes = 0
    buffer_after: BufferMinutes = 0
    min_notice: Minutes = 0
    max_advance: Minutes = DEFAULT_MAX_ADVANCE_MINUTES
    cancel_until: Minutes = 0
    reschedule_until: Minutes = 0
    seats: Annotated[int, PlainValidator(_whole_number(1, MAX_SEATS)), WithJsonSchema(_int_schema(1, MAX_SEATS))] = 1
    price: Annotated[_Price | None, PlainValidator(_price), WithJsonSchema({
        "anyOf": [{"type": "string"}, {"type": "integer", "const": 0}, {"type": "null"}],
        "description": 'amount and ISO 4217 currency, "60.00 EUR"; "0", 0 or null: free',
        "examples": ["60.00 EUR"]})] = None
    phone: Annotated[PhoneMode, PlainValidator(_choice("phone setting", PHONE_MODES)), _enum(PHONE_MODES)] = (
        "optional")
    reminders: Annotated[
        list[Annotated[Minutes, AfterValidator(_minutes_between(1, MAX_ANY_MINUTES))]],
        AfterValidator(_reminder_list),
    ] = list(DEFAULT_REMINDERS)
    questions: list[_RawQuestion] = []
    # Shape and keys are checked in pass 2, against the resources.
    resources: Annotated[list[Any], WithJsonSchema({
        "type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "description": 'resource keys: a flat list is one group ("any of these"); a list of lists '
                       "needs one resource from each group", "examples": [[["anna", "ben"], ["room-1"]]]})]
    enabled: bool = True

    @model_validator(mode="after")
    def _notice_fits_in_advance(self) -> _RawService:
        if self.min_notice > self.max_advance:
            _fail(
                "must not be longer than max_advance "
                f"({_duration_text(self.min_notice)} > {_duration_text(self.max_advance)}), "
                "or nothing could ever be booked",
                at="min_notice",
            )
        return self


# --------------------------------------------------------------------------
# Problems: paths, subjects and plain-English messages
# --------------------------------------------------------------------------

Loc = tuple[str | int, ...]
_M = TypeVar("_M", bound=BaseModel)

_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")

# Tables whose items are named in a problem's subject: (array path) -> (what, key field).
_SUBJECTS: dict[tuple[str, ...], tuple[str, str]] = {
    ("resources",): ("resource", "key"),
    ("services",): ("service", "slug"),
    ("services", "questions"): ("question", "key"),
}

_TYPE_MESSAGES = {
    "string_type": "must be text in quotes",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
}

# Messages for the top level, where the fix is a different TOML construct.
_TOP_LEVEL_MESSAGES = {
    ("site", "missing"): "is required: start the file with a [site] table",
    ("site", "dict_type"): "must be a table: write [site] and its keys below it",
    ("resources", "list_type"): "must be an array of tables: write [[resources]] before each one",
    ("services", "list_type"): "must be an array of tables: write [[services]] before each one",
}


def _format_path(loc: Loc) -> str:
    """("services", 2, "duration") -> "services[2].duration"."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            key = part if _BARE_KEY_RE.fullmatch(part) else _show(part)
            path += f".{key}" if path else key
    return path


class _Report:
    """Collects problems while walking one parsed TOML document."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.problems: list[Problem] = []

    def add(self, loc: Loc, message: str) -> None:
        self.problems.append(Problem(_format_path(loc), message, self._subject(loc)))

    def validate(self, model: type[_M], value: Any, loc: Loc) -> _M | None:
        """Validate one table; report its errors under ``loc``; None if invalid."""
        try:
            return model.model_validate(value)
        except ValidationError as error:
            for detail in error.errors(include_url=False):
                where = tuple(part for part in detail["loc"] if part != "[key]")
                context = detail.get("ctx") or {}
                if detail["type"] == "sitefile" and "at" in context:
                    where = (*where, context["at"])
                self.add((*loc, *where), _message(detail, model, where))
            return None

    def _subject(self, loc: Loc) -> str | None:
        """Name the keyed items the path runs through: 'service "x", question "y"'.

        An item is not named in a problem about its own key field (the message
        already shows the value).
        """
        names: list[str] = []
        arrays: list[str] = []
        node: Any = self.data
        for position, part in enumerate(loc):
            if isinstance(part, str):
                arrays.append(part)
                node = node.get(part) if isinstance(node, dict) else None
                continue
            if not (isinstance(node, list) and 0 <= part < len(node)):
                break
            node = node[part]
            what, key_field = _SUBJECTS.get(tuple(arrays), (None, ""))
            key = node.get(key_field) if isinstance(node, dict) else None
            if what and isinstance(key, str) and key and loc[position + 1 :] != (key_field,):
                names.append(f"{what} {_show(key)}")
        return ", ".join(names) or None


def _message(detail: Mapping[str, Any], model: type[BaseModel], where: Loc) -> str:
    """A pydantic error detail as a plain-English message."""
    kind = detail["type"]
    if kind == "sitefile":
        return detail["ctx"]["reason"]
    if len(where) == 1 and (where[0], kind) in _TOP_LEVEL_MESSAGES and model is _RawFile:
        return _TOP_LEVEL_MESSAGES[where[0], kind]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        key = str(where[-1])
        allowed = _keys_at(model, where[:-1])
        hint = _did_you_mean(key, allowed) or (
            f"; expected one of: {', '.join(allowed)}" if allowed else ""
        )
        return f"unknown key{hint}"
    if kind in _TYPE_MESSAGES:
        return f"{_TYPE_MESSAGES[kind]}, got {_show(detail.get('input'))}"
    return str(detail["msg"]).replace("Input should be", "must be")


def _keys_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys allowed in the table at ``loc`` inside ``model`` (for hints)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            continue
        info = current.model_fields.get(part) if current else None
        current = _model_in(info.annotation) if info else None
    return list(current.model_fields) if current else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class inside an annotation such as ``list[_RawQuestion] | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _model_in(argument)
        if found:
            return found
    return None


# --------------------------------------------------------------------------
# Pass 2: checks across tables
# --------------------------------------------------------------------------


def _check_unique(
    report: _Report,
    items: list[tuple[int, dict[str, Any]]],
    loc: Loc,
    key_field: str,
    what: str,
) -> None:
    """Report every item whose ``key_field`` repeats an earlier item's."""
    first_at: dict[str, int] = {}
    for index, item in items:
        key = item.get(key_field)
        if not isinstance(key, str):
            continue
        if key in first_at:
            first = _format_path((*loc, first_at[key]))
            report.add(
                (*loc, index, key_field), f"duplicate {what} {_show(key)} (already used by {first})"
            )
        else:
            first_at[key] = index


def _resource_groups(
    report: _Report, value: list[Any], loc: Loc, known: set[str]
) -> tuple[tuple[str, ...], ...]:
    """A service's ``resources`` -> groups; one resource is taken from each.

    ``["anna", "ben"]`` is one group (any of them); ``[["anna", "ben"],
    ["room-1", "room-2"]]`` is two (a therapist and a room). Reports an empty
    list or group, a mix of both forms, unknown keys and keys listed twice.
    """
    if not value:
        report.add(loc, 'a service needs at least one resource, e.g. ["anna"]')
        return ()
    if all(isinstance(item, list) for item in value):
        groups = [((*loc, index), group) for index, group in enumerate(value)]
    elif not any(isinstance(item, list) for item in value):
        groups = [(loc, value)]
    else:
        report.add(
            loc,
            "must be a list of resource keys (one group) or a list of such lists "
            "(one resource from each group), not a mix",
        )
        return ()
    first_at: dict[str, Loc] = {}
    result = []
    for group_loc, group in groups:
        if not group:
            report.add(group_loc, "this group is empty; list at least one resource key")
        for index, key in enumerate(group):
            item_loc = (*group_loc, index)
            if not isinstance(key, str):
                report.add(item_loc, f"must be a resource key in quotes, got {_show(key)}")
            elif key in first_at:
                report.add(
                    item_loc,
                    f"resource {_show(key)} is listed twice in this service "
                    f"(also {_format_path(first_at[key])})",
                )
            elif key not in known:
                hint = _did_you_mean(key, known) or (
                    f"; known keys: {', '.join(sorted(known))}" if known else ""
                )
                report.add(item_loc, f"no resource with key {_show(key)}{hint}")
            if isinstance(key, str):
                first_at.setdefault(key, item_loc)
        result.append(tuple(key for key in group if isinstance(key, str)))
    return tuple(result)


# --------------------------------------------------------------------------
# Raw tables -> spec objects (only reached when nothing is wrong)
# --------------------------------------------------------------------------


def _weekly(hours: _RawHours | None) -> ReadOnlyWeeklyHours | None:
    """Weekday name -> ranges becomes weekday number -> ranges, open days only."""
    if hours is None:
        return None
    by_weekday = {
        weekday: tuple(getattr(hours, name))
        for weekday, name in enumerate(WEEKDAYS)
        if getattr(hours, name)
    }
    return MappingProxyType(by_weekday)


def _split(fields: Mapping[str, Any], locale: str) -> tuple[dict[str, str | None], dict[str, Any]]:
    """Per-language fields -> their site-language texts and the tables given (see domain/locales.py)."""
    plain: dict[str, str | None] = {}
    texts: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, dict):
            plain[name] = default_text(value, locale)
            texts[name] = MappingProxyType(dict(value))
        else:
            plain[name] = value
    return plain, texts


def _resource_spec(raw: _RawResource, locale: str) -> ResourceSpec:
    plain, texts = _split({"name": raw.name}, locale)
    return ResourceSpec(
        key=raw.key,
        name=plain["name"] or "",
        texts=MappingProxyType(texts),
        metadata=MappingProxyType(dict(raw.metadata)),
        kind=raw.kind,
        timezone=raw.timezone,
        hours=_weekly(raw.hours),
        closed=_expand(raw.closed),
        extra_open=MappingProxyType(
            {day: tuple(ranges) for day, ranges in sorted(raw.extra_open.items())}
        ),
    )


def _question_spec(raw: _RawQuestion, locale: str) -> Question:
    max_length = raw.max_length
    if max_length is None:
        max_length = DEFAULT_MAX_LENGTH.get(raw.type)
    plain, texts = _split({"label": raw.label}, locale)
    options: list[str] = []
    option_texts: dict[str, Any] = {}
    for option in raw.options or ():
        value = default_text(option, locale) if isinstance(option, dict) else option
        options.append(value)
        if isinstance(option, dict):
            option_texts[value] = MappingProxyType(dict(option))
    return Question(
        key=raw.key,
        label=plain["label"] or "",
        texts=MappingProxyType(texts),
        option_texts=MappingProxyType(option_texts),
        type=QuestionType(raw.type),
        required=raw.required,
        options=tuple(options),
        min=raw.min,
        max=raw.max,
        max_length=max_length,
    )


def _service_spec(raw: _RawService, groups: tuple[tuple[str, ...], ...], locale: str) -> ServiceSpec:
    plain, texts = _split(
        {"name": raw.name, "description": raw.description, "category": raw.category}, locale)
    return ServiceSpec(
        slug=raw.slug,
        name=plain["name"] or "",
        description=plain["description"] or "",
        category=plain["category"],
        texts=MappingProxyType(texts),
        listed_duration=raw.listed_duration,
        ask_address=raw.ask_address,
        metadata=MappingProxyType(dict(raw.metadata)),
        duration=raw.duration,
        step=raw.step if raw.step is not None else raw.duration,
        buffer_before=raw.buffer_before,
        buffer_after=raw.buffer_after,
        min_notice=raw.min_notice,
        max_advance=raw.max_advance,
        cancel_until=raw.cancel_until,
        reschedule_until=raw.reschedule_until,
        seats=raw.seats,
        price_minor=raw.price.minor if raw.price else None,
        currency=raw.price.currency if raw.price else None,
        phone=raw.phone,
        reminders=tuple(raw.reminders),
        questions=tuple(_question_spec(question, locale) for question in raw.questions),
        resource_groups=groups,
        enabled=raw.enabled,
    )
