"""Step builders: loaded data in, what a step's partial needs out. No I/O, no clock.

Each function returns a :class:`View` (a partial and its context). Handlers
load what a step shows (through the services), then call one of these. The
manage link's pages build their picker with the same functions, pointing the
links elsewhere (:class:`Links`) and marking the booking's own time.
"""

from __future__ import annotations

import calendar as calendar_module
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from slotwise.domain.model import PhoneMode, Service
from slotwise.domain.policy import ChangePolicy
from slotwise.services import links as public_links
from slotwise.services.availability import AvailableSlot, Offer
from slotwise.services.errors import FieldProblem
from slotwise.services.validation import ADDRESS_MAX_LENGTH
from slotwise.web.booking.forms import BookedSummary
from slotwise.web.booking.present import Named, Presenter
from slotwise.web.booking.state import PageState, held_param, instant

# How far ahead the service list looks for a group session's next date.
GROUP_LOOKAHEAD_DAYS = 28
# Next sessions are looked up for this many group services at most: cheap to show.
GROUP_LOOKUPS = 3

_FIELD_ID = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class View:
    """One step: its partial and what the partial needs."""

    template: str
    context: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Links:
    """Where a step's links and forms lead.

    On the booking page ``page`` is ``/book/{site}`` and picking a time posts
    to ``/book/{site}/hold``; on a manage link both are its reschedule URL.
    """

    state: PageState
    page: str
    hold_action: str

    @classmethod
    def booking(cls, state: PageState) -> Links:
        base = f"/book/{state.site}"
        return cls(state, base, f"{base}/hold")

    @classmethod
    def moving(cls, state: PageState, manage_path: str) -> Links:
        picker = f"{manage_path}/reschedule"
        return cls(state, picker, picker)

    def here(self, **changes: Any) -> str:
        """This step's URL with fields of the state changed (None drops a value)."""
        return f"{self.page}?{urlencode(replace(self.state, **changes).params())}"


@dataclass(frozen=True, slots=True)
class FieldView:
    name: str
    id: str
    label: str
    kind: str  # text, email, tel, textarea, select, checkbox, number
    required: bool
    value: str = ""
    checked: bool = False
    options: Sequence[str] = ()
    option_labels: Sequence[str] = ()  # what each option shows, in the customer's language
    error: str | None = None
    autocomplete: str | None = None
    maxlength: int | None = None
    min: float | None = None
    max: float | None = None


# --- services and resources ---------------------------------------------------------------


def services_step(p: Presenter, services: Sequence[Service],
                  next_sessions: Mapping[str, AvailableSlot], message: str | None = None) -> View:
    """The service list; ``next_sessions`` is the next free session of some group services, by slug.

    When any service has a category, the list is grouped by category in the
    order categories first appear; services without one come last, under "Other".
    """
    locale = p.state.locale
    items = []
    for service in services:
        meta = [p.fmt.duration(service.listed_minutes)]
        price = p.fmt.price(service.price_minor, service.currency)
        if price:
            meta.append(price)
        if service.seats > 1:
            meta.append(p._("group of up to %(num)s", num=service.seats))
        session = next_sessions.get(service.slug)
        items.append({
            "name": service.name_in(locale),
            "description": service.description_in(locale),
            "category": service.category_in(locale),
            "meta": " · ".join(meta),
            "next": p._("Next: %(when)s, %(left)s",
                        when=f"{p.fmt.day(session.start)}, {p.fmt.time(session.start)}",
                        left=p.fmt.ngettext("%(num)s place left", "%(num)s places left",
                                            session.seats_left)) if session else None,
            "url": p.state.view_only().url(service=service.slug),
        })
    groups: list[dict[str, Any]] = []
    if any(item["category"] for item in items):
        by_category: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            by_category.setdefault(item["category"] or "", []).append(item)
        groups = [{"title": title, "services": group} for title, group in by_category.items() if title]
        if "" in by_category:
            groups.append({"title": p._("Other"), "services": by_category[""]})
    return View("widget/_services.html", {
        "services": items, "groups": groups, "message": message, "announce": p._("Choose a service"),
    })


