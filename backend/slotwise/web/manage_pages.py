"""The manage link's pages: see one booking, cancel it, or move it with the booking page's picker.

Handlers resolve the link to its booking, call the same verbs as anyone
(``services.bookings``) as the link's holder, and render. The picker is the
booking page's own calendar, built by the same step builders with links that
point at ``/manage/{token}/reschedule`` and the booking's own time marked.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from slotwise.clock import Clock
from slotwise.domain.model import Booking
from slotwise.domain.policy import Verdict, refused_from_the_start
from slotwise.services import availability, bookings
from slotwise.services.config import ServiceConfig
from slotwise.services.errors import (
    ActionRefused,
    InvalidInput,
    NotFound,
    ServiceError,
    SlotUnavailable,
)
from slotwise.services.manage_links import LINK_HOLDER, booking_for_token
from slotwise.settings import Settings
from slotwise.web.booking import loading, steps
from slotwise.web.booking.forms import form_dict, parse_start
from slotwise.web.booking.present import Presenter
from slotwise.web.booking.render import bare_context, is_htmx, page_context, render
from slotwise.web.booking.state import read_state
from slotwise.web.booking.steps import Links, View
from slotwise.web.security import page_csp

# A manage link is a bearer secret: never cached, never sent on as a referrer, never framed.
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": page_csp([]),
    "Vary": "HX-Request, HX-Target, Accept-Language",
}
REASON_MAX = 500


class _Page:
    """One request on a manage link: the booking, its site, the presenter and the picker's links."""

    def __init__(self, token: str, booking: Booking, p: Presenter) -> None:
        self.token = token
        self.booking = booking
        self.p = p
        self.home = f"/manage/{token}"
        self.links = Links.moving(p.state, self.home)

    @property
    def moving(self) -> tuple[int, datetime]:
        """The booking being moved: its own time counts as free and is shown marked."""
        return self.booking.id, self.booking.start

    def context(self) -> dict[str, Any]:
        return {**page_context(self.p.site, self.p.state, hold_action=self.links.hold_action),
                "home_url": self.home}


async def _page(request: Request, token: str, booking: Booking, settings: Settings,
                values: dict[str, str] | None = None) -> _Page:
    site = await availability.get_site(booking.site.slug)
    # The booking's own service, person, language and zone unless the URL says otherwise.
    given = dict((values or request.query_params).items())
    state_values = {"locale": booking.locale, "tz": booking.timezone, **given,
                    "service": booking.service.slug,
                    "resource": booking.resources[0].key if booking.resources else ""}
    state = read_state(site, state_values, accept_language=request.headers.get("accept-language"),
                       settings=settings)
    if state.month is None:
        # Moving is mostly "a little earlier or later": the picker opens on the booked day.
        zone = ZoneInfo(site.timezone if state.times == "site" else state.tz)
        day = booking.start.astimezone(zone).date()
        state = replace(state, month=day.replace(day=1), day=day)
    return _Page(token, booking, Presenter(site, state))


def _render(request: Request, page: _Page | None, view: View) -> Template:
    context = page.context() if page else bare_context(request)
    return render(request, context, view, page_template="manage/page.html", headers=PRIVATE_HEADERS)


def _not_found(request: Request, _: NotFound) -> Template:
    """Any unknown or expired link, in any handler: a page that reveals nothing."""
    return _render(request, None, View("manage/_notfound.html", {}, status=404))


def _refusal(p: Presenter, booking: Booking, verdict: Verdict) -> dict[str, Any] | None:
    """Why an action is not offered, for the template to put into words; None when it is.

    A refusal that already held when the booking was made is "never": its
    deadline had passed before the customer booked, so it is not told as one.
    """
    if verdict.allowed:
        return None
    if refused_from_the_start(verdict, booked_at=booking.created_at, reschedules_done=booking.reschedule_count):
        return {"reason": "never", "until": None}
    deadline = verdict.deadline.astimezone(p.customer_zone) if verdict.deadline else None
    return {"reason": verdict.reason, "until": p.fmt.moment(deadline) if deadline else None}


def _refusals(p: Presenter, booking: Booking, cancel: Verdict, reschedule: Verdict) -> list[dict[str, Any]]:
    """The notes under "Change or cancel": one per refused action, or one for both when they agree."""
    move = _refusal(p, booking, reschedule)
    drop = _refusal(p, booking, cancel)
    if move and drop and move["reason"] == drop["reason"] and move["reason"] != "too-late":
        return [{**move, "action": "any"}]
    return [{**r, "action": a} for r, a in ((move, "reschedule"), (drop, "cancel")) if r]


