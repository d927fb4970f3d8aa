"""The manage link's JSON side: see, cancel or move one booking, and its calendar file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_410_GONE

from slotwise.clock import Clock
from slotwise.persistence.bookings import BookingRecord
from slotwise.services import manage
from slotwise.services.calendar_files import booking_calendar
from slotwise.services.errors import FieldProblem, InvalidInput
from slotwise.services.notifications import Messaging
from slotwise.settings import Settings
from slotwise.web.booking_api import BookingOut, booking_out, idempotency_key, parse_instant

# A manage link is a bearer secret: never cached, never leaked as a referrer.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


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


async def _managed(record: BookingRecord, token: str, settings: Settings, now) -> ManagedBookingOut:
    cancel, reschedule = await manage.verdicts(record, now)
    return ManagedBookingOut(booking=booking_out(record, token, settings),
                             cancel=_action(cancel), reschedule=_action(reschedule))


def _respond(body: ManagedBookingOut, *, viewing: bool = False) -> Response[ManagedBookingOut]:
    # Viewing a cancelled booking still shows its state, with 410 Gone (PRODUCT §8);
    # the cancel request itself succeeded and answers 200.
    gone = viewing and body.booking.status == "cancelled"
    return Response(body, status_code=HTTP_410_GONE if gone else HTTP_200_OK, headers=PRIVATE_HEADERS)


class ManageApi(Controller):
    path = "/api/v1/manage/{token:str}"
    tags = ["manage"]

    @get("/", summary="The booking behind a manage link and what its holder may still do")
    async def show(
        self, token: FromPath[str], clock: NamedDependency[Clock], settings: NamedDependency[Settings]
    ) -> Response[ManagedBookingOut]:
        now = clock()
        record = await manage.booking_for_token(token, secret_key=settings.secret_key, now=now)
        return _respond(await _managed(record, token, settings, now), viewing=True)

    @post("/cancel", status_code=HTTP_200_OK, summary="Cancel the booking (within the site's policy)")
    async def cancel(
        self, request: Request, token: FromPath[str], data: JSONBody[dict[str, Any]],
        clock: NamedDependency[Clock], settings: NamedDependency[Settings],
    ) -> Response[ManagedBookingOut]:
        reason = data.get("reason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
            raise InvalidInput([FieldProblem("reason", "must be text of at most 500 characters")])
        now = clock()
        record = await manage.cancel_booking(token, reason=reason or None, now=now,
                                             secret_key=settings.secret_key,
                                             messaging=Messaging.from_settings(settings),
                                             idempotency_key=idempotency_key(request))
        return _respond(await _managed(record, token, settings, now))

    @post("/reschedule", status_code=HTTP_200_OK, summary="Move the booking to another free time (within the site's policy)")
    async def reschedule(
        self, request: Request, token: FromPath[str], data: JSONBody[dict[str, Any]],
        clock: NamedDependency[Clock], settings: NamedDependency[Settings],
    ) -> Response[ManagedBookingOut]:
        problems: list[FieldProblem] = []
        start = parse_instant("start", data.get("start"), problems)
        resource = data.get("resource")
        if resource is not None and not isinstance(resource, str):
            problems.append(FieldProblem("resource", "must be a resource key"))
        if problems:
            raise InvalidInput(problems)
        now = clock()
        record = await manage.reschedule_booking(token, start=start, resource=resource or None, now=now,
                                                 secret_key=settings.secret_key,
                                                 messaging=Messaging.from_settings(settings),
                                                 idempotency_key=idempotency_key(request))
        return _respond(await _managed(record, token, settings, now))

    @get("/booking.ics", summary="The booking as an iCalendar file", media_type="text/calendar")
    async def booking_ics(
        self, token: FromPath[str], clock: NamedDependency[Clock], settings: NamedDependency[Settings]
    ) -> Response[bytes]:
        now = clock()
        record = await manage.booking_for_token(token, secret_key=settings.secret_key, now=now)
        body = booking_calendar(record, manage_url=f"{settings.base_url}/manage/{token}", now=now)
        return Response(
            body,
            media_type="text/calendar; charset=utf-8",
            headers={**PRIVATE_HEADERS, "Content-Disposition": 'attachment; filename="booking.ics"'},
        )
