"""A booking's panel in the back office: the booking, its answers, history and messages, and what staff do
with it there (move, cancel, the internal note, send a message again).

The panel opens beside the day view (htmx) or as the day page of the
booking's day with the panel open, so it draws that page with the day view's
helpers from ``pages.py``. The pages there only link to it, so it is a module
of its own, as the desk's pages are, and its routes join the router in
``pages.back_office_router``. Staff asking for another resource's booking get
404 (``_booking``); every write goes through ``services.bookings`` (or the
notes and customer-message services) with the account as actor.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from slotwise.clock import Clock
from slotwise.domain.access import Action
from slotwise.domain.actors import Rules
from slotwise.domain.messages import MESSAGE_EVENTS
from slotwise.domain.model import Booking, Site
from slotwise.i18n import Formatter
from slotwise.services import access, booking_lists, booking_notes, customer_messages
from slotwise.services import availability as availability_service
from slotwise.services import bookings as booking_service
from slotwise.services.availability import AvailabilityQuery
from slotwise.services.config import ServiceConfig
from slotwise.services.errors import (
    ActionRefused,
    Forbidden,
    InvalidInput,
    NotFound,
    SlotUnavailable,
)
from slotwise.services.override_times import override_times
from slotwise.web.back_office import present
from slotwise.web.back_office.pages import (
    _day_context,
    _form,
    _go,
    _is_htmx,
    _locale,
    _page,
    _parse_day,
)
from slotwise.web.back_office.session import Admin

REASON_MAX = 500


async def _booking(admin: Admin, slug: str, booking_id: str, action: Action) -> tuple[Site, Booking]:
    """The site and booking, once the caller may do ``action`` on it.

    Staff asking for another resource's booking get 404, as for a booking
    that does not exist: its existence is not theirs to learn.
    """
    site = await access.site_for(admin.caller, slug)
    booking = await booking_lists.find_booking(site, booking_id)
    keys = [r.key for r in booking.resources]
    visible = access.visible_to(admin.caller, site)
    if visible is not None and not visible & set(keys):
        raise NotFound("booking", booking_id)
    access.authorize(admin.caller, action, site, keys)
    return site, booking


async def _panel(request: Request, admin: Admin, site: Site, booking: Booking, now: datetime, *,
                 view: str = "detail", extra: Mapping[str, Any] | None = None, status: int = 200) -> Template:
    """The panel (for htmx) or the whole day page of the booking's day with the panel open."""
    locale = _locale(request)
    fmt = Formatter(locale)
    zone = ZoneInfo(site.timezone)
    detail = await booking_lists.booking_detail(booking)
    service = next((s for s in (await availability_service.list_services(site.slug))[1]
                    if s.slug == booking.service.slug), None)
    labels = {q.key: q.label_in(locale) for q in service.questions} if service else {}
    can_write = True
    try:
        access.authorize(admin.caller, Action.BOOKINGS_WRITE, site, [r.key for r in booking.resources])
    except Forbidden:
        can_write = False
    panel = {
        "view": view, "booking": booking, "id": booking.public_id,
        "start": booking.start.astimezone(zone), "end": booking.end.astimezone(zone),
        "when": f"{fmt.full_day(booking.start.astimezone(zone))}, "
                f"{fmt.time(booking.start.astimezone(zone))}–{fmt.time(booking.end.astimezone(zone))}",
        "service": booking.service.name_in(locale),
        "resources": [r.name_in(locale) for r in booking.resources],
        "price": fmt.price(booking.price_minor, booking.currency),
        "answers": [(labels.get(key, key), value) for key, value in booking.answers.items()],
        "history": [present.history_line(entry, fmt, zone) for entry in detail.history],
        "messages": [{**present.message_line(row, fmt, zone),
                      # Sent or failed ones: a queued message is still to come.
                      "resend": row["event"] in MESSAGE_EVENTS and row["status"] in {"sent", "failed", "dropped"}
                      and row["recipient"] in {
                          booking.customer.email, booking.customer.phone},
                      "event_key": row["event"], "channel_key": row["channel"]}
                     for row in detail.messages],
        "can_write": can_write and not booking.cancelled,
        "can_note": can_write,
        "note": await booking_notes.note_of(booking),
        "url": f"/admin/sites/{site.slug}/bookings/{booking.public_id}",
        **(extra or {}),
    }
    if _is_htmx(request) and request.headers.get("hx-target") == "panel":
        return _page(request, "_panel.html", {"admin": admin, "csrf": admin.csrf, "site": site, "panel": panel},
                     status=status)
    day = booking.start.astimezone(zone).date()
    context = await _day_context(request, admin, site, day, now)
    return _page(request, "day.html", {**context, "panel": panel}, status=status)