def unbookable_message(p: Presenter) -> str:
    """Why the service list is back: the service asked for is unknown or switched off."""
    return p._("This service cannot be booked online. Please choose another one.")


def resources_step(p: Presenter, links: Links, offer: Offer, message: str | None = None) -> View:
    service = offer.service
    options = [{"name": p._("Anyone available"), "url": links.here(resource="any", month=None, day=None)}]
    for key in service.rules.resource_groups[0]:
        resource = offer.resources.get(key)
        if resource is not None:
            options.append({"name": resource.name_in(p.state.locale),
                            "url": links.here(resource=key, month=None, day=None)})
    return View("widget/_resources.html", {
        "resources": options,
        "message": message,
        "rows": p.service_rows(service),
        "back_url": p.state.view_only().url(),
        "announce": p._("Choose who you would like to see"),
    })


def _who_chosen(p: Presenter, offer: Offer) -> str | None:
    """The chosen resource's name, "Anyone available", or None when there is no choice."""
    key = p.state.resource_key
    if key and key in offer.resources:
        return offer.resources[key].name_in(p.state.locale)
    if offer.service.offers_choice:
        return p._("Anyone available")
    return None


# --- the calendar ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CalendarWindow:
    """The month a calendar shows and the days in it whose free times are read (in the shown zone)."""

    month: date  # its first day
    today: date
    first_month: date
    last_month: date
    first_day: date  # first day to read free times for
    last_day: date  # last; before first_day when nothing in the month is bookable

    @property
    def month_end(self) -> date:
        return self.month.replace(day=calendar_module.monthrange(self.month.year, self.month.month)[1])

    @property
    def bookable(self) -> bool:
        return self.first_day <= self.last_day


def calendar_window(p: Presenter, service: Service, now: datetime) -> CalendarWindow:
    """Which month to show: the one asked for, kept between today's and the last bookable one."""
    today = now.astimezone(p.zone).date()
    last_bookable = (now + service.rules.max_advance).astimezone(p.zone).date()
    first_month, last_month = today.replace(day=1), last_bookable.replace(day=1)
    month = p.state.month or first_month
    month = min(max(month, first_month), max(last_month, first_month))
    month_end = month.replace(day=calendar_module.monthrange(month.year, month.month)[1])
    return CalendarWindow(month, today, first_month, last_month, max(month, today),
                          min(month_end, last_bookable))


