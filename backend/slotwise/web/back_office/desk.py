"""The front desk's pages: book a caller in, block a resource's time (and free it again).

Booking goes through ``services.bookings.create_booking`` with the account as
actor, the same atomic path as the widget (two staff taking one slot: one
wins, the other sees the slot taken with fresh times). Time off goes through
``services.time_off``. Staff may do both for their own resource only: the
resource is fixed to theirs, and ``services.access`` judges every write.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from slotwise.clock import Clock
from slotwise.domain.access import Action
from slotwise.domain.limits import within_calendar
from slotwise.domain.model import Site
from slotwise.i18n import Formatter
from slotwise.services import access, customers, time_off
from slotwise.services import availability as availability_service
from slotwise.services import bookings as booking_service
from slotwise.services import catalog as catalog_service
from slotwise.services.availability import AvailabilityQuery
from slotwise.services.config import ServiceConfig
from slotwise.services.errors import Forbidden, InvalidInput, NotFound, SlotUnavailable
from slotwise.web.back_office.pages import _form, _go, _locale, _page, _parse_day, _site
from slotwise.web.back_office.session import Admin

SUGGESTIONS = 5  # past customers offered while typing


def _own_resource(admin: Admin, site: Site) -> str | None:
    """A staff member's resource on this site (what they may book and block); None: any."""
    visible = access.visible_to(admin.caller, site)
    return sorted(visible)[0] if visible else None


async def _resources(admin: Admin, site: Site, locale: str) -> list[tuple[str, str]]:
    visible = access.visible_to(admin.caller, site)
    return [(r.table["key"], str(r.table.get("name") or r.table["key"]))
            for r in await catalog_service.list_resources(site)
            if r.active and (visible is None or r.table["key"] in visible)]


# --- book on behalf ---------------------------------------------------------------------------


async def _book_context(request: Request, admin: Admin, site: Site, params: dict[str, str], now: datetime,
                        ) -> dict[str, Any]:
    locale = _locale(request)
    fmt = Formatter(locale)
    zone = ZoneInfo(site.timezone)
    own = _own_resource(admin, site)
    services = [s for s in (await availability_service.list_services(site.slug))[1]
                if own is None or any(own in group for group in s.rules.resource_groups)]
    service = next((s for s in services if s.slug == params.get("service")), None)
    names = dict(await _resources(admin, site, locale))
    choices: list[tuple[str, str]] = []
    if service:
        keys = list(dict.fromkeys(k for group in service.rules.resource_groups for k in group))
        choices = [(k, names.get(k, k)) for k in keys if own is None or k == own]
    resource = own or (params.get("resource") if params.get("resource") in dict(choices) else "")
    day = _parse_day(params.get("day"), now.astimezone(zone).date())
    if not within_calendar(day):
        day = now.astimezone(zone).date()
    times: list[dict[str, str]] = []
    if service:
        found = await availability_service.get_availability(site.slug, AvailabilityQuery(
            service=service.slug, start=day, end=day, zone=None, resource=resource or None), now=now)
        times = [{"start": s.start.isoformat(), "label": fmt.time(s.start),
                  "with": ", ".join(r.name_in(locale) for r in s.resources)} for s in found.slots]
        # From a click on the day grid: the time clicked ("at", HH:MM) is chosen if it is free.
        wanted = next((t["start"] for t, s in zip(times, found.slots, strict=True)
                       if s.start.strftime("%H:%M") == params.get("at")), None)
        if wanted and not params.get("start"):
            params = {**params, "start": wanted}
    return {"admin": admin, "csrf": admin.csrf, "site": site, "nav": "book",
            "services": [(s.slug, s.name_in(locale)) for s in services], "service": service,
            "questions": [{"key": q.key, "label": q.label_in(locale), "type": str(q.type), "required": q.required,
                           "options": [(o, q.option_in(o, locale)) for o in q.options]}
                          for q in (service.questions if service else ())],
            "choices": choices, "resource": resource, "wanted_resource": own or params.get("resource", ""), "own": own, "day": day, "day_label": fmt.full_day(day),
            "times": times, "values": params, "problems": {}, "error": None}


@get("/sites/{site:str}/book")
async def book_page(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                    clock: NamedDependency[Clock]) -> Template:
    """Service → resource → day's free times → customer → answers → notify, on one page that grows."""
    found = await _site(admin, site, Action.BOOKINGS_READ)
    params = {k: (request.query_params.get(k) or "").strip() for k in ("service", "resource", "day", "start", "at")}
    return _page(request, "desk/book.html", await _book_context(request, admin, found, params, clock()))