@get("/sites/{site:str}/bookings/{booking_id:str}")
async def booking_panel(request: Request, site: FromPath[str], booking_id: FromPath[str],
                        admin: NamedDependency[Admin], clock: NamedDependency[Clock]) -> Template:
    found, booking = await _booking(admin, site, booking_id, Action.BOOKINGS_READ)
    notice = request.query_params.get("notice")
    return await _panel(request, admin, found, booking, clock(),
                        extra={"notice": notice if notice in {"moved", "cancelled", "booked"} else None})


async def _free_times(site: Site, booking: Booking, day: date, now: datetime, fmt: Formatter) -> list[dict[str, str]]:
    keep = booking.resources[0].key if booking.resources else None
    found = await availability_service.get_availability(site.slug, AvailabilityQuery(
        service=booking.service.slug, start=day, end=day, zone=None, resource=keep,
        ignoring_booking=booking.id), now=now)
    return [{"start": slot.start.isoformat(), "label": fmt.time(slot.start)} for slot in found.slots
            if slot.start != booking.start]


async def override_choices(booking: Booking, day: date, now: datetime, fmt: Formatter) -> list[dict[str, Any]]:
    """The move step's times under an override: the whole day, those outside the rules marked."""
    zone = ZoneInfo(booking.site.timezone)
    return [{"start": t.start.astimezone(zone).isoformat(), "label": fmt.time(t.start.astimezone(zone)),
             "outside": t.outside_rules} for t in await override_times(booking, day, now=now)]


@get("/sites/{site:str}/bookings/{booking_id:str}/move")
async def move_page(request: Request, site: FromPath[str], booking_id: FromPath[str],
                    admin: NamedDependency[Admin], clock: NamedDependency[Clock]) -> Template:
    found, booking = await _booking(admin, site, booking_id, Action.BOOKINGS_WRITE)
    now = clock()
    zone = ZoneInfo(found.timezone)
    day = _parse_day(request.query_params.get("day"), booking.start.astimezone(zone).date())
    fmt = Formatter(_locale(request))
    override = request.query_params.get("override") == "1"
    times = (await override_choices(booking, day, now, fmt) if override
             else await _free_times(found, booking, day, now, fmt))
    return await _panel(request, admin, found, booking, now, view="move", extra={
        "move_day": day, "move_day_label": fmt.full_day(day), "override": override, "times": times})


@post("/sites/{site:str}/bookings/{booking_id:str}/move")
async def move(request: Request, site: FromPath[str], booking_id: FromPath[str], admin: NamedDependency[Admin],
               clock: NamedDependency[Clock], config: NamedDependency[ServiceConfig]) -> Response:
    found, booking = await _booking(admin, site, booking_id, Action.BOOKINGS_WRITE)
    form, now = await _form(request), clock()
    zone = ZoneInfo(found.timezone)
    fmt = Formatter(_locale(request))
    try:
        start = datetime.fromisoformat(form.get("start", ""))
        if start.tzinfo is None:
            raise ValueError
    except ValueError:
        return await _panel(request, admin, found, booking, now, view="move", status=422, extra={
            "move_day": booking.start.astimezone(zone).date(),
            "move_day_label": fmt.full_day(booking.start.astimezone(zone)),
            "times": await _free_times(found, booking, booking.start.astimezone(zone).date(), now, fmt),
            "error": "pick-time"})
    override = form.get("override") == "1"
    if form.get("confirm") != "1":
        return await _panel(request, admin, found, booking, now, view="confirm-move", extra={
            "new_start": start.isoformat(), "new_when": fmt.moment(start.astimezone(zone)), "override": override})
    try:
        await booking_service.move_booking(booking.id, start=start, actor=admin.account.actor,
                                           rules=Rules.OVERRIDE if override else Rules.STAFF,
                                           now=now, config=config, notify=form.get("notify") == "1")
    except (SlotUnavailable, ActionRefused, InvalidInput) as exc:
        day = start.astimezone(zone).date()
        return await _panel(request, admin, found, booking, now, view="move", status=409, extra={
            "move_day": day, "move_day_label": fmt.full_day(day),
            "times": (await override_choices(booking, day, now, fmt) if override
                      else await _free_times(found, booking, day, now, fmt)), "override": override,
            "error": "taken" if isinstance(exc, SlotUnavailable) else "refused"})
    return _go(f"/admin/sites/{found.slug}/bookings/{booking.public_id}?notice=moved", request)


