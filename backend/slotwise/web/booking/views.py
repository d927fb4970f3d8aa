"""The view models of each step: what its partial shows, from the site, the state and the clock."""

from __future__ import annotations

import calendar as calendar_module
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request

from slotwise.domain.model import Resource, ResourceRef, Service, Site
from slotwise.i18n import Formatter, negotiate, template_gettext, translate_problem
from slotwise.services import availability as availability_service
from slotwise.services import links
from slotwise.services.availability import AvailabilityQuery, AvailableSlot
from slotwise.services.errors import FieldProblem, InvalidInput, NotFound
from slotwise.settings import Settings
from slotwise.web.booking.assets import (
    DEFAULT_ACCENT,
    HTMX_CONFIG,
    parse_accent,
    script_url,
    theme_url,
)
from slotwise.web.booking.forms import BookedSummary, new_form_token
from slotwise.web.booking.state import PageState, held_param, instant, zone_label

# How far ahead the service list looks for a group session's next date.
GROUP_LOOKAHEAD_DAYS = 28

_FIELD_ID = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class View:
    """One step: its partial and what the partial needs."""

    template: str
    context: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class FieldView:
    name: str
    id: str
    label: str
    kind: str  # text, email, tel, textarea, select, checkbox, number
    required: bool
    value: str = ""
    checked: bool = False
    options: Sequence[str] = ()
    error: str | None = None
    autocomplete: str | None = None
    maxlength: int | None = None
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True, slots=True)
class Moving:
    """The booking whose time the picker changes (the manage link's "change time")."""

    booking_id: int
    start: datetime  # its current start: shown among the free times, marked, not offered


