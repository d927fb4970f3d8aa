"""Pass 1 of reading a site file: each table checked by a strict pydantic model.

The fields use the value parsers of ``values``, so a file, the admin API's
JSON and the CSV import say the same about the same mistake; each type also
says as JSON Schema what may be written there (``jsonschema.py`` builds the
OpenAPI document from these models).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
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
from slotwise.domain.locales import SUPPORTED_LOCALES
from slotwise.domain.metadata import METADATA_MESSAGES, metadata_problems
from slotwise.domain.model import ResourceKind, TimeRange
from slotwise.sitefile.schema import (
    PHONE_MODES,
    QUESTION_TYPES,
    Locale,
    PhoneMode,
)
from slotwise.sitefile.values import (
    DEFAULT_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    MAX_LENGTH_LIMIT,
    _accent,
    _choice,
    _date_span,
    _day_ranges,
    _distinct_origins,
    _duration_text,
    _email,
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


class RawFile(_Table):
    site: dict[str, Any]
    resources: list[dict[str, Any]] = []
    services: list[dict[str, Any]] = []
    templates: dict[str, Any] = {}


class RawHours(_Table):
    """Weekly hours: weekday -> ranges. A missing weekday or [] is closed."""

    mon: DayRanges = ()
    tue: DayRanges = ()
    wed: DayRanges = ()
    thu: DayRanges = ()
    fri: DayRanges = ()
    sat: DayRanges = ()
    sun: DayRanges = ()


class RawSite(_Table):
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
    hours: RawHours | None = None
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


class RawResource(_Table):
    key: Slug
    name: LocalName
    kind: Annotated[
        ResourceKind,
        PlainValidator(lambda value: ResourceKind(_choice("kind", list(ResourceKind))(value))),
        _enum(ResourceKind),
    ]
    timezone: TimeZoneName | None = None
    hours: RawHours | None = None
    closed: list[DateSpan] = []
    extra_open: Annotated[
        dict[Annotated[date, PlainValidator(_single_date)], DayRanges],
        Field(description='extra opening hours by date: {"2026-12-19": ["10:00-14:00"]}'),
    ] = {}
    metadata: Metadata = {}

    @model_validator(mode="after")
    def _extra_open_days_have_ranges(self) -> RawResource:
        for day, ranges in self.extra_open.items():
            if not ranges:
                _fail(
                    f"{day.isoformat()} has no ranges; list the extra opening hours, "
                    "or use closed to close a date",
                    at="extra_open",
                )
        return self


class RawQuestion(_Table):
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
    def _settings_fit_the_type(self) -> RawQuestion:
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


class RawService(_Table):
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
    questions: list[RawQuestion] = []
    # Shape and keys are checked in pass 2, against the resources.
    resources: Annotated[list[Any], WithJsonSchema({
        "type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "description": 'resource keys: a flat list is one group ("any of these"); a list of lists '
                       "needs one resource from each group", "examples": [[["anna", "ben"], ["room-1"]]]})]
    enabled: bool = True

    @model_validator(mode="after")
    def _notice_fits_in_advance(self) -> RawService:
        if self.min_notice > self.max_advance:
            _fail(
                "must not be longer than max_advance "
                f"({_duration_text(self.min_notice)} > {_duration_text(self.max_advance)}), "
                "or nothing could ever be booked",
                at="min_notice",
            )
        return self