@get("/sites/{site:str}/bookings/{booking_id:str}/cancel")
async def cancel_page(request: Request, site: FromPath[str], booking_id: FromPath[str],
                      admin: NamedDependency[Admin], clock: NamedDependency[Clock]) -> Template:
    found, booking = await _booking(admin, site, booking_id, Action.BOOKINGS_WRITE)
    return await _panel(request, admin, found, booking, clock(), view="cancel", extra={"notify": True})


@post("/sites/{site:str}/bookings/{booking_id:str}/cancel")
async def cancel(request: Request, site: FromPath[str], booking_id: FromPath[str], admin: NamedDependency[Admin],
                 clock: NamedDependency[Clock], config: NamedDependency[ServiceConfig]) -> Response:
    found, booking = await _booking(admin, site, booking_id, Action.BOOKINGS_WRITE)
    form, now = await _form(request), clock()
    reason = form.get("reason", "").strip()
    notify = form.get("notify") == "1"
    if len(reason) > REASON_MAX:
        return await _panel(request, admin, found, booking, now, view="cancel", status=422,
                            extra={"reason": reason, "notify": notify, "error": "too-long", "limit": REASON_MAX})
    if form.get("confirm") != "1":
        return await _panel(request, admin, found, booking, now, view="confirm-cancel",
                            extra={"reason": reason, "notify": notify})
    try:
        await booking_service.cancel_booking(booking.id, reason=reason or None, actor=admin.account.actor,
                                             rules=Rules.STAFF, now=now, config=config, notify=notify)
    except ActionRefused:
        return await _panel(request, admin, found, booking, now, view="cancel", status=409,
                            extra={"reason": reason, "notify": notify, "error": "refused"})
    return _go(f"/admin/sites/{found.slug}/bookings/{booking.public_id}?notice=cancelled", request)


@post("/sites/{site:str}/bookings/{booking_id:str}/note")
async def save_note(request: Request, site: FromPath[str], booking_id: FromPath[str], admin: NamedDependency[Admin],
                    clock: NamedDependency[Clock]) -> Response:
    """Replace the team's internal note; staff on their own resource's bookings, viewers not at all."""
    found, booking = await _booking(admin, site, booking_id, Action.BOOKINGS_WRITE)
    form, now = await _form(request), clock()
    text = form.get("note", "")
    try:
        await booking_notes.set_note(booking, text, actor=admin.account.actor, now=now)
    except InvalidInput:
        return await _panel(request, admin, found, booking, now, status=422,
                            extra={"note_error": booking_notes.NOTE_MAX, "note_draft": text})
    return await _panel(request, admin, found, booking, now, extra={"notice": "note-saved"})


@post("/sites/{site:str}/bookings/{booking_id:str}/resend")
async def resend(request: Request, site: FromPath[str], booking_id: FromPath[str], admin: NamedDependency[Admin],
                 clock: NamedDependency[Clock], config: NamedDependency[ServiceConfig]) -> Response:
    """Send one of the customer's messages again: the event's template rendered for the booking as it is now,
    through the same service as the API's messages (recorded in the history with the account)."""
    found, booking = await _booking(admin, site, booking_id, Action.BOOKINGS_WRITE)
    form, now = await _form(request), clock()
    event, channel = form.get("event", ""), form.get("channel", "email")
    try:
        await customer_messages.message_customer(found, booking, {"template": {"event": event, "channel": channel}},
                                                 actor=admin.account.actor, now=now, config=config)
    except InvalidInput:
        return await _panel(request, admin, found, booking, now, status=422, extra={"notice": "resend-failed"})
    return await _panel(request, admin, found, booking, now, extra={"notice": "resent"})


ROUTES = [booking_panel, move_page, move, save_note, resend, cancel_page, cancel]
