"""The parsed site file: frozen, plain-data spec objects (the public result of parsing).

Durations are whole minutes; wall-clock hours are :class:`TimeRange` values in
the zone named next to them; the mappings are read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Literal, get_args

from slotwise.domain.limits import (
    DEFAULT_HOLD_MINUTES,
    DEFAULT_MAX_ADVANCE_MINUTES,
    DEFAULT_MAX_RESCHEDULES,
    DEFAULT_REMINDERS,
)
from slotwise.domain.model import Question, QuestionType, ResourceKind, TimeRange

PhoneMode = Literal["required", "optional", "hidden"]
# The type checker's copy of domain.locales.SUPPORTED_LOCALES (a Literal cannot
# be built from a tuple); a unit test keeps the two equal.
Locale = Literal["en", "de"]

QUESTION_TYPES: tuple[str, ...] = tuple(str(kind) for kind in QuestionType)
PHONE_MODES: tuple[str, ...] = get_args(PhoneMode)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()

# Read-only weekly hours: weekday (0 = Monday) -> sorted, non-overlapping
# ranges. Only weekdays with at least one range appear. ``dict(hours)`` gives
# the domain's ``WeeklyHours``.
ReadOnlyWeeklyHours = Mapping[int, tuple[TimeRange, ...]]
# Read-only extra openings: local date -> sorted, non-overlapping ranges.
ExtraOpen = Mapping[date, tuple[TimeRange, ...]]

NO_HOURS: ReadOnlyWeeklyHours = MappingProxyType({})
_NO_EXTRA_OPEN: ExtraOpen = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """What a customer books. Every duration is a whole number of minutes.

    ``duration``, ``step``, ``buffer_before`` and ``buffer_after`` are
    multiples of 5. ``min_notice`` and ``max_advance`` bound a start relative
    to now; ``cancel_until`` and ``reschedule_until`` are how long before the
    start a customer may still cancel or move it (0 = until the start).
    ``price_minor`` is in the currency's minor unit (cents for EUR);
    ``price_minor is None`` (and ``currency is None``) means free.
    ``step`` is the distance between slot starts (the file's default is the
    duration). ``reminders`` are minutes before the start, longest first.

    ``resource_groups``: the booking takes one resource from each group, e.g.
    ``(("anna", "ben"), ("room-1", "room-2"))`` = any therapist and any room.
    """

    slug: str
    name: str
    duration: int
    step: int
    resource_groups: tuple[tuple[str, ...], ...]
    description: str = ""
    buffer_before: int = 0
    buffer_after: int = 0
    min_notice: int = 0
    max_advance: int = DEFAULT_MAX_ADVANCE_MINUTES
    cancel_until: int = 0
    reschedule_until: int = 0
    seats: int = 1
    price_minor: int | None = None
    currency: str | None = None
    phone: PhoneMode = "optional"
    reminders: tuple[int, ...] = DEFAULT_REMINDERS
    questions: tuple[Question, ...] = ()  # the domain's own type: a file's question is the booking form's
    enabled: bool = True
    # Fields given per language (``name = { en = "…", de = "…" }``): field ->
    # locale -> text. The plain fields hold the site's language (see domain/locales.py).
    texts: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: MappingProxyType({}))
    category: str | None = None
    listed_duration: int | None = None  # minutes customers are told; None: the duration
    ask_address: bool = False
    metadata: Mapping[str, str | int | float | bool] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """Anything bookable: a person, a room, a court...

    ``timezone`` and ``hours`` are None when the resource inherits the
    site's. ``hours`` maps weekday (0 = Monday) to wall-clock ranges in the
    resource's zone; an empty mapping means closed every weekday (only
    ``extra_open`` dates then). ``closed`` holds local dates on which the
    weekly hours do not apply; ``extra_open`` maps local dates to extra
    ranges, which apply even on a closed date. Both mappings are read-only
    (``types.MappingProxyType``); ``dict(...)`` gives a plain dict.
    """

    key: str
    name: str
    kind: ResourceKind
    timezone: str | None = None
    hours: ReadOnlyWeeklyHours | None = None
    closed: frozenset[date] = frozenset()
    extra_open: ExtraOpen = field(default_factory=lambda: _NO_EXTRA_OPEN)
    texts: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: MappingProxyType({}))
    metadata: Mapping[str, str | int | float | bool] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """One business, as described by its site file.

    ``timezone`` is an IANA name. ``allowed_origins`` are normalised
    ``scheme://host[:port]`` strings (lower case, default port dropped).
    ``accent`` is ``#rrggbb`` in lower case. ``hours`` are the default weekly
    hours (read-only, see :class:`ResourceSpec`; possibly empty), ``closed``
    the dates the whole site is closed. ``hold_minutes`` is how long a picked
    slot is held.
    """

    slug: str
    name: str
    timezone: str
    locale: Locale = "en"
    allowed_origins: tuple[str, ...] = ()
    accent: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    address: str | None = None  # one line: "Hafenstraße 12, 20457 Hamburg"
    hours: ReadOnlyWeeklyHours = field(default_factory=lambda: NO_HOURS)
    closed: frozenset[date] = frozenset()
    hold_minutes: int = DEFAULT_HOLD_MINUTES
    max_reschedules: int = DEFAULT_MAX_RESCHEDULES
    sms_enabled: bool = False
    # A test site: its messages never reach a provider, its API keys are sw_test_.
    sandbox: bool = False
    notify_email: str | None = None
    # Calendar feeds out (docs/feeds.md) show the customer's name only when this is true.
    feed_customer_names: bool = False
    resources: tuple[ResourceSpec, ...] = ()
    services: tuple[ServiceSpec, ...] = ()
    # Owner templates by name (see docs/messages.md): email names like
    # "confirmed.de.txt", SMS names like "confirmed.de"; read-only mappings.
    email_templates: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    sms_templates: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
