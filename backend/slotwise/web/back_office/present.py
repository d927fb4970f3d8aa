"""The day view as a grid, and a booking as the panel shows it: pure, from a DaySheet or a Detail.

The grid counts rows of five minutes from the first hour shown; a block's
row and span become the classes ``at-N`` and ``len-N`` (admin.css defines
them), because the page's CSP allows no inline styles.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from markupsafe import Markup, escape

from slotwise.domain.model import HistoryEntry, Service
from slotwise.i18n import Formatter
from slotwise.services.day_sheet import DayBooking, DaySheet

SHORT_DAY = {"en": "EEE d MMM", "de": "EEE, d. MMM"}  # a week's column heads: "Mon 30 Nov"
ROW_MINUTES = 5
MAX_ROWS = 24 * 60 // ROW_MINUTES
DEFAULT_HOURS = (8, 18)  # shown when nothing is open or booked that day


# Entry and Block are made by the hundred for a busy day and never changed
# after: plain slotted classes, as a frozen dataclass's __init__ costs about
# three times as much (it sets each field through object.__setattr__).
@dataclass(slots=True)
class Entry:
    """One booking inside a block: a link to its panel."""

    id: str  # bkg_…
    customer: str
    href: str  # its panel's address


@dataclass(slots=True)
class Block:
    """A box in a column, with every string the template writes made once, here."""

    at: int  # first row (1-based, in grid rows)
    length: int  # rows
    kind: str  # booking | held | off | closed
    label: str
    css: str  # its classes after "block": kind, row, span, and "group" when bookings share it
    entries: tuple[Entry, ...] = ()
    ref: str = ""  # time off: its off_… id (the day view links to freeing it)
    said: str = ""  # what a screen reader hears after each name: ", 09:00–09:45, Massage[, 3/8 seats]"
    meta: str = ""  # the line shown under the names: "09:00–09:45 · Massage[ · 3/8 seats]"
    # The entries' links as HTML, made here: a busy day has hundreds, and a
    # template loop spent more on attribute look-ups and escaping than the rest
    # of the page (docs/decisions.md, the day view). Names are escaped here.
    links: Markup = field(default_factory=Markup)


def _block(at: int, length: int, kind: str, label: str, ref: str = "") -> Block:
    """A block without bookings: closed hours, time off, a live hold."""
    return Block(at, length, kind, label, f"{kind} at-{at} len-{length}", ref=ref)


@dataclass(slots=True)
class Column:
    key: str
    name: str
    kind: str
    blocks: list[Block] = field(default_factory=list)
    closed: bool = False


@dataclass(frozen=True, slots=True)
class Grid:
    day: date
    first_hour: int
    rows: int
    hours: list[tuple[int, str]]  # (row, "09:00")
    columns: list[Column]
    now_row: int | None
    count: int  # bookings that day (what the live region announces)


def _minute(value: datetime, day: date, zone: ZoneInfo) -> int:
    """Minutes since the day's local midnight (negative before, past 1440 after)."""
    local = value.astimezone(zone)
    if local.date() == day:
        return local.hour * 60 + local.minute
    return int((local - datetime.combine(day, time(), zone)).total_seconds() // 60)


def hours_shown(sheet: DaySheet) -> tuple[int, int]:
    """The first and the last (exclusive) hour the grid shows: at least 08-18, and every opening and booking."""
    day, zone = sheet.day, sheet.zone
    # Bookings share a few times: each distinct (start, end) converted once.
    spans = [(max(0, _minute(start, day, zone)), min(1440, _minute(end, day, zone)))
             for start, end in {(b.start, b.end) for b in sheet.bookings}]
    spans += [r for opening in sheet.openings.values() for r in opening.ranges]
    first = min((s for s, _ in spans), default=DEFAULT_HOURS[0] * 60) // 60
    last = -(-max((e for _, e in spans), default=DEFAULT_HOURS[1] * 60) // 60)
    return min(first, DEFAULT_HOURS[0]), max(last, DEFAULT_HOURS[1])


def grid(sheet: DaySheet, fmt: Formatter, now: datetime, *, texts: dict[str, str],
         hours: tuple[int, int] | None = None) -> Grid:
    day, zone = sheet.day, sheet.zone
    first, last = hours or hours_shown(sheet)
    base = first * 60
    rows = (last - first) * 60 // ROW_MINUTES

    def place(start_minute: int, end_minute: int) -> tuple[int, int] | None:
        start_minute, end_minute = max(start_minute, base), min(end_minute, last * 60)
        if end_minute <= start_minute:
            return None
        at = (start_minute - base) // ROW_MINUTES + 1
        return at, max(1, -(-(end_minute - start_minute) // ROW_MINUTES))

    columns = {r.key: Column(r.key, r.name_in(fmt.locale), str(r.kind)) for r in sheet.resources}
    for key, opening in sheet.openings.items():
        column = columns[key]
        column.closed = not opening.ranges
        cursor = base
        for start_minute, end_minute in [*sorted(opening.ranges), (last * 60, last * 60)]:
            spot = place(cursor, start_minute)
            if spot:
                column.blocks.append(_block(*spot, "closed", texts["closed"]))
            cursor = max(cursor, end_minute)
    for entry in sheet.time_off:
        if entry.resource not in columns:
            continue
        spot = place(_minute(entry.start, day, zone), _minute(entry.end, day, zone))
        if spot:
            columns[entry.resource].blocks.append(_block(*spot, "off", entry.reason or texts["off"],
                                                         ref=entry.public_id))
    for held in sheet.holds:
        spot = place(_minute(held.start, day, zone), _minute(held.end, day, zone)) if held.resource in columns else None
        if spot:
            columns[held.resource].blocks.append(_block(*spot, "held", texts["held"]))
    _booking_blocks(sheet, fmt, columns, place)
    now_row = None
    if now.astimezone(zone).date() == day:
        minute = _minute(now, day, zone)
        if base <= minute < last * 60:
            now_row = (minute - base) // ROW_MINUTES + 1
    hours = [((h - first) * 60 // ROW_MINUTES + 1, fmt.time(datetime.combine(day, time(h), zone)))
             for h in range(first, last)]
    return Grid(day, first, rows, hours, list(columns.values()), now_row, len(sheet.bookings))


def _booking_blocks(sheet: DaySheet, fmt: Formatter, columns: dict[str, Column],
                    place: Callable[[int, int], tuple[int, int] | None]) -> None:
    """A block per column, service and start, with its bookings' links (a group session's seats in one).

    A busy day repeats a few times and services over a hundred bookings, so
    each distinct time is converted and formatted once, and each (service,
    start, end, bookings in it) gets its lines once, whatever the column.
    """
    day, zone = sheet.day, sheet.zone
    groups: dict[tuple[str, str, datetime], list[DayBooking]] = defaultdict(list)
    for booking in sheet.bookings:
        for key in booking.resources:
            if key in columns:
                groups[(key, booking.service, booking.start)].append(booking)
    minutes: dict[datetime, int] = {}
    clocks: dict[datetime, str] = {}
    for value in {t for b in sheet.bookings for t in (b.start, b.end)}:
        minutes[value] = _minute(value, day, zone)
        clocks[value] = fmt.time(value.astimezone(zone))
    names: dict[str, str] = {}  # by service slug
    # (css, said, meta) by service, start, end and how many bookings share the block
    lines: dict[tuple[str, datetime, datetime, int], tuple[str, str, str]] = {}
    panel = f"/admin/sites/{sheet.site.slug}/bookings/"
    for (key, slug, start), members in sorted(groups.items(), key=lambda item: item[0][2]):
        first = members[0]
        spot = place(minutes[first.start], minutes[first.end])
        if not spot:
            continue
        service: Service | None = sheet.services.get(slug)
        seats = service.rules.seats if service else 1
        if slug not in names:
            names[slug] = service.name_in(fmt.locale) if service else slug
        shown = lines.get((slug, first.start, first.end, len(members)))
        if shown is None:
            taken = len(members) if seats > 1 else 0
            parts = [f"{clocks[first.start]}–{clocks[first.end]}", names[slug]]
            if taken:
                parts.append(fmt.gettext("%(seats)s seats", seats=f"{taken}/{seats}"))
            group = " group" if len(members) > 1 else ""
            shown = lines[(slug, first.start, first.end, len(members))] = (
                f"booking at-{spot[0]} len-{spot[1]}{group}", "".join(", " + part for part in parts),
                " · ".join(parts))
        css, said, meta = shown
        entries = tuple(Entry(b.id, b.customer, panel + b.id) for b in members)
        columns[key].blocks.append(Block(*spot, "booking", names[slug], css, entries, said=said, meta=meta,
                                         links=_links(entries, escape(key), escape(said))))


def _links(entries: tuple[Entry, ...], key: Markup, said: Markup) -> Markup:
    """Each booking's link to its panel, its name read with the block's time and service.

    The customer's name is escaped here, the column key and the service's line
    by the caller; ids (``bkg_`` and hex) and hrefs (a validated site slug and
    that id) are Slotwise's own.
    """
    return Markup("\n".join(
        f'<a class="b-link" id="b-{entry.id}-{key}" href="{entry.href}">{escape(entry.customer)}'
        f'<span class="visually-hidden">{said}</span></a>' for entry in entries))


def history_line(entry: HistoryEntry, fmt: Formatter, zone: ZoneInfo) -> dict[str, Any]:
    """One history entry: when, who, what (moves with their from and to, in the site's zone)."""
    data = dict(entry.data)
    detail = ""
    if entry.kind == "rescheduled" and data.get("from") and data.get("to"):
        detail = fmt.gettext("from %(old)s to %(new)s",
                             old=fmt.moment(datetime.fromisoformat(data["from"]).astimezone(zone)),
                             new=fmt.moment(datetime.fromisoformat(data["to"]).astimezone(zone)))
    elif entry.kind == "cancelled" and data.get("reason"):
        detail = str(data["reason"])
    elif entry.kind == "message":
        channel = {"email": fmt.gettext("Email"), "sms": fmt.gettext("Text message")}.get(
            str(data.get("channel")), str(data.get("channel") or ""))
        detail = channel
    kinds = {"customer": fmt.gettext("the customer"), "system": fmt.gettext("Slotwise (automatic)"),
             "api_key": fmt.gettext("an API key"), "account": fmt.gettext("a team member")}
    kind = str(entry.actor.kind)
    # A customer's label is how they came (widget, manage link): the kind says more.
    label = entry.actor.label if kind in {"account", "api_key"} and entry.actor.label else kinds.get(kind, kind)
    return {"kind": entry.kind, "at": fmt.moment(entry.at.astimezone(zone)),
            "actor": label, "actor_kind": str(entry.actor.kind),
            "detail": detail, "override": bool(data.get("override"))}


def neighbours(day: date) -> tuple[date, date]:
    return day - timedelta(days=1), day + timedelta(days=1)


def row_classes() -> str:
    """The CSS of the grid's row classes (admin.css holds its output; kept here to regenerate it)."""
    return "\n".join([f".at-{n}{{grid-row-start:{n}}}" for n in range(1, MAX_ROWS + 1)]
                     + [f".len-{n}{{grid-row-end:span {n}}}" for n in range(1, MAX_ROWS + 1)])


def message_line(row: dict[str, Any], fmt: Formatter, zone: ZoneInfo) -> dict[str, Any]:
    """One message of a booking: what, how, to whom, and its delivery state, in words."""
    events = {"confirmed": fmt.gettext("Confirmation"), "rescheduled": fmt.gettext("Moved notice"),
              "cancelled": fmt.gettext("Cancellation notice"), "reminder": fmt.gettext("Reminder"),
              "message": fmt.gettext("Own message")}
    states = {"queued": fmt.gettext("queued"), "sending": fmt.gettext("sending"), "sent": fmt.gettext("sent"),
              "failed": fmt.gettext("failed"), "dropped": fmt.gettext("not sent"),
              "sandboxed": fmt.gettext("kept (sandbox)")}
    channels = {"email": fmt.gettext("Email"), "sms": fmt.gettext("Text message")}
    event = str(row["event"])
    if event.startswith("staff-"):  # the team's own note of a change (notify_email)
        label = fmt.gettext("Team note: %(event)s", event=events.get(event.removeprefix("staff-"), event))
    else:
        label = events.get(event, event)
    return {"event": label, "channel": channels.get(row["channel"], row["channel"]),
            "recipient": row["recipient"], "status": states.get(row["status"], row["status"]),
            "failed": row["status"] in {"failed", "dropped"}, "last_error": row.get("last_error"),
            "at": fmt.moment((row["sent_at"] or row["send_at"]).astimezone(zone))}


def week_grid(sheets: list[DaySheet], resource: str, fmt: Formatter, now: datetime, *,
              texts: dict[str, str]) -> Grid:
    """One resource's days side by side: a column per day, on one common range of hours."""
    spans = [hours_shown(sheet) for sheet in sheets]
    hours = (min(a for a, _ in spans), max(b for _, b in spans))
    columns: list[Column] = []
    now_row, count, shown = None, 0, None
    for sheet in sheets:
        shown = grid(sheet, fmt, now, texts=texts, hours=hours)
        for column in shown.columns:
            if column.key == resource:
                column.key = sheet.day.isoformat()
                column.name = format_date(sheet.day, SHORT_DAY[fmt.locale], locale=fmt.babel_locale)
                for block in column.blocks:  # the links' ids name their column: the day now
                    if block.entries:
                        block.links = _links(block.entries, escape(column.key), escape(block.said))
                columns.append(column)
        now_row = now_row or shown.now_row
        count += shown.count
    assert shown is not None
    return Grid(sheets[0].day, hours[0], shown.rows, shown.hours, columns, None, count)