def calendar_step(
    p: Presenter, links: Links, offer: Offer, window: CalendarWindow, slots: Sequence[AvailableSlot], *,
    back: tuple[str, str] | None = None, moving_start: datetime | None = None,
    message: str | None = None,
) -> View:
    """A month of days with free times, and the chosen (or first free) day's times.

    ``slots`` are the free times of the window's days; ``back`` is the back
    link's (url, text), by default back to the resources or services.
    """
    service = offer.service
    month, today, month_end = window.month, window.today, window.month_end
    selected = p.state.day if p.state.day and p.state.day.replace(day=1) == month else None
    counts = Counter(slot.start.date() for slot in slots)
    free_days = sorted(counts)
    # No day chosen yet: the first one with free times is shown straight away
    # (its times are in the month's answer already), so the customer sees
    # times without another round trip.
    selected = selected or (free_days[0] if free_days else None)
    focus = selected or (today if month <= today <= month_end else month)
    weeks = []
    for week in calendar_module.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month):
        cells = []
        for d in week:
            if d.month != month.month:
                cells.append(None)
                continue
            n = counts.get(d, 0)
            free = (p.fmt.ngettext("%(num)s free time", "%(num)s free times", n) if n
                    else p._("no free times"))
            cells.append({
                "iso": d.isoformat(), "number": d.day, "free": n > 0, "selected": d == selected,
                "today": d == today, "focus": d == focus, "label": f"{p.fmt.full_day(d)}, {free}",
            })
        weeks.append(cells)
    prev_month = (month - timedelta(days=1)).replace(day=1)
    next_month = month_end + timedelta(days=1)
    wide, short = p.fmt.weekday_names("wide"), p.fmt.weekday_names("abbreviated")
    calendar = {
        "title": p.fmt.month(month),
        "prev_url": links.here(month=prev_month, day=None) if month > window.first_month else None,
        "prev_label": p.fmt.month(prev_month),
        "next_url": links.here(month=next_month, day=None) if month < window.last_month else None,
        "next_label": p.fmt.month(next_month),
        "action": links.page,
        "hidden": p.state.params(month=month, day=None),
        "weekdays": [{"wide": w, "short": s} for w, s in zip(wide, short, strict=True)],
        "weeks": weeks,
        "any_free": bool(free_days),
        "empty_text": p._("There are no free times in %(month)s.", month=p.fmt.month(month)),
    }
    if back is None:
        if service.offers_choice:
            back = (links.here(resource=None, month=None, day=None), p._("Choose someone else"))
        else:
            back = (p.state.view_only().url(), p._("Back to services"))
    day_slots = [s for s in slots if s.start.date() == selected] if selected else []
    return View("widget/_calendar.html", {
        "calendar": calendar,
        "message": message,
        "zone": p.zone_note(links.here),
        "rows": p.service_rows(service, who=_who_chosen(p, offer)),
        "back_url": back[0],
        "back_text": back[1],
        "day": day_view(p, selected, day_slots, service, moving_start) if selected else None,
        "announce": p._("Choose a day. Showing %(month)s.", month=p.fmt.month(month)),
    })


# A day with more free times than this (four rows of time-only buttons on a
# phone) shows them under "Morning", "Afternoon" and "Evening": 40 times of a
# long day then read as three short lists; a shorter list gains nothing.
GROUP_TIMES_OVER = 16
# Where the parts of a day begin, as hours on the clock the times are shown in.
DAY_PARTS = ((0, "morning"), (12, "afternoon"), (17, "evening"))


def _part_of_day(hour: int) -> str:
    return [name for start, name in DAY_PARTS if hour >= start][-1]


