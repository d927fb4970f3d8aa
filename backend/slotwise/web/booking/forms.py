"""The details form: its signed one-time token, the signed booking summary, the posted fields."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from slotwise.domain.limits import within_calendar

from slotwise.domain.model import Booking, ResourceKind, ResourceRef, Service
from slotwise.services import bookings as booking_service
from slotwise.settings import Settings
from slotwise.web.booking.state import PageState

# The details form's one-time token: signed, never stored; its nonce becomes
# the booking's idempotency key, so a double click books once. Two hours is
# far longer than a hold and short enough that a stale tab cannot replay.
FORM_SALT = "slotwise-booking-form"
FORM_MAX_AGE = 2 * 3600
# The confirmation's URL carries a signed summary (no customer data), so a
# reload shows it again without a session.
BOOKED_SALT = "slotwise-booking-done"
BOOKED_MAX_AGE = 30 * 24 * 3600
# Values typed into the form and carried through a taken or expired hold.
CARRIED_PREFIXES = ("customer.", "answers.")
MAX_CARRIED = 40
MAX_CARRIED_LENGTH = 4000


def _serializer(settings: Settings, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=salt)


def new_form_token(settings: Settings, site_slug: str) -> str:
    return _serializer(settings, FORM_SALT).dumps({"n": secrets.token_urlsafe(18), "s": site_slug})


def read_form_token(settings: Settings, token: str | None, site_slug: str) -> str | None:
    """The nonce of a valid, fresh form token for this site; None otherwise."""
    if not token:
        return None
    try:
        data = _serializer(settings, FORM_SALT).loads(token, max_age=FORM_MAX_AGE)
    except BadSignature:  # also covers SignatureExpired
        return None
    if (
        not isinstance(data, dict)
        or data.get("s") != site_slug
        or not isinstance(data.get("n"), str)
    ):
        return None
    return data["n"]


@dataclass(frozen=True, slots=True)
class BookedSummary:
    """What the confirmation shows, minus the customer's details (kept out of URLs)."""

    uid: str
    service: str
    service_name: str
    start: datetime
    end: datetime
    resources: tuple[ResourceRef, ...]
    manage_token: str
    price_minor: int | None
    currency: str | None

    @classmethod
    def of(cls, record: Booking, manage_token: str) -> BookedSummary:
        record = record.for_customer()  # names in the customer's language, the listed duration
        return cls(
            uid=record.uid,
            service=record.service.slug,
            service_name=record.service.name,
            start=record.start,
            end=record.end,
            resources=tuple(record.resources),
            manage_token=manage_token,
            price_minor=record.price_minor,
            currency=record.currency,
        )

    def sign(self, settings: Settings) -> str:
        return _serializer(settings, BOOKED_SALT).dumps(
            {
                "u": self.uid,
                "s": self.service,
                "n": self.service_name,
                "a": self.start.isoformat(),
                "b": self.end.isoformat(),
                "r": [[r.key, r.name, str(r.kind)] for r in self.resources],
                "m": self.manage_token,
                "p": self.price_minor,
                "c": self.currency,
            }
        )

    @classmethod
    def read(cls, settings: Settings, token: str | None) -> BookedSummary | None:
        if not token:
            return None
        try:
            d = _serializer(settings, BOOKED_SALT).loads(token, max_age=BOOKED_MAX_AGE)
            return cls(
                uid=d["u"],
                service=d["s"],
                service_name=d["n"],
                start=datetime.fromisoformat(d["a"]),
                end=datetime.fromisoformat(d["b"]),
                resources=tuple(ResourceRef(k, n, ResourceKind(kind)) for k, n, kind in d["r"]),
                manage_token=d["m"],
                price_minor=d["p"],
                currency=d["c"],
            )
        except (BadSignature, KeyError, TypeError, ValueError):
            return None



def parse_start(raw: str | None) -> datetime | None:
    try:
        value = datetime.fromisoformat(raw or "")
    except ValueError:
        return None
    # A start outside the calendar is no start at all: the page asks for a time again.
    return value if value.tzinfo is not None and within_calendar(value) else None


def carried_values(form: Mapping[str, str]) -> list[tuple[str, str]]:
    """What the customer typed, to send along through a taken or expired hold."""
    pairs = []
    for key, value in form.items():
        if key.startswith(CARRIED_PREFIXES) and isinstance(value, str) and value:
            pairs.append((key[:100], value[:MAX_CARRIED_LENGTH]))
    return pairs[:MAX_CARRIED]



def form_dict(form: Any) -> dict[str, str]:
    """The first value of each field, as text."""
    return {key: value for key, value in form.items() if isinstance(value, str)}


def booking_request(
    form: Mapping[str, str],
    service: Service,
    state: PageState,
    start: datetime,
    hold: str | None,
) -> booking_service.BookingRequest:
    """The booking the details form asks for; the service's questions left empty are left out."""
    answers: dict[str, Any] = {}
    for q in service.questions:
        value = form.get(f"answers.{q.key}")
        if value not in (None, ""):
            answers[q.key] = value
    return booking_service.BookingRequest(
        service=service.slug,
        start=start,
        customer={
            "name": form.get("customer.name", ""),
            "email": form.get("customer.email", ""),
            "phone": form.get("customer.phone", ""),
            "address": form.get("customer.address", ""),
        },
        answers=answers,
        resource=state.resource_key,
        hold=hold,
        locale=state.locale,
        timezone=state.tz,
    )
