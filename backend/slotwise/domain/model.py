"""Value types of the booking domain.

Everything here is plain data: no I/O, no clock, no framework. Instants are
aware ``datetime`` objects in UTC; wall-clock values (opening hours, dates) are
naive and are interpreted in the zone named next to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from slotwise.domain.actors import Actor
from slotwise.domain.locales import Texts, text_in


class ResourceKind(StrEnum):
    PERSON = "person"
    ROOM = "room"
    COURT = "court"
    TABLE = "table"
    EQUIPMENT = "equipment"
    VEHICLE = "vehicle"
    OTHER = "other"


@dataclass(frozen=True, slots=True, order=True)
class TimeRange:
    """A wall-clock range within one day, in minutes since local midnight.

    09:00-12:30 is ``TimeRange(540, 750)``; a range that runs to midnight ends
    at 1440 (``24:00``). Minutes keep the arithmetic plain integer sums.
    """

    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < self.end_minute <= 24 * 60:
            raise ValueError(f"invalid time range {self.start_minute}-{self.end_minute}")

    @property
    def start(self) -> time:
        return time(self.start_minute // 60, self.start_minute % 60)

    def __str__(self) -> str:
        return f"{_hhmm(self.start_minute)}-{_hhmm(self.end_minute)}"


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


# Monday is 0, as in ``date.weekday()``.
WeeklyHours = dict[int, tuple[TimeRange, ...]]


@dataclass(frozen=True, slots=True)
class ResourceCalendar:
    """When one resource is open, in its own zone.

    On a given local date the resource is open during its weekly hours for that
    weekday, unless the date is in ``closed`` (or closed for the whole site),
    plus any ``extra_open`` ranges for that date (an explicit extra opening wins
    over a closure of the same date).
    """

    key: str
    zone: ZoneInfo
    weekly: WeeklyHours
    closed: frozenset[date] = frozenset()
    extra_open: dict[date, tuple[TimeRange, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ServiceRules:
    """The parts of a service that decide when it can be booked.

    ``resource_groups`` lists, per group, the keys of resources that can deliver
    the service; a booking takes one resource from each group (e.g. one
    therapist *and* one room). Slot starts follow the grid of the resources in
    the first group; resources of later groups only need to be open and free.
    """

    key: str
    duration: timedelta
    step: timedelta
    resource_groups: tuple[tuple[str, ...], ...]
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(0)
    max_advance: timedelta = timedelta(days=365)
    seats: int = 1


@dataclass(frozen=True, slots=True)
class Busy:
    """Time a resource is already committed: a booking or a live hold.

    ``blocked_from``/``blocked_until`` include the buffers of the service that
    was booked. ``service`` and ``start`` let a group session be joined: another
    seat of the same service at the same start shares the block instead of
    colliding with it. ``seats`` is how many seats this entry takes.
    """

    resource: str
    blocked_from: datetime
    blocked_until: datetime
    service: str | None = None
    start: datetime | None = None
    seats: int = 1


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable start, UTC, with one resource per group of the service."""

    start: datetime
    end: datetime
    resources: tuple[str, ...]
    seats_left: int = 1


# --- the catalog: sites, services, resources, questions ------------------------
#
# What persistence reads from its rows and every other ring passes around.
# Services, web handlers and templates all speak these types; none of them
# sees a database row.


@dataclass(frozen=True, slots=True)
class Site:
    """A tenant: one business, with its zone, contact details and message settings."""

    id: int
    slug: str
    name: str
    timezone: str  # IANA name
    locale: str
    allowed_origins: tuple[str, ...] = ()
    accent: str | None = None  # "#rrggbb"
    contact_email: str | None = None
    contact_phone: str | None = None
    address: str | None = None  # one line, where customers go
    notify_email: str | None = None  # gets a copy of every booking email
    hours: WeeklyHours = field(default_factory=dict)  # the default resources inherit
    closed: frozenset[date] = frozenset()
    hold_minutes: int = 10
    max_reschedules: int = 3
    sms_enabled: bool = False
    sandbox: bool = False  # messages kept, never handed to a provider; sw_test_ keys
    feed_customer_names: bool = False  # calendar feeds out show the customer's name
    email_templates: Mapping[str, str] = field(default_factory=dict)  # owner overrides by name
    sms_templates: Mapping[str, str] = field(default_factory=dict)
    # Raised by every change to the site, its resources or services: a copy
    # of the configuration with an older version must not decide a booking.
    config_version: int = 0

    @property
    def contact(self) -> str | None:
        """Whom a customer should call or write when something cannot be done online."""
        return self.contact_phone or self.contact_email


