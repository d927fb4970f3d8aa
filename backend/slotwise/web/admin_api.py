"""The admin API (JSON, ``Authorization: Bearer <key>``): a site's bookings and time off, for its owner and integrators.

Every route resolves its caller (``provide_caller``), the site (no grant on
it: 404) and asks ``services.access.authorize`` about its action (not
covered: 403), then calls one service. Lists answer
``{"data": [...], "next_cursor": …}``; bookings are named ``bkg_…``.
"""

from __future__ import annotations

import tomllib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, Parameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from slotwise.clock import Clock
from slotwise.domain.access import Action
from slotwise.domain.actors import Rules
from slotwise.domain.model import Booking, HistoryEntry, Site, TimeOff
from slotwise.services import access, booking_lists
from slotwise.services import bookings as booking_service
from slotwise.services import sites as site_service
from slotwise.services import time_off as time_off_service
from slotwise.services.access import Caller
from slotwise.services.config import ServiceConfig
from slotwise.services.errors import FieldProblem, InvalidInput, Unauthenticated
from slotwise.web.api import Price, ResourceOut, price_of_booking
from slotwise.web.booking_api import CustomerOut, idempotency_key, parse_instant
from slotwise.web.request_limits import media_type

REASON_MAX = 500


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


@dataclass(frozen=True)
class ActorOut:
    kind: str  # customer | account | api_key | system
    id: str | None  # how a customer came (widget, api, manage-link); the key's or account's id
    label: str | None


@dataclass(frozen=True)
class HistoryOut:
    kind: str  # booked | rescheduled | cancelled
    at: str
    actor: ActorOut
    data: dict[str, Any]  # rescheduled: from, to; cancelled: reason


@dataclass(frozen=True)
class MessageOut:
    id: str
    event: str
    channel: str  # email | sms
    recipient: str
    status: str  # queued | sending | sent | failed | dropped
    attempts: int
    send_at: str
    sent_at: str | None
    last_error: str | None


# slots: a page builds 50 of these; a slotted dataclass is about a third
# quicker to make (bench/admin.py).
@dataclass(frozen=True, slots=True)
class AdminBookingOut:
    id: str  # bkg_…
    status: str
    service: str
    service_name: str
    start: str  # ISO, in the site's zone
    end: str
    resources: list[ResourceOut]
    customer: CustomerOut
    answers: dict[str, Any]
    price: Price | None
    locale: str
    timezone: str  # the customer's
    reschedule_count: int
    created_at: str
    updated_at: str | None
    history: list[HistoryOut] | None = None  # in a booking's detail
    messages: list[MessageOut] | None = None


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


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def booking_out(booking: Booking, site: Site, detail: booking_lists.Detail | None = None) -> AdminBookingOut:
    zone = ZoneInfo(site.timezone)
    return AdminBookingOut(
        id=booking_lists.public_id(booking), status=str(booking.status), service=booking.service.slug,
        service_name=booking.service.name, start=booking.start.astimezone(zone).isoformat(),
        end=booking.end.astimezone(zone).isoformat(),
        resources=[ResourceOut(key=r.key, name=r.name, kind=str(r.kind)) for r in booking.resources],
        customer=CustomerOut(name=booking.customer.name, email=booking.customer.email,
                             phone=booking.customer.phone),
        answers=dict(booking.answers), price=price_of_booking(booking), locale=booking.locale,
        timezone=booking.timezone, reschedule_count=booking.reschedule_count,
        created_at=booking.created_at.isoformat(), updated_at=_iso(booking.updated_at),
        history=[_history_out(entry) for entry in detail.history] if detail else None,
        messages=[_message_out(row) for row in detail.messages] if detail else None,
    )


def _history_out(entry: HistoryEntry) -> HistoryOut:
    actor = ActorOut(kind=str(entry.actor.kind), id=entry.actor.ref, label=entry.actor.label)
    return HistoryOut(kind=entry.kind, at=entry.at.isoformat(), actor=actor, data=dict(entry.data))


def _message_out(row: dict[str, Any]) -> MessageOut:
    return MessageOut(id=f"msg_{row['uid'].hex}", event=row["event"], channel=row["channel"],
                      recipient=row["recipient"], status=row["status"], attempts=row["attempts"],
                      send_at=row["send_at"].isoformat(), sent_at=_iso(row["sent_at"]),
                      last_error=row["last_error"])


def time_off_out(entry: TimeOff, site: Site, overlapping: list[str] | None = None) -> TimeOffOut:
    zone = ZoneInfo(site.timezone)
    return TimeOffOut(
        id=entry.public_id, resource=entry.resource, start=entry.start.astimezone(zone).isoformat(),
        end=entry.end.astimezone(zone).isoformat(), reason=entry.reason,
        created_at=entry.created_at.isoformat(),
        actor=ActorOut(kind=str(entry.actor.kind), id=entry.actor.ref, label=entry.actor.label),
        overlapping_bookings=None if overlapping is None else [
            booking_lists.ID_PREFIX + uuid.UUID(uid).hex for uid in overlapping],
    )


