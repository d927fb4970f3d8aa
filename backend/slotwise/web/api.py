"""Public JSON API, version 1."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from slotwise.clock import Clock
from slotwise.domain.locales import SUPPORTED_LOCALES
from slotwise.domain.model import Question, Service
from slotwise.services import availability as availability_service
from slotwise.services.booking_documents import Price, ResourceOut, price
from slotwise.services.errors import FieldProblem, InvalidInput


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
    option_labels: list[str] | None = None  # what each option shows, in the asked language


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
    category: str | None = None
    listed_duration_minutes: int | None = None  # what customers are told; the slots use duration_minutes
    ask_address: bool = False  # customer.address (a postal address, several lines) is required


@dataclass(frozen=True)
class ServicesOut:
    site: str
    timezone: str
    services: list[ServiceOut]


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


def question_out(question: Question, locale: str | None = None) -> QuestionOut:
    return QuestionOut(key=question.key, label=question.label_in(locale), type=str(question.type),
                       required=question.required, options=list(question.options) or None,
                       min=question.min, max=question.max, max_length=question.max_length,
                       option_labels=[question.option_in(o, locale) for o in question.options] or None)


def price_of(service: Service) -> Price | None:
    return price(service.price_minor, service.currency)


def service_out(service: Service, locale: str | None = None) -> ServiceOut:
    """The service as customers see it; texts in ``locale`` where the owner gave them (else the site's)."""
    return ServiceOut(
        slug=service.slug,
        name=service.name_in(locale),
        description=service.description_in(locale),
        duration_minutes=service.duration_minutes,
        seats=service.seats,
        price=price_of(service),
        phone=str(service.phone),
        questions=[question_out(q, locale) for q in service.questions],
        category=service.category_in(locale),
        listed_duration_minutes=service.listed_duration_minutes,
        ask_address=service.ask_address,
    )


class SitesApi(Controller):
    path = "/api/v1/sites/{site:str}"
    tags = ["sites"]

    @get("/services", summary="Bookable services of a site")
    async def services(
        self, site: FromPath[str],
        locale: str | None = Parameter(default=None, description="en | de: the language of names and "
                                                                  "labels; default: the site's"),
    ) -> ServicesOut:
        if locale is not None and locale not in SUPPORTED_LOCALES:
            raise InvalidInput([FieldProblem("locale", "locale-unsupported",
                                             {"choices": ", ".join(SUPPORTED_LOCALES)})])
        site_info, services = await availability_service.list_services(site)
        return ServicesOut(
            site=site_info.slug,
            timezone=site_info.timezone,
            services=[service_out(s, locale) for s in services],
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


@dataclass(frozen=True)
class PingOut:
    ok: bool


class PingApi(Controller):
    path = "/api/v1"
    tags = ["meta"]

    @get("/ping", summary="Answers without touching the database")
    async def ping(self) -> PingOut:
        return PingOut(ok=True)
