"""The admin API (JSON, ``Authorization: Bearer <key>``): a site's bookings and time off, for its owner and integrators.

Every route resolves its caller (``provide_caller``), the site (no grant on
it: 404) and asks ``services.access.authorize`` about its action (not
covered: 403), then calls one service. Lists answer
``{"data": [...], "next_cursor": …}``; bookings are named ``bkg_…``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, Parameter, QueryParameter
from pydantic import ConfigDict, Field
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from slotwise.clock import Clock
from slotwise.domain.access import Action
from slotwise.domain.actors import Rules
from slotwise.domain.model import Booking, Site, TimeOff
from slotwise.services import access, booking_lists
from slotwise.services import catalog as catalog_service
from slotwise.services import bookings as booking_service
from slotwise.services import sites as site_service
from slotwise.services import time_off as time_off_service
from slotwise.services.access import Caller
from slotwise.services.config import ServiceConfig
from slotwise.services.booking_documents import ActorOut, AdminBookingOut, actor_out, booking_document
from slotwise.services.errors import Unauthenticated
from slotwise.web.bodies import Body, Instant, OptionalBody, SiteFileBody, answered_as
from slotwise.web.booking_api import BookingIn, idempotency_key

REASON_MAX = 500

_NOTIFY = Field(description="Send the customer the usual message (default true); the history is written anyway")
_OVERRIDE = Field(description="Book outside opening hours, notice and advance (default false); never past "
                              "capacity; the history marks it. Needs bookings:write, like the route")


def _rules(override: bool) -> Rules:
    return Rules.OVERRIDE if override else Rules.STAFF


class AdminBookingIn(BookingIn):
    """The public booking body, plus ``notify`` and ``override``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "service": "follow-up", "start": "2026-12-01T11:00:00+01:00", "resource": "anna",
        "customer": {"name": "Jonas Weber", "email": "jonas@example.com", "phone": "+49 40 7654321"},
        "answers": {"notes": "Called in"}, "notify": False, "override": False}]})

    notify: Annotated[bool, _NOTIFY] = True
    override: Annotated[bool, _OVERRIDE] = False
    metadata: Annotated[dict[str, Any] | None, Field(
        description="Custom fields: up to 50 keys of lower-case letters, digits and _, each text (≤ 500), "
                    "a number or true/false; never shown to customers")] = None

    def request(self) -> booking_service.BookingRequest:
        return replace(super().request(), metadata=self.metadata)


class AdminCancelIn(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Therapist ill", "notify": True}]})

    reason: Annotated[str | None, Field(max_length=REASON_MAX, description="Recorded in the history")] = None
    notify: Annotated[bool, _NOTIFY] = True


class AdminRescheduleIn(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"start": "2026-12-02T18:30:00+01:00", "resource": "ben", "notify": True, "override": True}]})

    start: Instant
    resource: Annotated[str | None, Field(description="Move to this resource; default: keep the person")] = None
    notify: Annotated[bool, _NOTIFY] = True
    override: Annotated[bool, _OVERRIDE] = False


class TimeOffIn(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"start": "2026-12-03T13:00:00+01:00", "end": "2026-12-03T18:00:00+01:00", "reason": "Training"}]})

    start: Instant
    end: Annotated[Instant, Field(description="Exclusive; any span, hours or days")]
    reason: Annotated[str | None, Field(description="Shown in the back office")] = None


# A whole site as one document (JSON, or TOML with Content-Type: application/toml), checked as a site file.
SiteDocument = Annotated[dict[str, Any], SiteFileBody(catalog_service.table_schemas.document_schema, toml=True)]


async def provide_caller(request: Request, clock: NamedDependency[Clock]) -> Caller:
    """The caller behind ``Authorization: Bearer <key>``; 401 for anything else."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated()
    caller = await access.caller_for_key(secret.strip(), now=clock(),
                                         site_slug=request.path_params.get("site"))
    if caller is None:
        raise Unauthenticated()
    return caller


class BookingChangeIn(Body):
    """What a PATCH of a booking may change: its metadata, replaced whole."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"metadata": {"invoice": "2026-0042", "paid": True}}]})

    metadata: Annotated[dict[str, Any], Field(
        description="Custom fields: up to 50 keys of lower-case letters, digits and _, each text (≤ 500), "
                    "a number or true/false; never shown to customers")]


@dataclass(frozen=True)
class BookingPageOut:
    data: list[AdminBookingOut]
    next_cursor: str | None


@dataclass(frozen=True)
class TimeOffOut:
    id: str  # off_…
    resource: str
    start: str  # ISO, in the site's zone
    end: str
    reason: str
    created_at: str
    actor: ActorOut
    overlapping_bookings: list[str] | None = None  # when created: confirmed bookings inside it (bkg_…)


@dataclass(frozen=True)
class TimeOffListOut:
    data: list[TimeOffOut]
    next_cursor: str | None = None