def slot_groups(p: Presenter, slots: Sequence[AvailableSlot],
                views: Sequence[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The day's times by part of the day, or None when the list is short or all in one part.

    Worked example: 09:00-16:45 every 15 minutes is 32 times: 12 in the
    morning (09:00-11:45), 20 in the afternoon (12:00-16:45), no evening.
    """
    if len(slots) <= GROUP_TIMES_OVER:
        return None
    labels = {"morning": p._("Morning"), "afternoon": p._("Afternoon"), "evening": p._("Evening")}
    groups: dict[str, list[dict[str, Any]]] = {}
    for slot, view in zip(slots, views, strict=True):
        groups.setdefault(_part_of_day(slot.start.astimezone(p.zone).hour), []).append(view)
    if len(groups) < 2:
        return None
    return [{"key": key, "label": labels[key], "slots": groups[key]} for _, key in DAY_PARTS if key in groups]


def day_view(p: Presenter, day: date, slots: Sequence[AvailableSlot], service: Service,
             moving_start: datetime | None = None) -> dict[str, Any]:
    """One day's free times (the part a click on a day swaps in), grouped when there are many."""
    label = p.fmt.day(day)
    views = [p.slot(s, service, current=moving_start) for s in slots]
    return {
        "iso": day.isoformat(),
        "label": label,
        "slots": views,
        "groups": slot_groups(p, slots, views),
        # Only times on the buttons: they fit four to a row on a phone.
        "compact": all(not (v["who"] or v["business_time"] or v["seats"] or v["current"]) for v in views),
        "announce": (p._("Showing free times for %(day)s", day=label) if slots
                     else p._("No free times on %(day)s", day=label)),
    }


def day_step(p: Presenter, day: date, slots: Sequence[AvailableSlot], service: Service,
             moving_start: datetime | None = None) -> View:
    return View("widget/_slots.html", {"day": day_view(p, day, slots, service, moving_start)})


# --- details ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hold:
    """The hold a details form is for: its token and when it runs out."""

    token: str | None
    until: datetime | None


def details_step(
    p: Presenter, links: Links, offer: Offer, start: datetime, hold: Hold, *, now: datetime,
    form_token: str, resources: Sequence[Named] = (), values: Mapping[str, str] | None = None,
    problems: Sequence[FieldProblem] = (), notice: str | None = None, status: int = 200,
) -> View:
    """The customer's details form for ``start``, with what they typed and what is wrong with it."""
    service = offer.service
    values = values or {}
    errors_by_field: dict[str, str] = {}
    for problem in problems:
        errors_by_field.setdefault(problem.field, problem.text(p.fmt.gettext))
    contact = [
        FieldView("customer.name", "f-customer-name", p._("Name"), "text", True,
                  autocomplete="name", maxlength=100),
        FieldView("customer.email", "f-customer-email", p._("Email"), "email", True,
                  autocomplete="email", maxlength=254),
    ]
    if service.phone is not PhoneMode.HIDDEN:
        contact.append(FieldView("customer.phone", "f-customer-phone", p._("Phone"), "tel",
                                 service.phone is PhoneMode.REQUIRED, autocomplete="tel", maxlength=40))
    if service.ask_address:
        contact.append(FieldView("customer.address", "f-customer-address", p._("Address"), "textarea", True,
                                 autocomplete="street-address", maxlength=ADDRESS_MAX_LENGTH))
    locale = p.state.locale
    questions = [
        FieldView(f"answers.{q.key}", "f-answers-" + _FIELD_ID.sub("-", q.key), q.label_in(locale) or q.key,
                  str(q.type), q.required, options=q.options,
                  option_labels=[q.option_in(option, locale) for option in q.options],
                  maxlength=q.max_length, min=q.min, max=q.max)
        for q in service.questions
    ]
    contact = [_filled(f, values, errors_by_field) for f in contact]
    questions = [_filled(f, values, errors_by_field) for f in questions]
    errors = [{"id": f.id, "label": f.label, "message": f.error}
              for f in (*contact, *questions) if f.error]
    # Problems without a field of their own (start, locale, …) are listed without a link.
    errors += [{"id": None, "label": "", "message": message} for message in errors_by_field.values()]
    if notice:
        errors.insert(0, {"id": None, "label": "", "message": notice})

    hold_view = hold_note = None
    seconds = int((hold.until - now).total_seconds()) if hold.token and hold.until else 0
    if hold.token and hold.until is not None and seconds <= 0:
        hold_note = p._("Your reservation has expired, but you can still book this time "
                        "if nobody else has taken it.")
    elif hold.token and hold.until is not None:
        hold_view = {
            "until_iso": hold.until.astimezone(UTC).isoformat(),
            "until_label": p.fmt.time(hold.until.astimezone(p.zone)),
            "seconds": seconds,
            "left_label": f"{seconds // 60}:{seconds % 60:02d}",
        }
    # "with" names whom the hold took, so the summary's "With" row reads the same after an error.
    extra = {"start": start.isoformat(), "hold": hold.token,
             "until": instant(hold.until) if hold.until else None,
             "with": ",".join(r.key for r in resources) or None}
    hidden = [("form", form_token), *p.state.params(month=None, day=None, held=None, **extra)]
    who = (", ".join(_name_in(offer, r, p.state.locale) for r in resources) if resources
           else _who_chosen(p, offer))
    when = p.when(start)
    if errors:
        announce = p.fmt.ngettext("Please check %(num)s field.", "Please check %(num)s fields.", len(errors))
    elif hold_view:
        announce = p._("Enter your details. %(when)s is reserved for you for %(minutes)s minutes.",
                       when=when, minutes=max(1, round(hold_view["seconds"] / 60)))
    else:
        announce = p._("Enter your details.")
    day = start.astimezone(p.zone).date()
    kept = (held_param(hold.token, start, hold.until, resources)
            if hold.token and hold.until and seconds > 0 else None)
    return View("widget/_details.html", {
        "rows": p.service_rows(service, who=who, start=start),
        "policy": p.policy_note(ChangePolicy.of(p.site, service).promise(start=start, now=now)),
        "hold": hold_view,
        "hold_note": hold_note,
        "errors": errors,
        "contact_fields": contact,
        "question_fields": questions,
        "form_hidden": hidden,
        "confirm_action": f"{links.page}/confirm",
        "expired_action": f"{links.page}/expired",
        "back_url": links.here(day=day, month=None, held=kept),
        "announce": announce,
    }, status=status)


def _name_in(offer: Offer, named: Named, locale: str) -> str:
    """A held resource's name in the customer's language (the hold carries the site's)."""
    resource = offer.resources.get(named.key)
    return resource.name_in(locale) if resource is not None else named.name


def _filled(f: FieldView, values: Mapping[str, str], errors: dict[str, str]) -> FieldView:
    value = values.get(f.name, "")
    return replace(f, value=value, checked=f.kind == "checkbox" and value not in ("", None),
                   error=errors.pop(f.name, None))


# --- a time gone, a hold run out, the confirmation ------------------------------------------


def taken_step(p: Presenter, links: Links, service: Service, start: datetime,
               alternatives: Sequence[AvailableSlot], carried: Sequence[tuple[str, str]]) -> View:
    slots = []
    for slot in alternatives:
        view = p.slot(slot, service)
        # Alternatives may fall on other days: the day belongs in the visible label too.
        view["time"] = f"{p.fmt.day(slot.start.astimezone(p.zone))}, {view['time']}"
        slots.append(view)
    return View("widget/_taken.html", {
        "when": p.when(start),
        "alternatives": slots,
        "carried": list(carried),
        "zone": p.zone_note(links.here),
        "calendar_url": links.here(day=start.astimezone(p.zone).date(), month=None),
        "announce": p._("This time is no longer available. Showing the next free times."),
    }, status=409)


def expired_step(p: Presenter, links: Links, service: Service, start: datetime,
                 day_slots: Sequence[AvailableSlot], carried: Sequence[tuple[str, str]]) -> View:
    """The hold ran out: the same day's free times again, with what was typed carried along."""
    day = start.astimezone(p.zone).date()
    return View("widget/_expired.html", {
        "when": p.when(start),
        "day": day_view(p, day, day_slots, service),
        "carried": list(carried),
        "zone": p.zone_note(links.here),
        "calendar_url": links.here(day=day, month=None),
        "announce": p._("Your reservation has expired. Showing the free times again."),
    })


def confirmation_step(p: Presenter, summary: BookedSummary, *, base_url: str, now: datetime,
                      service: Service | None = None, customer: dict[str, str] | None = None,
                      answers: Sequence[tuple[str, str]] = ()) -> View:
    """The booking made. ``service`` (as configured now) says what may still be changed online:
    the manage link is offered as "change or cancel" only while that is possible."""
    rows = p.booked_rows(summary.service_name, summary.start, summary.end, summary.resources,
                         price=p.fmt.price(summary.price_minor, summary.currency),
                         customer=customer, answers=answers)
    promise = ChangePolicy.of(p.site, service).promise(start=summary.start, now=now) if service else None
    return View("widget/_confirmation.html", {
        "rows": rows,
        "customer": customer,
        "policy": p.policy_note(promise) if promise else None,
        "changeable": promise is None or bool(promise.cancel or promise.reschedule),
        "manage_url": public_links.manage_url(base_url, summary.manage_token),
        "ics_url": public_links.manage_calendar_url(base_url, summary.manage_token),
        "again_url": p.state.view_only().url(),
        "announce": p._("Your booking is confirmed."),
    })
