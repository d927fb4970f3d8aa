"""The manage link's pages: see one booking, cancel it, or move it with the booking page's picker.

Handlers parse, call ``services.manage``, render. The picker is the booking
page's own (``Page.calendar_view`` and ``widget/_calendar.html``/``_slots.html``);
``ManagePage`` only points its links and forms at ``/manage/{token}/reschedule``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from slotwise.clock import Clock
from slotwise.domain.model import Booking as BookingRecord
from slotwise.domain.policy import Verdict
from slotwise.services import availability as availability_service
from slotwise.services import bookings
from slotwise.services.config import ServiceConfig
from slotwise.services.errors import ActionRefused, InvalidInput, NotFound, SlotUnavailable
from slotwise.services.manage_links import LINK_HOLDER, booking_for_token
from slotwise.settings import Settings
from slotwise.web.booking.controller import is_htmx
from slotwise.web.booking.forms import form_dict, parse_start
from slotwise.web.booking.state import read_state
from slotwise.web.booking.views import Moving, Page, View, bare_context
from slotwise.web.security import page_csp

# A manage link is a bearer secret: never cached, never sent on as a referrer, never framed.
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": page_csp([]),
    "Vary": "HX-Request, HX-Target, Accept-Language",
}
REASON_MAX = 500


class ManagePage(Page):
    """The booking page's views, with every link and form pointing at the manage link."""

    def __init__(self, token: str, record: BookingRecord, *args: Any) -> None:
        super().__init__(*args)
        self.token = token
        self.moving = Moving(record.id, record.start)

    @property
    def home(self) -> str:
        return f"/manage/{self.token}"

    @property
    def base(self) -> str:  # the calendar's form action
        return f"{self.home}/reschedule"

    def _here(self, **changes: Any) -> str:
        return f"{self.base}?{urlencode(replace(self.state, **changes).params())}"

    def common(self) -> dict[str, Any]:
        return {**super().common(), "hold_action": self.base, "home_url": self.home}


async def _page(request: Request, token: str, record: BookingRecord, settings: Settings,
                now: datetime, values: dict[str, str] | None = None) -> ManagePage:
    site = await availability_service.get_site(record.site.slug)
    # The booking's own service, person, language and zone unless the URL says otherwise.
    given = {k: v for k, v in (values or request.query_params).items()}
    state_values = {"locale": record.locale, "tz": record.timezone, **given,
                    "service": record.service.slug,
                    "resource": record.resources[0].key if record.resources else ""}
    state = read_state(site, state_values, accept_language=request.headers.get("accept-language"),
                       settings=settings)
    if state.month is None:
        # Moving is mostly "a little earlier or later": the picker opens on the booked day.
        zone = ZoneInfo(site.timezone if state.times == "site" else state.tz)
        day = record.start.astimezone(zone).date()
        state = replace(state, month=day.replace(day=1), day=day)
    return ManagePage(token, record, site, state, settings, now)


def _render(request: Request, page: ManagePage | None, view: View) -> Template:
    context = {**(page.common() if page else bare_context(request)), **view.context,
               "step_template": view.template}
    headers = dict(PRIVATE_HEADERS)
    if request.method == "POST":
        headers["HX-Push-Url"] = "false"
    return Template(template_name=view.template if is_htmx(request) else "manage/page.html",
                    context=context, status_code=view.status, headers=headers, media_type="text/html")


def _not_found(request: Request, _: NotFound) -> Template:
    """Any unknown or expired link, in any handler: a page that reveals nothing."""
    return _render(request, None, View("manage/_notfound.html", {}, status=404))


def _refusal(page: ManagePage, verdict: Verdict) -> dict[str, Any] | None:
    """Why an action is not offered, for the template to put into words; None when it is."""
    if verdict.allowed:
        return None
    deadline = verdict.deadline.astimezone(page.customer_zone) if verdict.deadline else None
    return {"reason": verdict.reason, "until": page.fmt.moment(deadline) if deadline else None}


async def _booking_view(page: ManagePage, record: BookingRecord, *, viewing: bool,
                        notice: str | None = None, status: int | None = None) -> View:
    seen = await bookings.options_for(record, actor=LINK_HOLDER, now=page.now)
    cancelled = record.cancelled
    rows = page.booked_rows(
        record.service.name, record.start, record.end, record.resources,
        price=page.fmt.price(record.price_minor, record.currency),
        customer={"name": record.customer.name, "email": record.customer.email,
                  "phone": record.customer.phone},
        answers=page.answer_rows(seen.service, record.answers),
        status=page._("Cancelled") if cancelled else page._("Confirmed"),
    )
    history = []
    for entry in await bookings.history(record):
        item: dict[str, Any] = {"kind": entry.kind, "at": page.fmt.moment(entry.at.astimezone(page.customer_zone))}
        if entry.kind == "rescheduled":
            item["from"] = page.when(datetime.fromisoformat(entry.data["from"]), page.customer_zone)
            item["to"] = page.when(datetime.fromisoformat(entry.data["to"]), page.customer_zone)
        elif entry.kind == "cancelled":
            item["reason"] = entry.data.get("reason") or ""
        history.append(item)
    return View("manage/_booking.html", {
        "record": record,
        "rows": rows,
        "history": history,
        "cancelled": cancelled,
        "cancel_refused": _refusal(page, seen.cancel),
        "reschedule_refused": _refusal(page, seen.reschedule),
        "notice": notice,
        "contact_phone": page.site.contact_phone,
        "contact_email": page.site.contact_email,
        "again_url": f"/book/{record.site.slug}",
    }, status=status or (410 if cancelled and viewing else 200))


