"""iCalendar files for a booking, built with the icalendar library.

The UID is stable per booking (``{uid}@slotwise``) and SEQUENCE follows the
booking's own counter, so a calendar that imported the first file updates
the same event when a later one arrives. Times are written in UTC.
"""

from __future__ import annotations

import re
from datetime import datetime

from icalendar import Calendar, Event, vCalAddress, vText

from slotwise.domain.model import Booking

PRODID = "-//Slotwise//Booking//EN"


def booking_uid(record: Booking) -> str:
    return f"{record.uid}@slotwise"


def booking_calendar(record: Booking, *, manage_url: str, now: datetime, method: str = "PUBLISH") -> bytes:
    """One VEVENT for the booking. ``method``: PUBLISH (download), REQUEST or CANCEL (email).

    It is the customer's calendar entry: names in the booking's language and,
    when the service lists another duration than it blocks, the listed end.
    """
    record = record.for_customer()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)

    event = Event()
    event.add("uid", booking_uid(record))
    event.add("dtstamp", now)
    event.add("dtstart", record.start)
    event.add("dtend", record.end)
    event.add("sequence", record.sequence)
    event.add("summary", f"{record.service.name} – {record.site.name}")
    people = ", ".join(r.name for r in record.resources)
    description = [record.service.name]
    if people:
        description.append(people)
    description.append(f"Manage or cancel: {manage_url}")
    # icalendar escapes commas, semicolons and newlines of text values (RFC 5545 3.3.11).
    event.add("description", "\n".join(description))
    # Where to go: the business and its address (calendar apps link it to a map).
    event.add("location", ", ".join(p for p in (record.site.name, record.site.address) if p))
    event.add("url", manage_url)
    cancelled = record.status == "cancelled" or method == "CANCEL"
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if record.site.contact_email:
        organizer = vCalAddress(f"mailto:{record.site.contact_email}")
        organizer.params["cn"] = vText(record.site.name)
        event.add("organizer", organizer)
    calendar.add_component(event)
    return calendar.to_ical()


def fill_calendar(data: bytes, placeholder: str, value: str) -> bytes:
    """Replace ``placeholder`` in an iCalendar file, wherever line folding split it.

    RFC 5545 folds lines at 75 octets, so the text is unfolded first and the
    calendar re-serialised (and re-folded) by icalendar afterwards.
    """
    unfolded = re.sub(rb"\r\n[ \t]", b"", data)
    if placeholder.encode() not in unfolded:
        return data
    return Calendar.from_ical(unfolded.replace(placeholder.encode(), value.encode())).to_ical()