@post("/sites/{site:str}/book")
async def book(request: Request, site: FromPath[str], admin: NamedDependency[Admin], clock: NamedDependency[Clock],
               config: NamedDependency[ServiceConfig]) -> Response:
    found = await _site(admin, site, Action.BOOKINGS_READ)
    form, now = await _form(request), clock()
    context = await _book_context(request, admin, found, form, now)
    # Staff book their own resource; anyone else on any resource the service uses (or "anyone").
    resource = context["resource"] or None
    access.authorize(admin.caller, Action.BOOKINGS_WRITE, found, [resource] if resource else None)
    fmt = Formatter(_locale(request))
    problems: dict[str, str] = {}
    start: datetime | None = None
    try:
        start = datetime.fromisoformat(form.get("start", ""))
        if start.tzinfo is None:
            raise ValueError
    except ValueError:
        problems["start"] = fmt.gettext("Pick a time.")
    if context["service"] is None:
        problems["service"] = fmt.gettext("Pick a service.")
    answers: dict[str, Any] = {}
    for q in context["questions"]:
        raw = form.get(f"answers.{q['key']}")
        if q["type"] == "checkbox":
            answers[q["key"]] = raw == "1"
        elif raw:
            answers[q["key"]] = raw
    if not problems and start is not None:
        request_body = booking_service.BookingRequest(
            service=context["service"].slug, start=start, resource=resource,
            customer={"name": form.get("customer.name", ""), "email": form.get("customer.email", ""),
                      "phone": form.get("customer.phone") or None,
                      **({"address": form.get("customer.address", "")} if context["service"].ask_address else {})},
            answers=answers, locale=form.get("locale") or None)
        try:
            made = await booking_service.create_booking(found.slug, request_body, actor=admin.account.actor,
                                                        now=now, config=config, notify=form.get("notify") == "1")
        except InvalidInput as exc:
            problems = {p.field: p.text(fmt.gettext) for p in exc.problems}
        except SlotUnavailable:
            return _page(request, "desk/book.html", {**context, "error": "taken"}, status=409)
        else:
            return _go(f"/admin/sites/{found.slug}/bookings/{made.booking.public_id}?notice=booked", request)
    return _page(request, "desk/book.html", {**context, "problems": problems, "error": "invalid"}, status=422)


@get("/sites/{site:str}/book/customers")
async def customer_suggestions(request: Request, site: FromPath[str], admin: NamedDependency[Admin]) -> Template:
    """Past customers whose name or email holds what was typed (those who may read customers only)."""
    found = await _site(admin, site, Action.BOOKINGS_READ)
    typed = (request.query_params.get("customer.name") or request.query_params.get("q") or "").strip()
    rows: list[Any] = []
    if len(typed) >= 2:
        try:
            access.authorize(admin.caller, Action.CUSTOMERS_READ, found)
        except Forbidden:
            rows = []
        else:
            try:
                rows = (await customers.list_customers(found, {"q": typed[:200], "limit": str(SUGGESTIONS)})).customers
            except InvalidInput:
                rows = []
    return _page(request, "desk/_suggestions.html", {"rows": rows, "typed": typed})


# --- block time ------------------------------------------------------------------------------


def _local(day: str, clock_time: str, zone: ZoneInfo) -> datetime | None:
    try:
        found = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock_time), zone)
    except ValueError:
        return None
    return found if within_calendar(found) else None


async def _blocks_context(request: Request, admin: Admin, site: Site, resource: str, now: datetime,
                          values: dict[str, str]) -> dict[str, Any]:
    locale = _locale(request)
    fmt = Formatter(locale)
    zone = ZoneInfo(site.timezone)
    resources = await _resources(admin, site, locale)
    keys = [k for k, _ in resources]
    if resource and resource not in keys:
        raise NotFound("resource", resource)
    resource = resource or (keys[0] if keys else "")
    entries = await time_off.time_off_of(site, resource, now=now) if resource else []
    today = now.astimezone(zone).date()
    return {"admin": admin, "csrf": admin.csrf, "site": site, "nav": "blocks", "resources": resources,
            "resource": resource, "resource_name": dict(resources).get(resource, resource),
            "problems": {}, "notice": None, "overlapping": [],
            "values": {"start_day": today.isoformat(), "start_time": "13:00", "end_day": today.isoformat(),
                       "end_time": "17:00", "reason": "", **values},
            "entries": [{"id": e.public_id, "reason": e.reason,
                         "when": f"{fmt.moment(e.start.astimezone(zone))} – {fmt.moment(e.end.astimezone(zone))}"}
                        for e in entries]}