async def _refused_view(page: ManagePage, refused: ActionRefused, record: BookingRecord) -> View:
    """The booking as it is now, saying why the change was refused: 410 once cancelled, else 409."""
    record = await bookings.get_booking(record.id)
    return await _booking_view(page, record, viewing=True, status=410 if refused.gone else 409)


async def _picker_view(request: Request, page: ManagePage, record: BookingRecord,
                       message: str | None = None) -> View:
    """The booking page's calendar for the booked service and person; the reason when moving is refused."""
    options = await bookings.options_for(record, actor=LINK_HOLDER, now=page.now)
    if not options.reschedule:
        return await _booking_view(page, record, viewing=True)
    offer = await availability_service.load_offer(record.site.slug, record.service.slug,
                                                  resource=page.state.resource_key)
    view = await page.calendar_view(offer, message)
    view.context.update(back_url=page.home, back_text=page._("Back to your booking"))
    if is_htmx(request) and request.headers.get("hx-target") == "sw-slots":
        view = replace(view, template="widget/_slots.html")
    return view


class ManagePages(Controller):
    path = "/manage/{token:str}"
    include_in_schema = False
    exception_handlers = {NotFound: _not_found}

    @get("/", name="manage-page")
    async def show(self, request: Request, token: FromPath[str], clock: NamedDependency[Clock],
                   settings: NamedDependency[Settings], config: NamedDependency[ServiceConfig]) -> Template:
        now = clock()
        record = await booking_for_token(token, secret_key=config.secret_key, now=now)
        page = await _page(request, token, record, settings, now)
        return _render(request, page, await _booking_view(page, record, viewing=True))

    @get("/cancel", name="manage-cancel-confirm")
    async def cancel_step(self, request: Request, token: FromPath[str], clock: NamedDependency[Clock],
                          settings: NamedDependency[Settings], config: NamedDependency[ServiceConfig]) -> Template:
        now = clock()
        record = await booking_for_token(token, secret_key=config.secret_key, now=now)
        page = await _page(request, token, record, settings, now)
        options = await bookings.options_for(record, actor=LINK_HOLDER, now=now)
        if not options.cancel:
            return _render(request, page, await _booking_view(page, record, viewing=True))
        return _render(request, page, View("manage/_cancel.html", {
            "when": page.when(record.start, page.customer_zone), "service_name": record.service.name,
            "action": f"{page.home}/cancel", "back_url": page.home, "reason_max": REASON_MAX,
            "form_hidden": [("locale", page.state.locale), ("tz", page.state.tz)]}))

    @post("/cancel", name="manage-cancel")
    async def cancel(self, request: Request, token: FromPath[str], clock: NamedDependency[Clock],
                     settings: NamedDependency[Settings], config: NamedDependency[ServiceConfig]) -> Template:
        now = clock()
        form = form_dict(await request.form())
        record = await booking_for_token(token, secret_key=config.secret_key, now=now)
        page = await _page(request, token, record, settings, now, form)
        reason = (form.get("reason") or "").strip()[:REASON_MAX] or None
        try:
            record = await bookings.cancel_booking(record.id, reason=reason, actor=LINK_HOLDER,
                                                   now=now, config=config)
        except ActionRefused as refused:
            return _render(request, page, await _refused_view(page, refused, record))
        return _render(request, page, await _booking_view(page, record, viewing=False))

    @get("/reschedule", name="manage-reschedule-picker")
    async def picker(self, request: Request, token: FromPath[str], clock: NamedDependency[Clock],
                     settings: NamedDependency[Settings], config: NamedDependency[ServiceConfig]) -> Template:
        now = clock()
        record = await booking_for_token(token, secret_key=config.secret_key, now=now)
        page = await _page(request, token, record, settings, now)
        return _render(request, page, await _picker_view(request, page, record))

    @post("/reschedule", name="manage-reschedule")
    async def reschedule(self, request: Request, token: FromPath[str], clock: NamedDependency[Clock],
                         settings: NamedDependency[Settings], config: NamedDependency[ServiceConfig]) -> Template:
        now = clock()
        form = form_dict(await request.form())
        record = await booking_for_token(token, secret_key=config.secret_key, now=now)
        page = await _page(request, token, record, settings, now, form)
        start = parse_start(form.get("start"))
        if start is None:
            return _render(request, page, await _picker_view(request, page, record))
        try:
            record = await bookings.move_booking(record.id, start=start, actor=LINK_HOLDER, now=now,
                                                 config=config)
        except ActionRefused as refused:
            return _render(request, page, await _refused_view(page, refused, record))
        except InvalidInput:  # the time it already has: nothing to move
            return _render(request, page, await _picker_view(
                request, page, record, page._("Please choose a time other than your current one.")))
        except SlotUnavailable as exc:
            options = await bookings.options_for(record, actor=LINK_HOLDER, now=now)
            return _render(request, page, page.taken_view(options.service, start, exc.alternatives, []))
        return _render(request, page, await _booking_view(page, record, viewing=False, notice="moved"))
