"""The page state as it travels in URLs and hidden fields, and the helpers that read it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from slotwise.domain.model import Resource, Site
from slotwise.domain.limits import within_calendar
from slotwise.domain.origins import is_origin, origin_of
from slotwise.i18n import negotiate
from slotwise.services import availability as availability_service
from slotwise.services import bookings as booking_service
from slotwise.services.availability import AvailableSlot, parse_zone
from slotwise.settings import Settings
from slotwise.web.booking.assets import parse_accent

_WID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_HELD = re.compile(
    r"^([A-Za-z0-9_-]{16,64})\.(\d{9,11})\.(\d{9,11})(?:\.([A-Za-z0-9_,-]{1,200}))?$"
)


@dataclass(frozen=True, slots=True)
class PageState:
    """Everything a step needs to know, as it travels in URLs and hidden fields."""

    site: str
    locale: str
    tz: str  # the customer's IANA zone
    service: str | None = None
    resource: str | None = None  # a key, "any", or None: not chosen yet
    month: date | None = None  # first day of the month shown
    day: date | None = None
    times: str | None = None  # "site": times in the business's zone
    embed: bool = False
    accent: str | None = None  # "rrggbb", only when given in the URL
    wid: str | None = None
    host: str | None = None  # an accepted origin of the embedding page
    # The hold the customer already has ("token.start.until.keys", epoch seconds),
    # kept on the way back from the form: picking the same time again reuses it
    # instead of running into one's own hold.
    held: str | None = None

    def params(self, **changes: Any) -> list[tuple[str, str]]:
        """Query parameters of this state with ``changes`` applied (None drops one).

        Extra names (``start``, ``hold``, ``until``, ``booked``) are appended
        after the step's own; the view parameters always come last.
        """
        values: dict[str, Any] = {
            "service": self.service,
            "resource": self.resource,
            "month": self.month.strftime("%Y-%m") if self.month else None,
            "date": self.day.isoformat() if self.day else None,
            "held": self.held,
        }
        for key, value in changes.items():
            key = "date" if key == "day" else key
            if key == "month" and isinstance(value, date):
                value = value.strftime("%Y-%m")
            elif key == "date" and isinstance(value, date):
                value = value.isoformat()
            values[key] = value
        values.update(
            times=self.times,
            tz=self.tz,
            locale=self.locale,
            embed="1" if self.embed else None,
            accent=self.accent,
            wid=self.wid,
            host=self.host,
        )
        return [(k, str(v)) for k, v in values.items() if v not in (None, "")]

    def url(self, **changes: Any) -> str:
        return f"/book/{self.site}?{urlencode(self.params(**changes))}"

    def view_only(self) -> PageState:
        """This state without any step: the service list, seen the same way."""
        return replace(self, service=None, resource=None, month=None, day=None, held=None)

    @property
    def resource_key(self) -> str | None:
        """The chosen resource, None for "any"."""
        return None if self.resource in (None, "", "any") else self.resource


def parse_month(raw: str | None) -> date | None:
    match = _MONTH.match(raw or "")
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= year <= 9999:
        return None
    return date(year, month, 1) if 1 <= month <= 12 and within_calendar(date(year, 1, 1)) else None


def parse_day(raw: str | None) -> date | None:
    try:
        day = date.fromisoformat(raw) if raw and len(raw) == 10 else None
    except ValueError:
        return None
    return day if day is not None and within_calendar(day) else None


def accepted_host(raw: str | None, site: Site, settings: Settings) -> str | None:
    """The embedding page's origin if postMessage may go there: an allowed origin or our own."""
    if not raw:
        return None
    host = raw.strip().rstrip("/").lower()
    if not is_origin(host):
        return None
    allowed = {o.rstrip("/").lower() for o in site.allowed_origins} | {
        origin_of(settings.base_url).lower()
    }
    return host if host in allowed else None


def read_state(
    site: Site,
    values: Mapping[str, str],
    *,
    accept_language: str | None,
    settings: Settings,
) -> PageState:
    """The page state from query parameters or form fields; anything invalid falls back to a default."""
    tz = values.get("tz") or ""
    zone = parse_zone(tz) if tz else None
    wid = values.get("wid") or ""
    day = parse_day(values.get("date"))
    return PageState(
        site=site.slug,
        locale=negotiate(values.get("locale"), accept_language, site.locale),
        tz=zone.key if zone else site.timezone,
        service=values.get("service") or None,
        resource=values.get("resource") or None,
        month=day.replace(day=1) if day else parse_month(values.get("month")),
        day=day,
        times="site" if values.get("times") == "site" else None,
        embed=values.get("embed") in ("1", "true"),
        accent=parse_accent(values.get("accent")),
        wid=wid if _WID.match(wid) else None,
        host=accepted_host(values.get("host"), site, settings),
        held=values.get("held") if _HELD.match(values.get("held") or "") else None,
    )


def held_hold(state: PageState, start: datetime, now: datetime) -> tuple[str, datetime, str] | None:
    """The customer's own live hold on ``start`` (token, expiry, resource keys), if the page carries one."""
    match = _HELD.match(state.held or "")
    if not match:
        return None
    token, held_start, until = match.group(1), int(match.group(2)), int(match.group(3))
    expires = datetime.fromtimestamp(until, UTC)
    if held_start != int(start.timestamp()) or expires <= now:
        return None
    return token, expires, match.group(4) or ""


def held_token(state: PageState) -> str | None:
    """The token of the hold the page carries, live or not: a new pick replaces it."""
    match = _HELD.match(state.held or "")
    return match.group(1) if match else None


def held_param(
    token: str, start: datetime, until: datetime, resources: Iterable[Resource]
) -> str:
    keys = ",".join(r.key for r in resources)
    return f"{token}.{int(start.timestamp())}.{int(until.timestamp())}" + (
        f".{keys}" if keys else ""
    )


def instant(value: datetime) -> str:
    """An instant for URLs and hidden fields: UTC, whole seconds."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def zone_label(zone: ZoneInfo) -> str:
    """An IANA name as people read it: "America/New_York" → "America/New York"."""
    return zone.key.replace("_", " ")


def frame_ancestors(site: Site | None, settings: Settings) -> list[str]:
    if site is None:
        return []
    return [*site.allowed_origins, origin_of(settings.base_url)]


def held_resources(
    offer: availability_service.Offer, keys: str | None
) -> tuple[Resource, ...]:
    """The resources a hold took, from the ``with`` parameter ("anna,room-1")."""
    return tuple(offer.resources[k] for k in (keys or "").split(",") if k in offer.resources)


def own_hold(
    state: PageState, offer: availability_service.Offer, start: datetime, now: datetime
) -> booking_service.HoldResult | None:
    """The hold the customer already has on ``start``: they went back and picked that time again."""
    own = held_hold(state, start, now)
    if own is None:
        return None
    token, expires, keys = own
    return booking_service.HoldResult(
        token=token,
        expires_at=expires,
        slot=AvailableSlot(
            start=start,
            end=start + offer.service.rules.duration,
            resources=held_resources(offer, keys),
            seats_left=0,
        ),
    )
