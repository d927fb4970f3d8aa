"""Public JSON API for holds and bookings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from pydantic import ConfigDict, Field
from litestar.status_codes import HTTP_201_CREATED

from slotwise.clock import Clock
from slotwise.domain.actors import Actor
from slotwise.domain.model import Booking
from slotwise.services import bookings as booking_service
from slotwise.services.config import ServiceConfig
from slotwise.services.booking_documents import CustomerOut, ResourceOut
from slotwise.services.errors import FieldProblem, InvalidInput
from slotwise.settings import Settings
from slotwise.web.bodies import Body, Instant, checked
from slotwise.web.clients import client_of

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
    address: str | None = None  # the customer's postal address, when the service asks for it


def parse_instant(name: str, raw: Any, problems: list[FieldProblem]) -> datetime | None:
    """An ISO-8601 instant with an offset, for values that are not in a typed body (query parameters)."""
    try:
        return checked(_OneInstant, {"value": raw}).value  # type: ignore[attr-defined]
    except InvalidInput as error:
        problems += [FieldProblem(name, p.code, p.params) for p in error.problems]
        return None


class _OneInstant(Body):
    value: Instant


# --- bodies ---------------------------------------------------------------------------------

_START = Field(description="The slot's start, as listed by /availability")
_RESOURCE = Field(description="Only this resource's key (e.g. a person); default: any free one")


class HoldIn(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"service": "follow-up", "start": "2026-12-01T10:00:00+01:00", "resource": "ben"}]})

    service: Annotated[str, Field(min_length=1, description="The service's slug")]
    start: Annotated[Instant, _START]
    resource: Annotated[str | None, _RESOURCE] = None
    replaces: Annotated[str | None, Field(
        description="The token of this customer's previous hold, released first")] = None


class CustomerIn(Body):
    name: Annotated[str, Field(description="Up to 200 characters")]
    email: str
    phone: Annotated[str | None, Field(
        description="E.164 or national with the site's country; required or hidden per service")] = None
    address: Annotated[str | None, Field(
        description="Where the service takes place, several lines; required when the service has ask_address")] = None


Answer = str | int | float | bool | None


class BookingIn(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "service": "assessment", "start": "2026-12-01T09:00:00+01:00",
        "customer": {"name": "Erika Mustermann", "email": "erika@example.com", "phone": "+49 170 1234567"},
        "answers": {"reason": "Back pain", "referral": "Internet", "prescription": True},
        "locale": "de", "timezone": "Europe/Berlin"}]})

    service: Annotated[str, Field(min_length=1, description="The service's slug")]
    start: Annotated[Instant, _START]
    customer: CustomerIn
    answers: Annotated[dict[str, Answer], Field(
        description="By question key (see the service's questions): text, number or true/false")] = {}
    resource: Annotated[str | None, _RESOURCE] = None
    hold: Annotated[str | None, Field(description="The token of a hold taken for this start")] = None
    locale: Annotated[str | None, Field(description="en or de; default: the site's")] = None
    timezone: Annotated[str | None, Field(description="The customer's IANA zone; default: the site's")] = None

    def request(self) -> booking_service.BookingRequest:
        return booking_service.BookingRequest(
            service=self.service, start=self.start, customer=self.customer.model_dump(),
            answers=dict(self.answers), resource=self.resource or None, hold=self.hold or None,
            locale=self.locale or None, timezone=self.timezone or None)


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
        address=booking.address,
    )


class BookingApi(Controller):
    path = "/api/v1/sites/{site:str}"
    tags = ["bookings"]

    # Answers carrying a secret (a hold token, a manage link) are never stored by a cache.
    @post("/holds", status_code=HTTP_201_CREATED, summary="Hold a slot while the customer types",
          cache_control=NO_STORE,
          description="'replaces' is the token of this customer's previous hold, released first. One client "
                      "keeps at most SLOTWISE_HOLDS_PER_CLIENT live holds per site (default 2): a new one "
                      "releases its oldest.")
    async def create_hold(self, request: Request, site: FromPath[str], data: JSONBody[HoldIn],
                          clock: NamedDependency[Clock], settings: NamedDependency[Settings]) -> HoldOut:
        result = await booking_service.take_hold(
            site, data.service, data.start, resource=data.resource or None, actor=API_CUSTOMER, now=clock(),
            replaces=data.replaces or None, client=client_of(request, settings.trusted_proxies),
            holds_per_client=settings.holds_per_client)
        return HoldOut(
            hold=result.token,
            expires_at=result.expires_at.isoformat(),
            service=data.service,
            start=result.slot.start.isoformat(),
            end=result.slot.end.isoformat(),
            resources=[ResourceOut(key=r.key, name=r.name, kind=str(r.kind)) for r in result.slot.resources],
        )

    @post("/bookings", status_code=HTTP_201_CREATED, summary="Book a slot", cache_control=NO_STORE,
          description="Send an Idempotency-Key header to make retries safe: the same key with the "
                      "same body answers with the same booking; with another body, 422.")
    async def create_booking(
        self, request: Request, site: FromPath[str], data: JSONBody[BookingIn],
        clock: NamedDependency[Clock], config: NamedDependency[ServiceConfig],
    ) -> BookingOut:
        result = await booking_service.create_booking(
            site, data.request(), actor=API_CUSTOMER, now=clock(), config=config,
            idempotency_key=idempotency_key(request),
        )
        return booking_out(result.booking, result.manage_token, config)