async def _booking_view(page: _Page, booking: Booking, now: datetime, *, viewing: bool,
                        notice: str | None = None, status: int | None = None) -> View:
    """The booking with what may still be done with it; 410 when viewing a cancelled one."""
    p = page.p
    options = await bookings.options_for(booking, actor=LINK_HOLDER, now=now)
    shown = booking.for_customer(p.state.locale)  # names in the page's language, the listed duration
    rows = p.booked_rows(
        shown.service.name, shown.start, shown.end, shown.resources, address=booking.address,
        price=p.fmt.price(booking.price_minor, booking.currency),
        customer={"name": booking.customer.name, "email": booking.customer.email,
                  "phone": booking.customer.phone},
        answers=p.answer_rows(options.service, booking.answers),
        status=p._("Cancelled") if booking.cancelled else p._("Confirmed"),
    )
    history = []
    for entry in await bookings.history(booking):
        if entry.kind == "message":  # the customer has the message itself; the history shows changes
            continue
        item: dict[str, Any] = {"kind": entry.kind, "at": p.fmt.moment(entry.at.astimezone(p.customer_zone)),
                                # A change the business made for the customer says so.
                                "by": None if entry.actor.is_customer else p.site.name}
        if entry.kind == "rescheduled":
            item["from"] = p.when(datetime.fromisoformat(entry.data["from"]), p.customer_zone)
            item["to"] = p.when(datetime.fromisoformat(entry.data["to"]), p.customer_zone)
        elif entry.kind == "cancelled":
            item["reason"] = entry.data.get("reason") or ""
        history.append(item)
    return View("manage/_booking.html", {
        "record": booking,
        "rows": rows,
        "history": history,
        "cancelled": booking.cancelled,
        "cancel_refused": not options.cancel,
        "reschedule_refused": not options.reschedule,
        "refusals": _refusals(p, booking, options.cancel, options.reschedule),
        "notice": notice,
        "contact_phone": p.site.contact_phone,
        "contact_email": p.site.contact_email,
        "again_url": f"/book/{booking.site.slug}",
        "ics_url": f"/api/v1/manage/{page.token}/booking.ics",
    }, status=status or (410 if booking.cancelled and viewing else 200))


async def _picker_view(request: Request, page: _Page, now: datetime, message: str | None = None) -> View:
    """The booking page's calendar for the booked service and person; the booking when moving is refused."""
    options = await bookings.options_for(page.booking, actor=LINK_HOLDER, now=now)
    if not options.reschedule:
        return await _booking_view(page, page.booking, now, viewing=True)
    offer = await availability.load_offer(page.booking.site.slug, page.booking.service.slug,
                                          resource=page.p.state.resource_key)
    view = await loading.calendar_view(page.p, page.links, offer, now, message=message,
                                       back=(page.home, page.p._("Back to your booking")),
                                       moving=page.moving)
    if is_htmx(request) and request.headers.get("hx-target") == "sw-slots":
        view = replace(view, template="widget/_slots.html")
    return view


async def _failed(request: Request, page: _Page, exc: ServiceError, now: datetime,
                  start: datetime | None = None) -> View:
    """A change refused: the one place that turns the reason into what the page shows."""
    if isinstance(exc, ActionRefused):
        # The booking as it is now, saying why: 410 once cancelled, else 409.
        booking = await bookings.get_booking(page.booking.id)
        return await _booking_view(page, booking, now, viewing=True, status=410 if exc.gone else 409)
    if isinstance(exc, InvalidInput):  # the time it already has: nothing to move
        return await _picker_view(request, page, now, page.p._("Please choose a time other than your current one."))
    if isinstance(exc, SlotUnavailable) and start is not None:
        options = await bookings.options_for(page.booking, actor=LINK_HOLDER, now=now)
        return steps.taken_step(page.p, page.links, options.service, start, exc.alternatives, [])
    raise exc


def _move_view(page: _Page, start: datetime) -> View:
    """Asks before moving: from when to when, and how many online moves are left after this one."""
    p, booking = page.p, page.booking
    left = max(0, p.site.max_reschedules - booking.reschedule_count - 1)
    moves_left = (p.fmt.ngettext("After this move, you can change the time online %(num)s more time.",
                                 "After this move, you can change the time online %(num)s more times.", left)
                  if left else p._("After this move, the time cannot be changed online again."))
    old_when, new_when = p.short_moment(booking.start), p.short_moment(start)
    return View("manage/_move.html", {
        "old_when": old_when,
        "new_when": new_when,
        "service_name": booking.service.name,
        "moves_left": moves_left,
        "action": f"{page.home}/reschedule",
        "back_url": page.links.here(day=start.astimezone(p.zone).date(), month=None),
        "form_hidden": [("start", start.isoformat()), ("confirm", "1"),
                        ("locale", p.state.locale), ("tz", p.state.tz),
                        *([("times", p.state.times)] if p.state.times == "site" else [])],
        "announce": p._("Move from %(from)s to %(to)s?", **{"from": old_when, "to": new_when}),
    })


