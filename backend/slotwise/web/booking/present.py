"""Presenters: how one request shows times, people, prices and summaries, in its language and zones.

Plain formatting, no I/O: a :class:`Presenter` is built from the site and the
page state and turns domain values into the strings and rows the templates
print. The booking page's steps and the manage pages share it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from slotwise.domain.model import ResourceKind, Service, Site
from slotwise.domain.policy import Deadlines
from slotwise.i18n import Formatter
from slotwise.services.availability import AvailableSlot
from slotwise.web.booking.state import PageState, zone_label


def unbroken(text: str) -> str:
    """``text`` with its spaces and hyphens made non-breaking ("+49 40 123" stays on one line)."""
    return text.replace(" ", "\u00a0").replace("-", "\u2011")


class Named(Protocol):
    """A resource as a summary names it: a full resource or a booking's reference to one."""

    key: str
    name: str
    kind: ResourceKind

    def name_in(self, locale: str | None) -> str: ...


class Presenter:
    """Formatting for one request: the site, the customer's language and zone, the zone times are shown in."""

    def __init__(self, site: Site, state: PageState) -> None:
        self.site = site
        self.state = state
        self.fmt = Formatter(state.locale)
        self._ = self.fmt.gettext
        self.site_zone = ZoneInfo(site.timezone)
        self.customer_zone = ZoneInfo(state.tz)
        # Times are shown in the customer's zone unless they asked for the business's.
        self.zone = self.site_zone if state.times == "site" else self.customer_zone

    def place(self, zone: ZoneInfo) -> str:
        """The zone's city: "Europe/Berlin" → "Berlin"."""
        return zone.key.rsplit("/", 1)[-1].replace("_", " ")

    def business_time(self, instant: datetime, zone: ZoneInfo | None = None) -> str | None:
        """The business's time, "09:30 in Berlin", when its clock differs from the one shown."""
        shown_at = instant.astimezone(zone or self.zone)
        there = instant.astimezone(self.site_zone)
        if shown_at.utcoffset() == there.utcoffset():
            return None
        return self._("%(time)s in %(place)s", time=self.fmt.time(there),
                      place=self.place(self.site_zone))

    def when(self, start: datetime, zone: ZoneInfo | None = None) -> str:
        """Day and time in the displayed zone, or ``zone``, plus the business's time where it differs."""
        text = self.fmt.moment(start.astimezone(zone or self.zone))
        other = self.business_time(start, zone)
        return f"{text} ({other})" if other else text

    def who(self, resources: Sequence[Named]) -> str | None:
        """Whom the first group gives: "with Anna Berg" for a person, the bare name otherwise."""
        if not resources:
            return None
        first = resources[0]
        name = first.name_in(self.state.locale)
        return self._("with %(name)s", name=name) if first.kind == ResourceKind.PERSON else name

    def zone_note(self, here: Any) -> dict[str, str] | None:
        """Which zone times are in, and a link to the other one when the customer's differs.

        ``here(**changes)`` is the URL of the same step with the state changed.
        """
        if self.customer_zone.key == self.site_zone.key:
            return None
        if self.state.times == "site":
            return {
                "text": self._("Times are shown in %(site)s's time zone (%(zone)s).",
                               site=self.site.name, zone=zone_label(self.site_zone)),
                "switch_url": here(times=None),
                "switch_text": self._("Show my time zone (%(zone)s)", zone=zone_label(self.customer_zone)),
            }
        return {
            "text": self._("Times are shown in your time zone (%(zone)s).",
                           zone=zone_label(self.customer_zone)),
            "switch_url": here(times="site"),
            "switch_text": self._("Show %(site)s's time zone (%(zone)s)", site=self.site.name,
                                  zone=zone_label(self.site_zone)),
        }

    def service_rows(self, service: Service, *, who: str | None = None,
                     start: datetime | None = None) -> list[tuple[str, str]]:
        """Summary rows of what is being booked; ``who`` names whom or what the customer gets."""
        locale = self.state.locale
        rows = [(self._("Service"), f"{service.name_in(locale)} · {self.fmt.duration(service.listed_minutes)}")]
        if who:
            rows.append((self._("With"), who))
        if start is not None:
            rows.append((self._("When"), self.when(start)))
        price = self.fmt.price(service.price_minor, service.currency)
        if price:
            rows.append((self._("Price"), price))
        return rows

    def slot(self, slot: AvailableSlot, service: Service, *, current: datetime | None = None) -> dict[str, Any]:
        """A free time as a button: "Tuesday 24 November, 10:30, with Anna Berg".

        Whom is named when the customer could have chosen, or when it is a
        person. ``current`` is the start of a booking being moved: that slot
        is marked as its current time.
        """
        start = slot.start.astimezone(self.zone)
        named = service.offers_choice or bool(
            slot.resources and slot.resources[0].kind == ResourceKind.PERSON)
        who = self.who(slot.resources) if named else None
        business = self.business_time(slot.start)
        seats = (self.fmt.ngettext("%(num)s place left", "%(num)s places left", slot.seats_left)
                 if service.seats > 1 else None)
        marked = self._("your current time") if current is not None and slot.start == current else None
        # Whom is shown on the button unless the customer picked that person.
        shown_who, hidden_who = (who, None) if self.state.resource_key is None else (None, who)
        # The label holds the button's visible text in its visible order (as
        # speech-input users say it: WCAG 2.5.3), then the day and the rest.
        visible = (self.fmt.time(start), shown_who, business, seats, marked)
        label = ", ".join(p for p in (self.fmt.day(start), *visible, hidden_who) if p)
        return {
            "value": start.isoformat(),
            "time": self.fmt.time(start),
            "who": shown_who,
            "business_time": business,
            "seats": seats,
            "current": marked,
            "label": label,
        }

    def short_moment(self, instant: datetime) -> str:
        """Day without the year and time in the customer's zone: "Monday 23 November, 09:00"."""
        local = instant.astimezone(self.customer_zone)
        return self._("%(day)s, %(time)s", day=self.fmt.day(local), time=self.fmt.time(local))

    def policy_note(self, promise: Deadlines) -> str:
        """What the customer may change online once booked (``ChangePolicy.promise``), in one sentence."""
        cancel, move = promise.cancel, promise.reschedule
        if cancel and move and cancel == move:
            return self._("Free cancellation and changes online until %(until)s.",
                          until=self.short_moment(cancel))
        if cancel and move:
            return self._("Free cancellation online until %(cancel)s; the time can be changed until %(move)s.",
                          cancel=self.short_moment(cancel), move=self.short_moment(move))
        if cancel:
            return self._("Free cancellation online until %(until)s. The time cannot be changed online.",
                          until=self.short_moment(cancel))
        if move:
            return self._("The time can be changed online until %(until)s. "
                          "Cancelling is not possible online.", until=self.short_moment(move))
        return self._("Once booked, this appointment cannot be changed or cancelled online.")

    def answer_rows(self, service: Service, answers: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The booked answers as (label, answer) rows, in the service's order; Yes/No for ticks."""
        rows = []
        for question in service.questions:
            if question.key in answers:
                value = answers[question.key]
                if isinstance(value, bool):
                    value = self._("Yes") if value else self._("No")
                elif question.options:
                    value = question.option_in(str(value), self.state.locale)
                rows.append((question.label_in(self.state.locale) or question.key, str(value)))
        return rows

    def booked_rows(
        self, service_name: str, start: datetime, end: datetime, resources: Sequence[Named], *,
        price: str | None, customer: Mapping[str, str | None] | None = None,
        answers: Sequence[tuple[str, str]] = (), status: str | None = None, address: str | None = None,
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
                # A phone number is read as one word: it wraps as a whole, never at its spaces.
                rows.append((self._("Phone"), unbroken(customer["phone"] or "")))
        address = address or (customer or {}).get("address")
        if address:
            rows.append((self._("Address"), address))
        return rows + list(answers)
