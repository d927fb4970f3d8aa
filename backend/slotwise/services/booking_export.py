"""A site's bookings as CSV for spreadsheets, streamed page by page.

The rows come from the same keyset query as the admin list
(``booking_lists.list_bookings``, in (start, id) order), a page at a time, so
an export of any size holds one page in memory and never repeats or skips a
booking added meanwhile. The text is UTF-8 with a byte-order mark, which Excel
needs to read it as UTF-8.

**Formula injection**: a spreadsheet runs a cell that starts with ``=``,
``+``, ``-`` or ``@`` (and some treat a leading tab or carriage return the
same way) as a formula. Customers type their own names and answers, so every
such cell gets a leading ``'``, which spreadsheets show as text (OWASP's
advice). A phone number ``+49…`` is shown as ``'+49…``; that is the price.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import get_currency_precision

from slotwise.domain.model import Booking, Site
from slotwise.services import booking_lists

BOM = "\ufeff"
PAGE_SIZE = 200
FILTERS = ("from", "to", "resource", "service", "status")
COLUMNS = ("id", "status", "service", "start", "end", "resources", "customer_name", "customer_email",
           "customer_phone", "answers", "price", "currency", "created_at")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def _answer(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def answers_text(answers: Mapping[str, Any]) -> str:
    """``key: value; key: value``, in the order they were stored."""
    return "; ".join(f"{key}: {_answer(value)}" for key, value in answers.items())


def _price(booking: Booking) -> tuple[str, str]:
    if booking.price_minor is None or booking.currency is None:
        return "", ""
    digits = get_currency_precision(booking.currency)
    return f"{Decimal(booking.price_minor).scaleb(-digits):.{digits}f}", booking.currency


def row_of(booking: Booking, zone: ZoneInfo) -> list[str]:
    price, currency = _price(booking)
    cells = [
        booking_lists.public_id(booking), str(booking.status), booking.service.name,
        booking.start.astimezone(zone).isoformat(), booking.end.astimezone(zone).isoformat(),
        ", ".join(r.name for r in booking.resources), booking.customer.name, booking.customer.email,
        booking.customer.phone or "", answers_text(booking.answers), price, currency,
        booking.created_at.astimezone(zone).isoformat(),
    ]
    return [neutralise(cell) for cell in cells]


def _lines(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)  # RFC 4180: commas, quotes where needed, CRLF
    return out.getvalue()


async def bookings_csv(site: Site, params: Mapping[str, str | None], *,
                       visible: frozenset[str] | None) -> AsyncIterator[str]:
    """The CSV in chunks (one per page). The first page is read here, so bad filters fail before any byte is sent."""
    query = {name: params.get(name) for name in FILTERS} | {"limit": str(PAGE_SIZE)}
    first = await booking_lists.list_bookings(site, query, visible=visible)
    return _chunks(site, query, first, visible)


async def _chunks(site: Site, query: dict[str, str | None], page: booking_lists.Page,
                  visible: frozenset[str] | None) -> AsyncIterator[str]:
    zone = ZoneInfo(site.timezone)
    yield BOM + _lines([list(COLUMNS)])
    while True:
        if page.bookings:
            yield _lines([row_of(booking, zone) for booking in page.bookings])
        if page.next_cursor is None:
            return
        page = await booking_lists.list_bookings(site, {**query, "cursor": page.next_cursor}, visible=visible)


def filename(site: Site) -> str:
    return f"{site.slug}-bookings.csv"