@get("/sites/{site:str}/blocks")
async def blocks_page(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                      clock: NamedDependency[Clock]) -> Template:
    """A resource's coming time off, and a form to block more (an afternoon, a week)."""
    found = await _site(admin, site, Action.BOOKINGS_READ)
    values = {k: v for k in ("start_day", "start_time", "end_day", "end_time")
              if (v := (request.query_params.get(k) or "").strip())}
    context = await _blocks_context(request, admin, found, request.query_params.get("resource") or "", clock(),
                                    values)
    notice = request.query_params.get("notice")
    return _page(request, "desk/blocks.html", {**context, "notice": notice if notice in {"blocked", "freed"} else None})


@post("/sites/{site:str}/blocks")
async def block_time(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                     clock: NamedDependency[Clock]) -> Response:
    found = await _site(admin, site, Action.BOOKINGS_READ)
    form, now = await _form(request), clock()
    resource = form.get("resource", "")
    context = await _blocks_context(request, admin, found, resource, now, form)
    access.authorize(admin.caller, Action.TIME_OFF_WRITE, found, [context["resource"]])
    fmt = Formatter(_locale(request))
    zone = ZoneInfo(found.timezone)
    start = _local(form.get("start_day", ""), form.get("start_time", ""), zone)
    end = _local(form.get("end_day", ""), form.get("end_time", ""), zone)
    problems: dict[str, str] = {}
    if start is None:
        problems["start"] = fmt.gettext("Enter a date and a time.")
    if end is None:
        problems["end"] = fmt.gettext("Enter a date and a time.")
    if not problems and start is not None and end is not None:
        try:
            added = await time_off.add_time_off(found, context["resource"], start=start, end=end,
                                                reason=form.get("reason"), actor=admin.account.actor, now=now)
        except InvalidInput as exc:
            problems = {p.field: p.text(fmt.gettext) for p in exc.problems}
        else:
            context = await _blocks_context(request, admin, found, context["resource"], now, {})
            return _page(request, "desk/blocks.html", {**context, "notice": "blocked",
                                                       "overlapping": added.overlapping})
    return _page(request, "desk/blocks.html", {**context, "problems": problems}, status=422)


@get("/sites/{site:str}/blocks/{block_id:str}/remove")
async def remove_page(request: Request, site: FromPath[str], block_id: FromPath[str], admin: NamedDependency[Admin],
                      clock: NamedDependency[Clock]) -> Template:
    """The confirm step before time off is freed."""
    found = await _site(admin, site, Action.BOOKINGS_READ)
    context = await _blocks_context(request, admin, found, request.query_params.get("resource") or "", clock(), {})
    entry = next((e for e in context["entries"] if e["id"] == block_id), None)
    if entry is None:
        raise NotFound("time off", block_id)
    day = request.query_params.get("day") or ""
    return _page(request, "desk/remove.html", {**context, "entry": entry, "request_day": day,
                                               "back": request.query_params.get("back") == "day" and bool(day)})


@post("/sites/{site:str}/blocks/{block_id:str}/remove")
async def remove_block(request: Request, site: FromPath[str], block_id: FromPath[str],
                       admin: NamedDependency[Admin], clock: NamedDependency[Clock]) -> Response:
    found = await _site(admin, site, Action.BOOKINGS_READ)
    form, now = await _form(request), clock()
    context = await _blocks_context(request, admin, found, form.get("resource", ""), now, {})
    access.authorize(admin.caller, Action.TIME_OFF_WRITE, found, [context["resource"]])
    await time_off.remove_time_off(found, context["resource"], block_id, actor=admin.account.actor, now=now)
    if form.get("back") == "day" and form.get("day"):
        return _go(f"/admin/sites/{found.slug}?" + urlencode({"day": form["day"]}), request)
    return _go(f"/admin/sites/{found.slug}/blocks?" + urlencode({"resource": context["resource"], "notice": "freed"}),
               request)


ROUTES = [book_page, book, customer_suggestions, blocks_page, block_time, remove_page, remove_block]