@dataclass(frozen=True)
class ApplyOut:
    """What applying a document changed, as ``kind key`` strings, and the new document's ETag."""

    created: list[str]
    updated: list[str]
    deactivated: list[str]
    changed: bool
    etag: str


def booking_out(booking: Booking, site: Site, detail: booking_lists.Detail | None = None) -> AdminBookingOut:
    if detail is None:
        return booking_document(booking, site)
    return booking_document(booking, site, detail.history, detail.messages)


def time_off_out(entry: TimeOff, site: Site, overlapping: list[str] | None = None) -> TimeOffOut:
    zone = ZoneInfo(site.timezone)
    return TimeOffOut(
        id=entry.public_id, resource=entry.resource, start=entry.start.astimezone(zone).isoformat(),
        end=entry.end.astimezone(zone).isoformat(), reason=entry.reason,
        created_at=entry.created_at.isoformat(),
        actor=actor_out(entry.actor),
        overlapping_bookings=None if overlapping is None else [
            booking_lists.ID_PREFIX + uuid.UUID(uid).hex for uid in overlapping],
    )


class AdminBookingsApi(Controller):
    path = "/api/v1/admin/sites/{site:str}"
    tags = ["admin"]
    dependencies = {"caller": Provide(provide_caller)}

    @get("/", summary="The whole site as one document: JSON, or a site file with Accept: application/toml",
         operation_class=answered_as(catalog_service.table_schemas.document_schema, toml=True))
    async def site(self, request: Request, site: FromPath[str], caller: NamedDependency[Caller]) -> Response:
        found = await access.site_allowing(caller, site, Action.SITE_READ)
        current = await site_service.site_document(found)
        headers = {"ETag": current.etag, "Cache-Control": "no-cache"}
        if "application/toml" in request.headers.get("accept", ""):
            return Response(site_service.document_as_toml(current.document), media_type="application/toml",
                            headers=headers)
        return Response(current.document, media_type="application/json", headers=headers)

    @put("/", summary="Apply a whole document (JSON or TOML), exactly as `slotwise apply`",
         opt={"body": "document"})
    async def apply(self, request: Request, site: FromPath[str], data: JSONBody[SiteDocument],
                    caller: NamedDependency[Caller], clock: NamedDependency[Clock]) -> ApplyOut:
        found = await access.site_allowing(caller, site, Action.SITE_WRITE)
        report = await site_service.put_site_document(
            found, data, source="document", if_match=request.headers.get("if-match"), actor=caller.actor,
            now=clock())
        current = await site_service.site_document(found)
        return ApplyOut(created=report.created, updated=report.updated, deactivated=report.deactivated,
                        changed=report.changed, etag=current.etag)

    @get("/bookings", summary="The site's bookings, filtered, in pages (needs bookings:read)")
    async def bookings(
        self, site: FromPath[str], caller: NamedDependency[Caller],
        from_: Annotated[str | None, QueryParameter(
            name="from", description="first day (site's zone, YYYY-MM-DD) or an instant")] = None,
        to: str | None = Parameter(default=None, description="last day (inclusive) or an instant"),
        resource: str | None = Parameter(default=None, description="resource key"),
        service: str | None = Parameter(default=None, description="service slug"),
        status: str | None = Parameter(default=None, description="confirmed | cancelled"),
        q: str | None = Parameter(default=None, description="in the customer's name or email"),
        updated_since: str | None = Parameter(default=None, description="changed at or after"),
        limit: str | None = Parameter(default=None, description="1-200, default 50"),
        cursor: str | None = Parameter(default=None, description="next_cursor of the previous page"),
    ) -> BookingPageOut:
        found = await access.site_allowing(caller, site, Action.BOOKINGS_READ)
        documents, next_cursor = await booking_lists.list_documents(found, {
            "from": from_, "to": to, "resource": resource, "service": service, "status": status,
            "q": q, "updated_since": updated_since, "limit": limit, "cursor": cursor,
        }, visible=access.visible_to(caller, found))
        return BookingPageOut(data=documents, next_cursor=next_cursor)

    @get("/bookings/{booking_id:str}", summary="One booking with its history and messages")
    async def booking(self, site: FromPath[str], booking_id: FromPath[str],
                      caller: NamedDependency[Caller]) -> Response[AdminBookingOut]:
        found, booking = await self._booking(caller, site, booking_id, Action.BOOKINGS_READ)
        return Response(booking_out(booking, found, await booking_lists.booking_detail(booking)),
                        headers={"ETag": booking_service.booking_etag(booking)})

    @patch("/bookings/{booking_id:str}", summary="Change a booking's metadata: {metadata} (If-Match optional)")
    async def change(self, request: Request, site: FromPath[str], booking_id: FromPath[str],
                     data: JSONBody[BookingChangeIn], caller: NamedDependency[Caller],
                     clock: NamedDependency[Clock]) -> Response[AdminBookingOut]:
        found, booking = await self._booking(caller, site, booking_id, Action.BOOKINGS_WRITE)
        changed = await booking_service.change_metadata(
            booking.id, data.metadata, if_match=request.headers.get("if-match"), actor=caller.actor,
            now=clock())
        return Response(booking_out(changed, found, await booking_lists.booking_detail(changed)),
                        headers={"ETag": booking_service.booking_etag(changed)})

    @post("/bookings", status_code=HTTP_201_CREATED, summary="Book on a customer's behalf")
    async def create(self, request: Request, site: FromPath[str], data: JSONBody[AdminBookingIn],
                     caller: NamedDependency[Caller], clock: NamedDependency[Clock],
                     config: NamedDependency[ServiceConfig]) -> AdminBookingOut:
        found = await access.site_allowing(caller, site, Action.BOOKINGS_WRITE,
                                           [data.resource] if data.resource else None)
        result = await booking_service.create_booking(
            found.slug, data.request(), actor=caller.actor, now=clock(), config=config,
            idempotency_key=idempotency_key(request), notify=data.notify, rules=_rules(data.override),
        )
        return booking_out(result.booking, found, await booking_lists.booking_detail(result.booking))

    @post("/bookings/{booking_id:str}/cancel", status_code=HTTP_200_OK, summary="Cancel, with a reason",
          operation_class=OptionalBody)
    async def cancel(self, request: Request, site: FromPath[str], booking_id: FromPath[str],
                     caller: NamedDependency[Caller], clock: NamedDependency[Clock],
                     config: NamedDependency[ServiceConfig],
                     data: JSONBody[AdminCancelIn | None] = None) -> AdminBookingOut:
        data = data or AdminCancelIn()
        found, booking = await self._booking(caller, site, booking_id, Action.BOOKINGS_WRITE)
        cancelled = await booking_service.cancel_booking(
            booking.id, reason=(data.reason or "").strip() or None, actor=caller.actor, rules=Rules.STAFF,
            now=clock(), config=config, idempotency_key=idempotency_key(request), notify=data.notify)
        return booking_out(cancelled, found, await booking_lists.booking_detail(cancelled))

    @post("/bookings/{booking_id:str}/reschedule", status_code=HTTP_200_OK,
          summary="Move to another free time (hours, notice and advance apply unless override)")
    async def reschedule(self, request: Request, site: FromPath[str], booking_id: FromPath[str],
                         data: JSONBody[AdminRescheduleIn], caller: NamedDependency[Caller],
                         clock: NamedDependency[Clock],
                         config: NamedDependency[ServiceConfig]) -> AdminBookingOut:
        found, booking = await self._booking(caller, site, booking_id, Action.BOOKINGS_WRITE)
        if data.resource:  # moving to another person is a write on theirs too
            access.authorize(caller, Action.BOOKINGS_WRITE, found, [data.resource])
        moved = await booking_service.move_booking(
            booking.id, start=data.start, resource=data.resource or None, actor=caller.actor,
            rules=_rules(data.override),
            now=clock(), config=config, idempotency_key=idempotency_key(request), notify=data.notify)
        return booking_out(moved, found, await booking_lists.booking_detail(moved))

    @get("/resources/{resource:str}/blocks", summary="A resource's time off that has not ended")
    async def time_off(self, site: FromPath[str], resource: FromPath[str], caller: NamedDependency[Caller],
                       clock: NamedDependency[Clock]) -> TimeOffListOut:
        found = await access.site_allowing(caller, site, Action.CATALOG_READ)
        entries = await time_off_service.time_off_of(found, resource, now=clock())
        return TimeOffListOut(data=[time_off_out(entry, found) for entry in entries])

    @post("/resources/{resource:str}/blocks", status_code=HTTP_201_CREATED,
          summary="Block a resource's time, any span: {start, end, reason?}")
    async def block(self, site: FromPath[str], resource: FromPath[str], data: JSONBody[TimeOffIn],
                    caller: NamedDependency[Caller], clock: NamedDependency[Clock]) -> TimeOffOut:
        found = await access.site_allowing(caller, site, Action.TIME_OFF_WRITE, [resource])
        added = await time_off_service.add_time_off(found, resource, start=data.start, end=data.end,
                                                    reason=data.reason, actor=caller.actor, now=clock())
        return time_off_out(added.time_off, found, added.overlapping)

    @delete("/resources/{resource:str}/blocks/{block_id:str}", summary="Free a resource's blocked time again")
    async def unblock(self, site: FromPath[str], resource: FromPath[str], block_id: FromPath[str],
                      caller: NamedDependency[Caller], clock: NamedDependency[Clock]) -> None:
        found = await access.site_allowing(caller, site, Action.TIME_OFF_WRITE, [resource])
        await time_off_service.remove_time_off(found, resource, block_id, actor=caller.actor, now=clock())

    @staticmethod
    async def _booking(caller: Caller, site: str, booking_id: str, action: Action) -> tuple[Site, Booking]:
        """The site and the booking a route names, once the caller may do ``action`` on it."""
        found = await access.site_for(caller, site)
        booking = await booking_lists.find_booking(found, booking_id)
        access.authorize(caller, action, found, [r.key for r in booking.resources])
        return found, booking
