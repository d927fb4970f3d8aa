"""Public JSON API, version 1."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel.numbers import get_currency_precision
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from slotwise.clock import Clock
from slotwise.domain.model import Booking, Question, Service
from slotwise.services import availability as availability_service


@dataclass(frozen=True, slots=True)
class Price:
    amount: str  # decimal string in major units, e.g. "60.00"
    currency: str  # ISO 4217
    minor: int  # the same amount in minor units (cents)


@dataclass(frozen=True)
class QuestionOut:
    key: str
    label: str
    type: str  # "text" | "textarea" | "select" | "checkbox" | "number"
    required: bool
    options: list[str] | None = None  # select only
    min: float | None = None  # number only, inclusive
    max: float | None = None
    max_length: int | None = None  # text and textarea, characters


@dataclass(frozen=True)
class ServiceOut:
    slug: str
    name: str
    description: str
    duration_minutes: int
    seats: int
    price: Price | None
    phone: str  # "required" | "optional" | "hidden"
    questions: list[QuestionOut]


@dataclass(frozen=True)
class ServicesOut:
    site: str
    timezone: str
    services: list[ServiceOut]


@dataclass(frozen=True, slots=True)
class ResourceOut:
    key: str
    name: str
    kind: str


@dataclass(frozen=True)
class SlotOut:
    start: str  # ISO-8601 with offset, in the answer's zone
    end: str
    resources: list[ResourceOut]
    seats_left: int


@dataclass(frozen=True)
class AvailabilityOut:
    site: str
    service: str
    timezone: str
    start: date
    end: date
    slots: list[SlotOut]


def question_out(question: Question) -> QuestionOut:
    return QuestionOut(key=question.key, label=question.label, type=str(question.type),
                       required=question.required, options=list(question.options) or None,
                       min=question.min, max=question.max, max_length=question.max_length)


def price(minor: int | None, currency: str | None) -> Price | None:
    if minor is None or currency is None:
        return None
    digits = get_currency_precision(currency)
    amount = Decimal(minor).scaleb(-digits)
    return Price(amount=f"{amount:.{digits}f}", currency=currency, minor=minor)


def price_of(service: Service) -> Price | None:
    return price(service.price_minor, service.currency)


def price_of_booking(booking: Booking) -> Price | None:
    """What the customer was quoted when booking (a snapshot; the service's price may have changed)."""
    return price(booking.price_minor, booking.currency)


def service_out(service: Service) -> ServiceOut:
    return ServiceOut(
        slug=service.slug,
        name=service.name,
        description=service.description,
        duration_minutes=service.duration_minutes,
        seats=service.seats,
        price=price_of(service),
        phone=str(service.phone),
        questions=[question_out(q) for q in service.questions],
    )


class SitesApi(Controller):
    path = "/api/v1/sites/{site:str}"
    tags = ["sites"]

    @get("/services", summary="Bookable services of a site")
    async def services(self, site: FromPath[str]) -> ServicesOut:
        site_info, services = await availability_service.list_services(site)
        return ServicesOut(
            site=site_info.slug,
            timezone=site_info.timezone,
            services=[service_out(s) for s in services],
        )

    @get("/availability", summary="Free slots of a service between two dates")
    async def availability(
        self,
        site: FromPath[str],
        clock: NamedDependency[Clock],
        service: str | None = Parameter(default=None, description="service slug"),
        start: str | None = Parameter(default=None, description="first day, YYYY-MM-DD, in tz"),
        end: str | None = Parameter(default=None, description="last day (inclusive), YYYY-MM-DD"),
        tz: str | None = Parameter(default=None, description="IANA zone; default: the site's"),
        resource: str | None = Parameter(default=None, description="only this resource key"),
    ) -> AvailabilityOut:
        # Parameters arrive as text and are checked by the service, so every
        # problem is reported with its parameter name in one 422.
        query = availability_service.parse_availability_query(
            service=service, start=start, end=end, tz=tz, resource=resource
        )
        result = await availability_service.get_availability(site, query, now=clock())
        return AvailabilityOut(
            site=result.site.slug,
            service=result.service.slug,
            timezone=result.zone.key,
            start=result.start,
            end=result.end,
            slots=[
                SlotOut(
                    start=slot.start.isoformat(),
                    end=slot.end.isoformat(),
                    resources=[ResourceOut(key=r.key, name=r.name, kind=str(r.kind)) for r in slot.resources],
                    seats_left=slot.seats_left,
                )
                for slot in result.slots
            ],
        )


class PingApi(Controller):
    path = "/api/v1"
    tags = ["meta"]

    @get("/ping", summary="Answers without touching the database")
    async def ping(self) -> dict[str, bool]:
        return {"ok": True}