class ManagePages(Controller):
    path = "/manage/{token:str}"
    include_in_schema = False
    exception_handlers = {NotFound: _not_found}

    @get("/", name="manage-page")
    async def show(self, request: Request, token: FromPath[str], clock: NamedDependency[Clock],
                   settings: NamedDependency[Settings], config: NamedDependency[ServiceConfig]) -> Template:
        now = clock()
        booking = await booking_for_token(token, secret_key=config.secret_key, now=now)
        page = await _page(request, token, booking, settings)
        return _render(request, page, await _booking_view(page, booking, now, viewing=True))

    @get("/cancel", name="manage-cancel-confirm")
    async def cancel_step(self, request: Request, token: FromPath[str], clock: NamedDependency[Clock],
                          settings: NamedDependency[Settings],
                          config: NamedDependency[ServiceConfig]) -> Template:
        now = clock()
        booking = await booking_for_token(token, secret_key=config.secret_key, now=now)
        page = await _page(request, token, booking, settings)
        options = await bookings.options_for(booking, actor=LINK_HOLDER, now=now)
        if not options.cancel:
            return _render(request, page, await _booking_view(page, booking, now, viewing=True))
        return _render(request, page, View("manage/_cancel.html", {
            "when": page.p.when(booking.start, page.p.customer_zone), "service_name": booking.service.name_in(page.p.state.locale),
            "action": f"{page.home}/cancel", "back_url": page.home, "reason_max": REASON_MAX,
            "form_hidden": [("locale", page.p.state.locale), ("tz", page.p.state.tz)]}))

    @post("/cancel", name="manage-cancel")
    async def cancel(self, request: Request, token: FromPath[str], clock: NamedDependency[Clock],
                     settings: NamedDependency[Settings], config: NamedDependency[ServiceConfig]) -> Template:
        now = clock()
        form = form_dict(await request.form())
        booking = await booking_for_token(token, secret_key=config.secret_key, now=now)
        page = await _page(request, token, booking, settings, form)
        reason = (form.get("reason") or "").strip()[:REASON_MAX] or None
        try:
            booking = await bookings.cancel_booking(booking.id, reason=reason, actor=LINK_HOLDER, now=now,
                                                    config=config)
        except ServiceError as exc:
            return _render(request, page, await _failed(request, page, exc, now))
        return _render(request, page, await _booking_view(page, booking, now, viewing=False))

    @get("/reschedule", name="manage-reschedule-picker")
    async def picker(self, request: Request, token: FromPath[str], clock: NamedDependency[Clock],
                     settings: NamedDependency[Settings], config: NamedDependency[ServiceConfig]) -> Template:
        now = clock()
        booking = await booking_for_token(token, secret_key=config.secret_key, now=now)
        page = await _page(request, token, booking, settings)
        return _render(request, page, await _picker_view(request, page, now))

    @post("/reschedule", name="manage-reschedule")
    async def reschedule(self, request: Request, token: FromPath[str], clock: NamedDependency[Clock],
                         settings: NamedDependency[Settings],
                         config: NamedDependency[ServiceConfig]) -> Template:
        now = clock()
        form = form_dict(await request.form())
        booking = await booking_for_token(token, secret_key=config.secret_key, now=now)
        page = await _page(request, token, booking, settings, form)
        start = parse_start(form.get("start"))
        if start is None:
            return _render(request, page, await _picker_view(request, page, now))
        if form.get("confirm") != "1":
            # A picked time first asks: "Move from … to …?" (without JS too: a plain form post).
            options = await bookings.options_for(booking, actor=LINK_HOLDER, now=now)
            if not options.reschedule:
                return _render(request, page, await _booking_view(page, booking, now, viewing=True))
            if start == booking.start:
                return _render(request, page, await _failed(request, page, InvalidInput([]), now))
            return _render(request, page, _move_view(page, start))
        try:
            booking = await bookings.move_booking(booking.id, start=start, actor=LINK_HOLDER, now=now,
                                                  config=config)
        except ServiceError as exc:
            return _render(request, page, await _failed(request, page, exc, now, start))
        return _render(request, page, await _booking_view(page, booking, now, viewing=False, notice="moved"))