class QuestionType(StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    SELECT = "select"
    CHECKBOX = "checkbox"
    NUMBER = "number"


@dataclass(frozen=True, slots=True)
class Question:
    """An extra question a service asks when booking.

    ``options`` are the choices of a ``select``; ``min``/``max`` bound a
    ``number`` (inclusive); ``max_length`` (characters) applies to ``text``
    and ``textarea``. A required ``checkbox`` must be ticked (consent).

    ``label`` is in the site's language; ``texts["label"]`` holds it per
    language when the owner gave it so. An option's value (what the answer
    stores) is its text in the site's language; ``option_texts`` maps a value
    to its label per language.
    """

    key: str
    label: str
    type: QuestionType = QuestionType.TEXT
    required: bool = False
    options: tuple[str, ...] = ()
    min: int | float | None = None
    max: int | float | None = None
    max_length: int | None = None
    texts: Texts = field(default_factory=dict)
    option_texts: Texts = field(default_factory=dict)

    def label_in(self, locale: str | None) -> str:
        return text_in(self.texts, "label", self.label, locale)

    def option_in(self, option: str, locale: str | None) -> str:
        return text_in(self.option_texts, option, option, locale)


class PhoneMode(StrEnum):
    REQUIRED = "required"
    OPTIONAL = "optional"
    HIDDEN = "hidden"


@dataclass(frozen=True, slots=True)
class Service:
    """What a customer books. ``rules`` is what the availability engine needs of it."""

    id: int
    slug: str
    name: str
    rules: ServiceRules
    description: str = ""
    price_minor: int | None = None  # in the currency's minor unit; None: no price shown
    currency: str | None = None
    phone: PhoneMode = PhoneMode.OPTIONAL
    questions: tuple[Question, ...] = ()
    reminders: tuple[int, ...] = ()  # minutes before the start
    cancel_until_minutes: int = 0  # before the start; 0: until it starts
    reschedule_until_minutes: int = 0
    enabled: bool = True
    # name, description and category per language (see domain/locales.py);
    # the plain fields are the site's language.
    texts: Texts = field(default_factory=dict)
    category: str | None = None  # the widget groups its list by it
    listed_duration_minutes: int | None = None  # what customers are told; None: the duration
    ask_address: bool = False  # the details step asks for the customer's postal address
    metadata: Mapping[str, Any] = field(default_factory=dict)  # never shown to customers

    @property
    def duration_minutes(self) -> int:
        return int(self.rules.duration.total_seconds() // 60)

    @property
    def listed_minutes(self) -> int:
        """How long customers are told it lasts (availability always uses the duration)."""
        return self.listed_duration_minutes or self.duration_minutes

    def name_in(self, locale: str | None) -> str:
        return text_in(self.texts, "name", self.name, locale)

    def description_in(self, locale: str | None) -> str:
        return text_in(self.texts, "description", self.description, locale)

    def category_in(self, locale: str | None) -> str | None:
        return None if self.category is None else text_in(self.texts, "category", self.category, locale)

    @property
    def seats(self) -> int:
        return self.rules.seats

    @property
    def offers_choice(self) -> bool:
        """Whether the customer picks whom (or what) from the first group, or anyone."""
        groups = self.rules.resource_groups
        return bool(groups) and len(groups[0]) > 1


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """A resource as a booking names it: enough to say whom or what it is with."""

    key: str
    name: str
    kind: ResourceKind
    texts: Texts = field(default_factory=dict)

    def name_in(self, locale: str | None) -> str:
        return text_in(self.texts, "name", self.name, locale)


@dataclass(frozen=True, slots=True)
class Resource:
    """Anything bookable, with the calendar the engine reads its open time from."""

    id: int
    key: str
    name: str
    kind: ResourceKind
    calendar: ResourceCalendar
    texts: Texts = field(default_factory=dict)  # the name per language
    metadata: Mapping[str, Any] = field(default_factory=dict)  # never shown to customers

    @property
    def ref(self) -> ResourceRef:
        return ResourceRef(self.key, self.name, self.kind, self.texts)

    def name_in(self, locale: str | None) -> str:
        return text_in(self.texts, "name", self.name, locale)


# --- bookings ----------------------------------------------------------------------


class BookingStatus(StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Customer:
    """Who booked, as validated: a trimmed name, a normalised email, a phone in E.164."""

    name: str
    email: str
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class SiteRef:
    """The business a booking belongs to, as its pages, emails and calendar files name it."""

    id: int
    slug: str
    name: str
    timezone: str
    contact_email: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceRef:
    slug: str
    name: str
    texts: Texts = field(default_factory=dict)
    listed_duration_minutes: int | None = None  # what customers are told, when not the booked time

    def name_in(self, locale: str | None) -> str:
        return text_in(self.texts, "name", self.name, locale)


@dataclass(frozen=True, slots=True)
class Booking:
    """A customer's booked time. Instants in UTC.

    ``resources`` are those assigned, one per resource group in group order;
    a cancelled booking still names them. ``sequence`` is the iCalendar
    SEQUENCE, raised on each change. ``manage_token_salt`` is the random part
    the manage link is derived from (with the secret key).
    """

    id: int
    uid: str  # public id; also the iCalendar UID
    status: BookingStatus
    site: SiteRef
    service: ServiceRef
    start: datetime
    end: datetime
    resources: tuple[ResourceRef, ...]
    customer: Customer
    answers: Mapping[str, Any]
    price_minor: int | None
    currency: str | None
    locale: str
    timezone: str  # the customer's IANA zone
    created_at: datetime
    updated_at: datetime | None = None
    sequence: int = 0
    reschedule_count: int = 0
    manage_token_salt: str = ""
    address: str | None = None  # the customer's postal address, when the service asks for it
    metadata: Mapping[str, Any] = field(default_factory=dict)  # never shown to customers

    @property
    def cancelled(self) -> bool:
        return self.status is BookingStatus.CANCELLED

    def for_customer(self, locale: str | None = None) -> Booking:
        """The booking as its customer is told it: names in ``locale`` (default: the
        booking's, falling back to the site's language) and, when the service lists
        another duration than it blocks, the end that duration gives."""
        locale = locale or self.locale
        service = replace(self.service, name=self.service.name_in(locale))
        resources = tuple(replace(r, name=r.name_in(locale)) for r in self.resources)
        end = self.end
        if self.service.listed_duration_minutes:
            end = self.start + timedelta(minutes=self.service.listed_duration_minutes)
        return replace(self, service=service, resources=resources, end=end)

    @property
    def public_id(self) -> str:
        return booking_public_id(self.uid)


def booking_public_id(uid: str) -> str:
    """How the admin API and the back office name a booking: ``bkg_`` and its uid's 32 hex digits."""
    return "bkg_" + uid.replace("-", "")


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One thing that happened to a booking.

    ``kind``: "booked", "rescheduled" (``data`` holds "from" and "to", ISO
    instants), "cancelled" (``data`` holds "reason") or "message" (an owner's or
    integrator's own message: ``data`` holds "message" (``msg_…``), "channel" and,
    for a template, "template" (its event)).
    """

    kind: str
    data: Mapping[str, Any]
    at: datetime  # UTC
    actor: Actor


@dataclass(frozen=True, slots=True)
class TimeOff:
    """A span in which a resource cannot be booked: ``[start, end)`` in UTC, no buffers."""

    id: int
    public_id: str  # "off_…"
    resource: str  # its key
    start: datetime
    end: datetime
    reason: str
    actor: Actor
    created_at: datetime


@dataclass(frozen=True, slots=True)
class BookingNote:
    """The team's internal note on a booking (never shown to the customer): the text, who wrote it last, when."""

    text: str
    updated_at: datetime
    actor: Actor