class Page:
    """Builds the views of one request: the site, the state, formatting and URLs."""

    # Set while a booking is being moved: its own time then counts as free.
    moving: Moving | None = None

    def __init__(self, site: Site, state: PageState, settings: Settings, now: datetime) -> None:
        self.site = site
        self.state = state
        self.settings = settings
        self.now = now
        self.fmt = Formatter(state.locale)
        self.site_zone = ZoneInfo(site.timezone)
        self.customer_zone = ZoneInfo(state.tz)
        self.zone = self.site_zone if state.times == "site" else self.customer_zone
        self._ = self.fmt.gettext

    # -- shared pieces

    @property
    def base(self) -> str:
        return f"/book/{self.site.slug}"

    def common(self) -> dict[str, Any]:
        accent = self.state.accent or parse_accent(self.site.accent) or DEFAULT_ACCENT
        theme = theme_url(self.site.slug, accent)
        return {
            "lang": self.state.locale,
            "site": self.site,
            "state": self.state,
            "host": self.state.host,
            "theme_url": theme,
            "script_url": script_url(self.site.slug),
            "htmx_config": HTMX_CONFIG,
            "hold_action": f"{self.base}/hold",
            **template_gettext(self.state.locale),
        }

    def zone_note(self) -> dict[str, str] | None:
        """Which zone times are in, and a link to the other one when the customer's differs."""
        if self.customer_zone.key == self.site_zone.key:
            return None
        if self.state.times == "site":
            return {
                "text": self._(
                    "Times are shown in %(site)s's time zone (%(zone)s).",
                    site=self.site.name,
                    zone=zone_label(self.site_zone),
                ),
                "switch_url": self._here(times=None),
                "switch_text": self._(
                    "Show my time zone (%(zone)s)", zone=zone_label(self.customer_zone)
                ),
            }
        return {
            "text": self._(
                "Times are shown in your time zone (%(zone)s).", zone=zone_label(self.customer_zone)
            ),
            "switch_url": self._here(times="site"),
            "switch_text": self._(
                "Show %(site)s's time zone (%(zone)s)",
                site=self.site.name,
                zone=zone_label(self.site_zone),
            ),
        }

    def _here(self, **changes: Any) -> str:
        return replace(self.state, **changes).url()

    def place(self, zone: ZoneInfo) -> str:
        """The zone's city: "Europe/Berlin" → "Berlin"."""
        return zone.key.rsplit("/", 1)[-1].replace("_", " ")

    def business_time(self, instant: datetime, zone: ZoneInfo | None = None) -> str | None:
        """The business's time, "09:30 in Berlin", when its clock differs from the one shown."""
        shown_at = instant.astimezone(zone or self.zone)
        there = instant.astimezone(self.site_zone)
        if shown_at.utcoffset() == there.utcoffset():
            return None
        return self._(
            "%(time)s in %(place)s", time=self.fmt.time(there), place=self.place(self.site_zone)
        )

    def when(self, start: datetime, zone: ZoneInfo | None = None) -> str:
        """Day and time in the displayed zone, or ``zone``, plus the business's time where it differs."""
        shown_at = start.astimezone(zone or self.zone)
        text = self.fmt.moment(shown_at)
        other = self.business_time(start, zone)
        return f"{text} ({other})" if other else text

    def who(self, resources: Sequence[Resource] | Sequence[ResourceRef]) -> str | None:
        """Whom the first group gives: "with Anna Berg" for a person, the bare name otherwise."""
        if not resources:
            return None
        first = resources[0]
        return self._("with %(name)s", name=first.name) if first.kind == "person" else first.name

    def service_rows(
        self, service: Service, *, who: str | None = None, start: datetime | None = None
    ) -> list[tuple[str, str]]:
        """Summary rows; ``who`` is the name(s) of whom or what the customer gets."""
        rows = [
            (self._("Service"), f"{service.name} · {self.fmt.duration(service.duration_minutes)}")
        ]
        if who:
            rows.append((self._("With"), who))
        if start is not None:
            rows.append((self._("When"), self.when(start)))
        price = self.fmt.price(service.price_minor, service.currency)
        if price:
            rows.append((self._("Price"), price))
        return rows

    def slot_view(self, slot: AvailableSlot, service: Service) -> dict[str, Any]:
        """A free time as a button: "Tuesday 24 November, 10:30, with Anna Berg".

        Whom is named when the customer could have chosen, or when it is a person.
        """
        start = slot.start.astimezone(self.zone)
        named = service.offers_choice or bool(
            slot.resources and slot.resources[0].kind == "person"
        )
        who = self.who(slot.resources) if named else None
        business = self.business_time(slot.start)
        seats = (
            self.fmt.ngettext("%(num)s place left", "%(num)s places left", slot.seats_left)
            if service.seats > 1
            else None
        )
        current = (
            self._("your current time")
            if self.moving is not None and slot.start == self.moving.start
            else None
        )
        # Whom is shown on the button unless the customer picked that person.
        shown_who, hidden_who = (who, None) if self.state.resource_key is None else (None, who)
        # The label holds the button's visible text in its visible order (as
        # speech-input users say it: WCAG 2.5.3), then the day and the rest.
        visible = (self.fmt.time(start), shown_who, business, seats, current)
        label = ", ".join(p for p in (self.fmt.day(start), *visible, hidden_who) if p)
        return {
            "value": start.isoformat(),
            "time": self.fmt.time(start),
            "who": shown_who,
            "business_time": business,
            "seats": seats,
            "current": current,
            "label": label,
        }

    def unbookable(self) -> str:
        """Why the service list is back: the service asked for is unknown or switched off."""
        return self._("This service cannot be booked online. Please choose another one.")

    async def _free_times(
        self, service: Service, first: date, last: date
    ) -> availability_service.Availability:
        """Free times of the chosen resource from ``first`` to ``last`` (days in the shown zone)."""
        return await availability_service.get_availability(
            self.site.slug,
            AvailabilityQuery(
                service=service.slug,
                start=first,
                end=last,
                zone=self.zone,
                resource=self.state.resource_key,
                ignoring_booking=self.moving.booking_id if self.moving else None,
            ),
            now=self.now,
        )

    # -- steps

    async def services_view(
        self, message: str | None = None, services: Sequence[Service] | None = None
    ) -> View:
        if services is None:
            _, services = await availability_service.list_services(self.site.slug)
        items = []
        group_lookups = 0
        for service in services:
            meta = [self.fmt.duration(service.duration_minutes)]
            price = self.fmt.price(service.price_minor, service.currency)
            if price:
                meta.append(price)
            next_session = None
            if service.seats > 1:
                meta.append(self._("group of up to %(num)s", num=service.seats))
                # One look-up per group service, for the first few only: cheap to show.
                if group_lookups < 3:
                    group_lookups += 1
                    next_session = await self._next_session(service)
            items.append(
                {
                    "name": service.name,
                    "description": service.description,
                    "meta": " · ".join(meta),
                    "next": next_session,
                    "url": self.state.view_only().url(service=service.slug),
                }
            )
        return View(
            "widget/_services.html",
            {
                "services": items,
                "message": message,
                "announce": self._("Choose a service"),
            },
        )

    async def _next_session(self, service: Service) -> str | None:
        today = self.now.astimezone(self.zone).date()
        try:
            result = await availability_service.get_availability(
                self.site.slug,
                AvailabilityQuery(
                    service=service.slug,
                    start=today,
                    end=today + timedelta(days=GROUP_LOOKAHEAD_DAYS),
                    zone=self.zone,
                ),
                now=self.now,
            )
        except (NotFound, InvalidInput):
            return None
        if not result.slots:
            return None
        slot = result.slots[0]
        return self._(
            "Next: %(when)s, %(left)s",
            when=f"{self.fmt.day(slot.start)}, {self.fmt.time(slot.start)}",
            left=self.fmt.ngettext("%(num)s place left", "%(num)s places left", slot.seats_left),
        )

    def resources_view(self, offer: availability_service.Offer, message: str | None = None) -> View:
        service = offer.service
        options = [
            {
                "name": self._("Anyone available"),
                "url": self._here(resource="any", month=None, day=None),
            }
        ]
        for key in service.rules.resource_groups[0]:
            resource = offer.resources.get(key)
            if resource is not None:
                options.append(
                    {"name": resource.name, "url": self._here(resource=key, month=None, day=None)}
                )
        return View(
            "widget/_resources.html",
            {
                "resources": options,
                "message": message,
                "rows": self.service_rows(service),
                "back_url": self.state.view_only().url(),
                "announce": self._("Choose who you would like to see"),
            },
        )

    def _who_chosen(self, offer: availability_service.Offer) -> str | None:
        """The chosen resource's name, "Anyone available", or None when there is no choice."""
        key = self.state.resource_key
        if key and key in offer.resources:
            return offer.resources[key].name
        if offer.service.offers_choice:
            return self._("Anyone available")
        return None

    async def calendar_view(
        self, offer: availability_service.Offer, message: str | None = None
    ) -> View:
        service = offer.service
        today = self.now.astimezone(self.zone).date()
        last_bookable = (self.now + service.rules.max_advance).astimezone(self.zone).date()
        first_month, last_month = today.replace(day=1), last_bookable.replace(day=1)
        month = self.state.month or today.replace(day=1)
        month = min(max(month, first_month), max(last_month, first_month))
        days_in_month = calendar_module.monthrange(month.year, month.month)[1]
        month_end = month.replace(day=days_in_month)
        selected = (
            self.state.day if self.state.day and self.state.day.replace(day=1) == month else None
        )

        # One availability read for the whole visible month; the day's times are a subset.
        start, end = max(month, today), min(month_end, last_bookable)
        slots: list[AvailableSlot] = []
        if start <= end:
            slots = (await self._free_times(service, start, end)).slots
        counts = Counter(slot.start.date() for slot in slots)

        free_days = sorted(counts)
        # No day chosen yet: the first one with free times is shown straight
        # away (its times are in the month's answer already), so the customer
        # sees times without another round trip.
        selected = selected or (free_days[0] if free_days else None)
        focus = selected or (today if month <= today <= month_end else month)
        weeks = []
        for week in calendar_module.Calendar(firstweekday=0).monthdatescalendar(
            month.year, month.month
        ):
            cells = []
            for d in week:
                if d.month != month.month:
                    cells.append(None)
                    continue
                n = counts.get(d, 0)
                free = (
                    self.fmt.ngettext("%(num)s free time", "%(num)s free times", n)
                    if n
                    else self._("no free times")
                )
                cells.append(
                    {
                        "iso": d.isoformat(),
                        "number": d.day,
                        "free": n > 0,
                        "selected": d == selected,
                        "today": d == today,
                        "focus": d == focus,
                        "label": f"{self.fmt.full_day(d)}, {free}",
                    }
                )
            weeks.append(cells)
        prev_month = (month - timedelta(days=1)).replace(day=1)
        next_month = month_end + timedelta(days=1)
        wide, short = self.fmt.weekday_names("wide"), self.fmt.weekday_names("abbreviated")
        calendar = {
            "title": self.fmt.month(month),
            "prev_url": self._here(month=prev_month, day=None) if month > first_month else None,
            "prev_label": self.fmt.month(prev_month),
            "next_url": self._here(month=next_month, day=None) if month < last_month else None,
            "next_label": self.fmt.month(next_month),
            "action": self.base,
            "hidden": self.state.params(month=month, day=None),
            "weekdays": [{"wide": w, "short": s} for w, s in zip(wide, short, strict=True)],
            "weeks": weeks,
            "any_free": bool(free_days),
            "empty_text": self._(
                "There are no free times in %(month)s.", month=self.fmt.month(month)
            ),
        }
        if service.offers_choice:
            back_url, back_text = (
                self._here(resource=None, month=None, day=None),
                self._("Choose someone else"),
            )
        else:
            back_url, back_text = (
                self.state.view_only().url(),
                self._("Back to services"),
            )
        day_slots = [s for s in slots if s.start.date() == selected] if selected else []
        return View(
            "widget/_calendar.html",
            {
                "calendar": calendar,
                "message": message,
                "zone": self.zone_note(),
                "rows": self.service_rows(service, who=self._who_chosen(offer)),
                "back_url": back_url,
                "back_text": back_text,
                "day": self.day_view(selected, day_slots, service) if selected else None,
                "announce": self._("Choose a day. Showing %(month)s.", month=self.fmt.month(month)),
            },
        )

    def day_view(
        self, day: date, slots: Sequence[AvailableSlot], service: Service
    ) -> dict[str, Any]:
        label = self.fmt.day(day)
        return {
            "iso": day.isoformat(),
            "label": label,
            "slots": [self.slot_view(s, service) for s in slots],
            "announce": (
                self._("Showing free times for %(day)s", day=label)
                if slots
                else self._("No free times on %(day)s", day=label)
            ),
        }

    def details_view(
        self,
        offer: availability_service.Offer,
        start: datetime,
        *,
        hold: str | None,
        until: datetime | None,
        resources: Sequence[Resource] = (),
        values: Mapping[str, str] | None = None,
        problems: Sequence[FieldProblem] = (),
        form_token: str | None = None,
        status: int = 200,
        notice: str | None = None,
    ) -> View:
        service = offer.service
        values = values or {}
        errors_by_field = {}
        for problem in problems:
            errors_by_field.setdefault(
                problem.field, translate_problem(problem.message, self.state.locale)
            )
        contact = [
            FieldView(
                "customer.name",
                "f-customer-name",
                self._("Name"),
                "text",
                True,
                autocomplete="name",
                maxlength=100,
            ),
            FieldView(
                "customer.email",
                "f-customer-email",
                self._("Email"),
                "email",
                True,
                autocomplete="email",
                maxlength=254,
            ),
        ]
        if service.phone != "hidden":
            contact.append(
                FieldView(
                    "customer.phone",
                    "f-customer-phone",
                    self._("Phone"),
                    "tel",
                    service.phone == "required",
                    autocomplete="tel",
                    maxlength=40,
                )
            )
        questions = []
        for q in service.questions:
            questions.append(
                FieldView(
                    f"answers.{q.key}",
                    "f-answers-" + _FIELD_ID.sub("-", q.key),
                    q.label or q.key,
                    str(q.type),
                    q.required,
                    options=q.options,
                    maxlength=q.max_length,
                    min=q.min,
                    max=q.max,
                )
            )
        for f in (*contact, *questions):
            f.value = values.get(f.name, "")
            f.checked = f.kind == "checkbox" and f.value not in ("", None)
            f.error = errors_by_field.pop(f.name, None)
        errors = [
            {"id": f.id, "label": f.label, "message": f.error}
            for f in (*contact, *questions)
            if f.error
        ]
        # Problems without a field of their own (start, locale, …) are listed without a link.
        errors += [
            {"id": None, "label": "", "message": message} for message in errors_by_field.values()
        ]
        if notice:
            errors.insert(0, {"id": None, "label": "", "message": notice})

        hold_view = hold_note = None
        seconds = int((until - self.now).total_seconds()) if hold and until is not None else 0
        if hold and until is not None and seconds <= 0:
            hold_note = self._(
                "Your reservation has expired, but you can still book this time "
                "if nobody else has taken it."
            )
        elif hold and until is not None:
            hold_view = {
                "until_iso": until.astimezone(UTC).isoformat(),
                "until_label": self.fmt.time(until.astimezone(self.zone)),
                "seconds": seconds,
                "left_label": f"{seconds // 60}:{seconds % 60:02d}",
            }
        token = form_token or new_form_token(self.settings, self.site.slug)
        extra = {
            "start": start.isoformat(),
            "hold": hold,
            "until": instant(until) if until else None,
        }
        hidden = [("form", token), *self.state.params(month=None, day=None, held=None, **extra)]
        who = ", ".join(r.name for r in resources) if resources else self._who_chosen(offer)
        when = self.when(start)
        if errors:
            announce = self.fmt.ngettext(
                "Please check %(num)s field.", "Please check %(num)s fields.", len(errors)
            )
        elif hold_view:
            announce = self._(
                "Enter your details. %(when)s is reserved for you for %(minutes)s minutes.",
                when=when,
                minutes=max(1, round(hold_view["seconds"] / 60)),
            )
        else:
            announce = self._("Enter your details.")
        day = start.astimezone(self.zone).date()
        return View(
            "widget/_details.html",
            {
                "rows": self.service_rows(service, who=who, start=start),
                "hold": hold_view,
                "hold_note": hold_note,
                "errors": errors,
                "contact_fields": contact,
                "question_fields": questions,
                "form_hidden": hidden,
                "confirm_action": f"{self.base}/confirm",
                "expired_action": f"{self.base}/expired",
                "back_url": self._here(
                    day=day,
                    month=None,
                    held=held_param(hold, start, until, resources)
                    if hold and until and seconds > 0
                    else None,
                ),
                "announce": announce,
            },
            status=status,
        )

    def taken_view(
        self,
        service: Service,
        start: datetime,
        alternatives: Sequence[AvailableSlot],
        carried: Sequence[tuple[str, str]],
    ) -> View:
        slots = []
        for slot in alternatives:
            view = self.slot_view(slot, service)
            # Alternatives may fall on other days: the day belongs in the visible label too.
            view["time"] = f"{self.fmt.day(slot.start.astimezone(self.zone))}, {view['time']}"
            slots.append(view)
        return View(
            "widget/_taken.html",
            {
                "when": self.when(start),
                "alternatives": slots,
                "carried": list(carried),
                "zone": self.zone_note(),
                "calendar_url": self._here(day=start.astimezone(self.zone).date(), month=None),
                "announce": self._(
                    "This time is no longer available. Showing the next free times."
                ),
            },
            status=409,
        )

    async def expired_view(
        self, service: Service, start: datetime, carried: Sequence[tuple[str, str]]
    ) -> View:
        day = start.astimezone(self.zone).date()
        result = await self._free_times(service, day, day)
        return View(
            "widget/_expired.html",
            {
                "when": self.when(start),
                "day": self.day_view(day, result.slots, service),
                "carried": list(carried),
                "zone": self.zone_note(),
                "calendar_url": self._here(day=day, month=None),
                "announce": self._("Your reservation has expired. Showing the free times again."),
            },
        )

    def answer_rows(
        self, service: Service, answers: Mapping[str, Any]
    ) -> list[tuple[str, str]]:
        """The booked answers as (label, answer) rows, in the service's order; Yes/No for ticks."""
        rows = []
        for q in service.questions:
            if q.key in answers:
                value = answers[q.key]
                if isinstance(value, bool):
                    value = self._("Yes") if value else self._("No")
                rows.append((q.label or q.key, str(value)))
        return rows

    def booked_rows(
        self,
        service_name: str,
        start: datetime,
        end: datetime,
        resources: Sequence[ResourceRef],
        *,
        price: str | None,
        customer: Mapping[str, str | None] | None = None,
        answers: Sequence[tuple[str, str]] = (),
        status: str | None = None,
    ) -> list[tuple[str, str]]:
        """A booking's summary, as the confirmation and the manage page show it.

        Times are always in the customer's own zone (what goes into their
        calendar), with the business's time beside them where it differs.
        """
        minutes = int((end - start).total_seconds() // 60)
        rows = [(self._("Service"), f"{service_name} · {self.fmt.duration(minutes)}")]
        if status:
            rows.append((self._("Status"), status))
        rows.append((self._("When"), self.when(start, self.customer_zone)))
        if self.site.address:
            rows.append((self._("Where"), self.site.address))
        if resources:
            rows.append((self._("With"), ", ".join(r.name for r in resources)))
        if price:
            rows.append((self._("Price"), price))
        if customer:
            rows.append((self._("Name"), customer["name"] or ""))
            rows.append((self._("Email"), customer["email"] or ""))
            if customer.get("phone"):
                rows.append((self._("Phone"), customer["phone"] or ""))
        return rows + list(answers)

    def confirmation_view(
        self,
        summary: BookedSummary,
        *,
        customer: dict[str, str] | None = None,
        answers: Sequence[tuple[str, str]] = (),
    ) -> View:
        service_rows = self.booked_rows(
            summary.service_name, summary.start, summary.end, summary.resources,
            price=self.fmt.price(summary.price_minor, summary.currency),
            customer=customer, answers=answers,
        )
        base = self.settings.base_url
        return View(
            "widget/_confirmation.html",
            {
                "rows": service_rows,
                "customer": customer,
                "manage_url": links.manage_url(base, summary.manage_token),
                "ics_url": links.manage_calendar_url(base, summary.manage_token),
                "again_url": self.state.view_only().url(),
                "announce": self._("Your booking is confirmed."),
            },
        )


def bare_context(request: Request) -> dict[str, Any]:
    """Context of a page without a site (unknown slug): English or the browser's language."""
    locale = negotiate(
        request.query_params.get("locale"), request.headers.get("accept-language"), None
    )
    return {
        "lang": locale,
        "site": None,
        "state": None,
        "host": None,
        "theme_url": theme_url(request.path_params.get("site", "x"), DEFAULT_ACCENT),
        "script_url": script_url(request.path_params.get("site", "x")),
        "htmx_config": HTMX_CONFIG,
        **template_gettext(locale),
    }