def _only(data: dict[str, Any], allowed: set[str]) -> None:
    """Unknown fields are refused, not ignored: a typo must not pass silently."""
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidInput([FieldProblem(name, "field-unknown") for name in unknown])


def _notify(data: dict[str, Any], problems: list[FieldProblem]) -> bool:
    value = data.get("notify", True)
    if not isinstance(value, bool):
        problems.append(FieldProblem("notify", "boolean-expected"))
        return True
    return value


class AdminBookingsApi(Controller):
    path = "/api/v1/admin/sites/{site:str}"
    tags = ["admin"]
    dependencies = {"caller": Provide(provide_caller)}

    @get("/", summary="The whole site as one document: JSON, or a site file with Accept: application/toml")
    async def site(self, request: Request, site: FromPath[str], caller: NamedDependency[Caller]) -> Response:
        found = await access.site_for(caller, site)
        access.authorize(caller, Action.SITE_READ, found)
        current = await site_service.site_document(found)
        headers = {"ETag": current.etag, "Cache-Control": "no-cache"}
        if "application/toml" in request.headers.get("accept", ""):
            return Response(site_service.document_as_toml(current.document), media_type="application/toml",
                            headers=headers)
        return Response(current.document, media_type="application/json", headers=headers)

    @put("/", summary="Apply a whole document (JSON or TOML), exactly as `slotwise apply`",
         opt={"body": "document"})
    async def apply(self, request: Request, site: FromPath[str], caller: NamedDependency[Caller],
                    clock: NamedDependency[Clock]) -> ApplyOut:
        found = await access.site_for(caller, site)
        access.authorize(caller, Action.SITE_WRITE, found)
        body = await request.body()
        if media_type(request.headers.get("content-type")) == "application/toml":
            try:
                data = tomllib.loads(body.decode("utf-8-sig"))
            except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
                raise InvalidInput([FieldProblem("document", "site-file-rule", {"message": str(error)})]) from None
        else:
            data = await request.json()
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
        found = await access.site_for(caller, site)
        access.authorize(caller, Action.BOOKINGS_READ, found)
        page = await booking_lists.list_bookings(found, {
            "from": from_, "to": to, "resource": resource, "service": service, "status": status,
            "q": q, "updated_since": updated_since, "limit": limit, "cursor": cursor,
        }, visible=access.visible_to(caller, found))
        return BookingPageOut(data=[booking_out(b, found) for b in page.bookings],
                              next_cursor=page.next_cursor)

    @get("/bookings/{booking_id:str}", summary="One booking with its history and messages")
    async def booking(self, site: FromPath[str], booking_id: FromPath[str],
                      caller: NamedDependency[Caller]) -> AdminBookingOut:
        found, booking = await self._booking(caller, site, booking_id, Action.BOOKINGS_READ)
        return booking_out(booking, found, await booking_lists.booking_detail(booking))

    @post("/bookings", status_code=HTTP_201_CREATED, summary="Book on a customer's behalf")
    async def create(self, request: Request, site: FromPath[str], data: JSONBody[dict[str, Any]],
                     caller: NamedDependency[Caller], clock: NamedDependency[Clock],
                     config: NamedDependency[ServiceConfig]) -> AdminBookingOut:
        _only(data, {"service", "start", "resource", "customer", "answers", "locale", "timezone", "notify"})
        found = await access.site_for(caller, site)
        problems: list[FieldProblem] = []
        service = data.get("service")
        if not isinstance(service, str) or not service:
            problems.append(FieldProblem("service", "required"))
        start = parse_instant("start", data.get("start"), problems)
        resource = data.get("resource")
        if resource is not None and not isinstance(resource, str):
            problems.append(FieldProblem("resource", "string-expected"))
        customer, answers = data.get("customer"), data.get("answers", {})
        if not isinstance(customer, dict):
            problems.append(FieldProblem("customer", "object-expected"))
        if not isinstance(answers, dict):
            problems.append(FieldProblem("answers", "object-expected"))
        notify = _notify(data, problems)
        for name in ("locale", "timezone"):
            if data.get(name) is not None and not isinstance(data[name], str):
                problems.append(FieldProblem(name, "string-expected"))
        access.authorize(caller, Action.BOOKINGS_WRITE, found, [resource] if resource else None)
        if problems:
            raise InvalidInput(problems)
        result = await booking_service.create_booking(
            found.slug,
            booking_service.BookingRequest(service=service, start=start, customer=customer, answers=answers,
                                           resource=resource, locale=data.get("locale"),
                                           timezone=data.get("timezone")),
            actor=caller.actor, now=clock(), config=config, idempotency_key=idempotency_key(request),
            notify=notify,
        )
        return booking_out(result.booking, found, await booking_lists.booking_detail(result.booking))

    @post("/bookings/{booking_id:str}/cancel", status_code=HTTP_200_OK, summary="Cancel, with a reason")
    async def cancel(self, request: Request, site: FromPath[str], booking_id: FromPath[str],
                     data: JSONBody[dict[str, Any]], caller: NamedDependency[Caller],
                     clock: NamedDependency[Clock], config: NamedDependency[ServiceConfig]) -> AdminBookingOut:
        _only(data, {"reason", "notify"})
        found, booking = await self._booking(caller, site, booking_id, Action.BOOKINGS_WRITE)
        problems: list[FieldProblem] = []
        reason = data.get("reason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > REASON_MAX):
            problems.append(FieldProblem("reason", "text-too-long", {"limit": REASON_MAX}))
        notify = _notify(data, problems)
        if problems:
            raise InvalidInput(problems)
        cancelled = await booking_service.cancel_booking(
            booking.id, reason=(reason or "").strip() or None, actor=caller.actor, rules=Rules.STAFF,
            now=clock(), config=config, idempotency_key=idempotency_key(request), notify=notify)
        return booking_out(cancelled, found, await booking_lists.booking_detail(cancelled))

    @post("/bookings/{booking_id:str}/reschedule", status_code=HTTP_200_OK,
          summary="Move to another free time (hours, notice and advance still apply)")
    async def reschedule(self, request: Request, site: FromPath[str], booking_id: FromPath[str],
                         data: JSONBody[dict[str, Any]], caller: NamedDependency[Caller],
                         clock: NamedDependency[Clock],
                         config: NamedDependency[ServiceConfig]) -> AdminBookingOut:
        _only(data, {"start", "resource", "notify"})
        found, booking = await self._booking(caller, site, booking_id, Action.BOOKINGS_WRITE)
        problems: list[FieldProblem] = []
        start = parse_instant("start", data.get("start"), problems)
        resource = data.get("resource")
        if resource is not None and not isinstance(resource, str):
            problems.append(FieldProblem("resource", "string-expected"))
        notify = _notify(data, problems)
        if problems:
            raise InvalidInput(problems)
        if resource:  # moving to another person is a write on theirs too
            access.authorize(caller, Action.BOOKINGS_WRITE, found, [resource])
        moved = await booking_service.move_booking(
            booking.id, start=start, resource=resource or None, actor=caller.actor, rules=Rules.STAFF,
            now=clock(), config=config, idempotency_key=idempotency_key(request), notify=notify)
        return booking_out(moved, found, await booking_lists.booking_detail(moved))

    @get("/resources/{resource:str}/blocks", summary="A resource's time off that has not ended")
    async def time_off(self, site: FromPath[str], resource: FromPath[str], caller: NamedDependency[Caller],
                       clock: NamedDependency[Clock]) -> TimeOffListOut:
        found = await access.site_for(caller, site)
        access.authorize(caller, Action.CATALOG_READ, found)
        entries = await time_off_service.time_off_of(found, resource, now=clock())
        return TimeOffListOut(data=[time_off_out(entry, found) for entry in entries])

    @post("/resources/{resource:str}/blocks", status_code=HTTP_201_CREATED,
          summary="Block a resource's time, any span: {start, end, reason?}")
    async def block(self, site: FromPath[str], resource: FromPath[str], data: JSONBody[dict[str, Any]],
                    caller: NamedDependency[Caller], clock: NamedDependency[Clock]) -> TimeOffOut:
        _only(data, {"start", "end", "reason"})
        found = await access.site_for(caller, site)
        access.authorize(caller, Action.TIME_OFF_WRITE, found, [resource])
        problems: list[FieldProblem] = []
        start = parse_instant("start", data.get("start"), problems)
        end = parse_instant("end", data.get("end"), problems)
        reason = data.get("reason")
        if reason is not None and not isinstance(reason, str):
            problems.append(FieldProblem("reason", "string-expected"))
        if problems:
            raise InvalidInput(problems)
        added = await time_off_service.add_time_off(found, resource, start=start, end=end, reason=reason,
                                                    actor=caller.actor, now=clock())
        return time_off_out(added.time_off, found, added.overlapping)

    @delete("/resources/{resource:str}/blocks/{block_id:str}", summary="Free a resource's blocked time again")
    async def unblock(self, site: FromPath[str], resource: FromPath[str], block_id: FromPath[str],
                      caller: NamedDependency[Caller]) -> None:
        found = await access.site_for(caller, site)
        access.authorize(caller, Action.TIME_OFF_WRITE, found, [resource])
        await time_off_service.remove_time_off(found, resource, block_id, actor=caller.actor)

    @staticmethod
    async def _booking(caller: Caller, site: str, booking_id: str, action: Action) -> tuple[Site, Booking]:
        """The site and the booking a route names, once the caller may do ``action`` on it."""
        found = await access.site_for(caller, site)
        booking = await booking_lists.find_booking(found, booking_id)
        access.authorize(caller, action, found, [r.key for r in booking.resources])
        return found, booking
