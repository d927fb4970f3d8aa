"""Public JSON API for holds and bookings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Controller, Request, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from slotwise.clock import Clock
from slotwise.domain.actors import Actor
from slotwise.domain.limits import CALENDAR_BOUNDS, within_calendar
from slotwise.domain.model import Booking
from slotwise.services import bookings as booking_service
from slotwise.services.config import ServiceConfig
from slotwise.services.errors import FieldProblem, InvalidInput
from slotwise.web.api import ResourceOut

NO_STORE = CacheControlHeader(no_store=True)

# Who books through the public API: a customer (or a program on their behalf), no key.
API_CUSTOMER = Actor.customer("api")

# Longest Idempotency-Key accepted (the column's length).
MAX_IDEMPOTENCY_KEY = 255


@dataclass(frozen=True)
class HoldOut:
    hold: str  # the hold token: send it with the booking
    expires_at: str
    service: str
    start: str
    end: str
    resources: list[ResourceOut]


@dataclass(frozen=True, slots=True)
class CustomerOut:
    name: str
    email: str
    phone: str | None


@dataclass(frozen=True)
class BookingOut:
    id: str
    status: str
    site: str
    service: str
    start: str
    end: str
    resources: list[ResourceOut]
    customer: CustomerOut
    answers: dict[str, Any]
    locale: str
    timezone: str
    manage_url: str


def parse_instant(name: str, raw: Any, problems: list[FieldProblem]) -> datetime | None:
    """An ISO-8601 instant with an offset; a bare local time is ambiguous and refused."""
    if not isinstance(raw, str) or not raw:
        problems.append(FieldProblem(name, "required"))
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        problems.append(FieldProblem(name, "instant-expected", {"value": repr(raw)}))
        return None
    if value.tzinfo is None:
        problems.append(FieldProblem(name, "offset-missing"))
        return None
    if not within_calendar(value):
        problems.append(FieldProblem(name, "out-of-calendar", CALENDAR_BOUNDS))
        return None
    return value


def _optional_text(name: str, body: dict[str, Any], problems: list[FieldProblem]) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        problems.append(FieldProblem(name, "string-expected"))
        return None
    return value


def _required_text(name: str, body: dict[str, Any], problems: list[FieldProblem]) -> str | None:
    value = _optional_text(name, body, problems)
    if value is None and not any(p.field == name for p in problems):
        problems.append(FieldProblem(name, "required"))
    return value


def idempotency_key(request: Request) -> str | None:
    """The request's ``Idempotency-Key`` header, checked (422 when unusable)."""
    key = request.headers.get("idempotency-key")
    if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
        raise InvalidInput([FieldProblem("Idempotency-Key", "key-length", {"limit": MAX_IDEMPOTENCY_KEY})])
    return key


def booking_out(booking: Booking, manage_token: str, config: ServiceConfig) -> BookingOut:
    return BookingOut(
        id=booking.uid,
        status=str(booking.status),
        site=booking.site.slug,
        service=booking.service.slug,
        start=booking.start.isoformat(),
        end=booking.end.isoformat(),
        resources=[ResourceOut(key=r.key, name=r.name, kind=str(r.kind)) for r in booking.resources],
        customer=CustomerOut(name=booking.customer.name, email=booking.customer.email,
                             phone=booking.customer.phone),
        answers=dict(booking.answers),
        locale=booking.locale,
        timezone=booking.timezone,
        manage_url=config.manage_url(manage_token),
    )


class BookingApi(Controller):
    path = "/api/v1/sites/{site:str}"
    tags = ["bookings"]

    # Answers carrying a secret (a hold token, a manage link) are never stored by a cache.
    @post("/holds", status_code=HTTP_201_CREATED, summary="Hold a slot while the customer types",
          cache_control=NO_STORE)
    async def create_hold(
        self, site: FromPath[str], data: JSONBody[dict[str, Any]], clock: NamedDependency[Clock]
    ) -> HoldOut:
        problems: list[FieldProblem] = []
        service = _required_text("service", data, problems)
        start = parse_instant("start", data.get("start"), problems)
        resource = _optional_text("resource", data, problems)
        if problems:
            raise InvalidInput(problems)
        result = await booking_service.take_hold(site, service, start, resource=resource,
                                                 actor=API_CUSTOMER, now=clock())
        return HoldOut(
            hold=result.token,
            expires_at=result.expires_at.isoformat(),
            service=service,
            start=result.slot.start.isoformat(),
            end=result.slot.end.isoformat(),
            resources=[ResourceOut(key=r.key, name=r.name, kind=str(r.kind)) for r in result.slot.resources],
        )

    @post("/bookings", status_code=HTTP_201_CREATED, summary="Book a slot", cache_control=NO_STORE,
          description="Send an Idempotency-Key header to make retries safe: the same key with the "
                      "same body answers with the same booking; with another body, 422.")
    async def create_booking(
        self, request: Request, site: FromPath[str], data: JSONBody[dict[str, Any]],
        clock: NamedDependency[Clock], config: NamedDependency[ServiceConfig],
    ) -> BookingOut:
        problems: list[FieldProblem] = []
        service = _required_text("service", data, problems)
        start = parse_instant("start", data.get("start"), problems)
        resource = _optional_text("resource", data, problems)
        hold = _optional_text("hold", data, problems)
        locale = _optional_text("locale", data, problems)
        timezone = _optional_text("timezone", data, problems)
        customer = data.get("customer")
        if not isinstance(customer, dict):
            problems.append(FieldProblem("customer", "object-expected"))
            customer = {}
        answers = data.get("answers", {})
        if not isinstance(answers, dict):
            problems.append(FieldProblem("answers", "object-expected"))
            answers = {}
        key = idempotency_key(request)
        if problems:
            raise InvalidInput(problems)
        result = await booking_service.create_booking(
            site,
            booking_service.BookingRequest(
                service=service, start=start, customer=customer, answers=answers,
                resource=resource, hold=hold, locale=locale, timezone=timezone,
            ),
            actor=API_CUSTOMER, now=clock(), config=config, idempotency_key=key,
        )
        return booking_out(result.booking, result.manage_token, config)

