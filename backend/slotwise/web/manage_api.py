"""The manage link's JSON side: see, cancel or move one booking, and its calendar file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from pydantic import ConfigDict, Field
from litestar.status_codes import HTTP_200_OK, HTTP_410_GONE

from slotwise.clock import Clock
from slotwise.domain.model import Booking
from slotwise.services import bookings
from slotwise.services.calendar_files import booking_calendar
from slotwise.services.config import ServiceConfig
from slotwise.services.manage_links import LINK_HOLDER, booking_for_token
from slotwise.web.bodies import Body, Instant, OptionalBody
from slotwise.web.booking_api import BookingOut, booking_out, idempotency_key

REASON_MAX = 500

# A manage link is a bearer secret: never cached, never leaked as a referrer.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class CancelIn(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "I feel better"}]})

    reason: Annotated[str | None, Field(max_length=REASON_MAX, description="Shown to the team")] = None


class RescheduleIn(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"start": "2026-12-02T10:00:00+01:00"}]})

    start: Annotated[Instant, Field(description="A free start, as listed by /availability")]
    resource: Annotated[str | None, Field(description="Another resource's key; default: the same person")] = None


@dataclass(frozen=True)
class ActionOut:
    allowed: bool
    reason: str | None  # "cancelled" | "started" | "too-late" | "too-many-moves"
    until: str | None  # ISO instant: the policy's cut-off


@dataclass(frozen=True)
class ManagedBookingOut:
    booking: BookingOut
    cancel: ActionOut
    reschedule: ActionOut


def _action(verdict) -> ActionOut:
    return ActionOut(allowed=verdict.allowed, reason=verdict.reason,
                     until=verdict.deadline.isoformat() if verdict.deadline else None)


async def _managed(booking: Booking, token: str, config: ServiceConfig, now) -> ManagedBookingOut:
    options = await bookings.options_for(booking, actor=LINK_HOLDER, now=now)
    return ManagedBookingOut(booking=booking_out(booking, token, config),
                             cancel=_action(options.cancel), reschedule=_action(options.reschedule))


def _respond(body: ManagedBookingOut, *, viewing: bool = False) -> Response[ManagedBookingOut]:
    # Viewing a cancelled booking shows it with 410 Gone (docs/product.md#manage-links);
    # the cancel request itself succeeded and answers 200.
    gone = viewing and body.booking.status == "cancelled"
    return Response(body, status_code=HTTP_410_GONE if gone else HTTP_200_OK, headers=PRIVATE_HEADERS)


class ManageApi(Controller):
    path = "/api/v1/manage/{token:str}"
    tags = ["manage"]

    @get("/", summary="The booking behind a manage link and what its holder may still do")
    async def show(
        self, token: FromPath[str], clock: NamedDependency[Clock], config: NamedDependency[ServiceConfig]
    ) -> Response[ManagedBookingOut]:
        now = clock()
        booking = await booking_for_token(token, secret_key=config.secret_key, now=now)
        return _respond(await _managed(booking, token, config, now), viewing=True)

    @post("/cancel", status_code=HTTP_200_OK, summary="Cancel the booking (within the site's policy)",
          operation_class=OptionalBody)
    async def cancel(
        self, request: Request, token: FromPath[str], clock: NamedDependency[Clock],
        config: NamedDependency[ServiceConfig], data: JSONBody[CancelIn | None] = None,
    ) -> Response[ManagedBookingOut]:
        reason = data.reason if data else None
        now = clock()
        booking = await booking_for_token(token, secret_key=config.secret_key, now=now)
        booking = await bookings.cancel_booking(booking.id, reason=reason or None, actor=LINK_HOLDER,
                                                now=now, config=config,
                                                idempotency_key=idempotency_key(request))
        return _respond(await _managed(booking, token, config, now))

    @post("/reschedule", status_code=HTTP_200_OK, summary="Move the booking to another free time (within the site's policy)")
    async def reschedule(
        self, request: Request, token: FromPath[str], data: JSONBody[RescheduleIn],
        clock: NamedDependency[Clock], config: NamedDependency[ServiceConfig],
    ) -> Response[ManagedBookingOut]:
        start, resource = data.start, data.resource
        now = clock()
        booking = await booking_for_token(token, secret_key=config.secret_key, now=now)
        booking = await bookings.move_booking(booking.id, start=start, resource=resource or None,
                                              actor=LINK_HOLDER, now=now, config=config,
                                              idempotency_key=idempotency_key(request))
        return _respond(await _managed(booking, token, config, now))

    @get("/booking.ics", summary="The booking as an iCalendar file", media_type="text/calendar")
    async def booking_ics(
        self, token: FromPath[str], clock: NamedDependency[Clock], config: NamedDependency[ServiceConfig]
    ) -> Response[bytes]:
        now = clock()
        booking = await booking_for_token(token, secret_key=config.secret_key, now=now)
        body = booking_calendar(booking, manage_url=config.manage_url(token), now=now)
        return Response(
            body,
            media_type="text/calendar",  # Litestar adds "; charset=utf-8" to text types (once)
            headers={**PRIVATE_HEADERS, "Content-Disposition": 'attachment; filename="booking.ics"'},
        )
