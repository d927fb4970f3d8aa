"""The one hook every booking change runs, inside the change's own transaction.

Whoever changes a booking (a customer through the widget, the API or a manage
link; staff; the system) and however (book, move, cancel), the change ends
here: its history entry is written, reminders that no longer apply are
dropped, and the messages it causes are queued in the outbox, with the writes to
staff calendars (services/calendars.py) and the webhook event for the site's endpoints. Because it runs in the same transaction, a change and what it
announces exist together or not at all, and nothing is sent before commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from slotwise.domain.actors import Actor
from slotwise.domain.model import Booking, HistoryEntry, Service, Site
from slotwise.persistence import history, outbox
from slotwise.services.calendars import queue_writes
from slotwise.services.config import ServiceConfig
from slotwise.services.notifications import SiteMessaging, queue_booking_messages, queue_team_notes
from slotwise.services.webhooks import queue_booking_event


class ChangeKind(StrEnum):
    BOOKED = "booked"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"


# The message event each change announces to the customer (docs/messages.md).
MESSAGE_EVENT = {
    ChangeKind.BOOKED: "confirmed",
    ChangeKind.RESCHEDULED: "rescheduled",
    ChangeKind.CANCELLED: "cancelled",
}


@dataclass(frozen=True, slots=True)
class BookingChange:
    """What happened: ``booking`` as it is after the change.

    ``previous_start`` is the start before a move; ``reason`` why it was
    cancelled; ``override`` that the new time took staff's override. ``notify`` False keeps the customer's messages back (staff
    moving a booking they already agreed on the phone); the history is
    written all the same.
    """

    kind: ChangeKind
    booking: Booking
    actor: Actor
    previous_start: datetime | None = None
    previous_resources: tuple[str, ...] = ()  # a move's resource keys before it
    reason: str | None = None
    notify: bool = True
    override: bool = False
    previous: Booking | None = None  # the booking before a move: its time and resources

    def history_data(self) -> dict[str, Any]:
        # ``override``: staff set aside hours, notice or advance for this time (Rules.OVERRIDE).
        marked = {"override": True} if self.override else {}
        if self.kind is ChangeKind.RESCHEDULED:
            assert self.previous_start is not None
            return {"from": self.previous_start.isoformat(), "to": self.booking.start.isoformat(), **marked}
        if self.kind is ChangeKind.CANCELLED:
            return {"reason": self.reason or ""}
        return {"start": self.booking.start.isoformat(), **marked}


async def after_change(
    change: BookingChange, *, site: Site, service: Service, config: ServiceConfig, now: datetime,
) -> None:
    """Record and announce ``change``. Call inside the transaction that made it."""
    booking = change.booking
    await history.add_entry(booking.id, str(change.kind), change.history_data(), actor=change.actor, at=now)
    if change.kind is not ChangeKind.BOOKED:
        # Reminders were queued for the old time (or for a booking now cancelled);
        # a move queues new ones below.
        await outbox.drop_queued(booking.id, events=("reminder",))
    # Staff calendars with write-back get the change too, whoever made it.
    await queue_writes(booking, now=now)
    queued: list[outbox.QueuedMessage] = []
    if change.notify:
        queued += await queue_booking_messages(
            booking, event=MESSAGE_EVENT[change.kind], site=SiteMessaging.of(site, service),
            messaging=config.messaging, now=now,
        )
    # The team hears of what customers do; a staff member, of what others do to their bookings.
    queued += await queue_team_notes(booking, event=MESSAGE_EVENT[change.kind], site=site, service=service,
                                     messaging=config.messaging, now=now, by=change.actor,
                                     previous_start=change.previous_start,
                                     previous_resources=change.previous_resources, reason=change.reason)
    # Last, so the event carries the history and messages just written, as GET …/bookings/{id} shows them.
    # A new booking's history and messages are exactly what this call wrote: the event
    # is built from them instead of reading them back.
    booked = change.kind is ChangeKind.BOOKED
    written = [HistoryEntry(str(change.kind), change.history_data(), now, change.actor)]
    await queue_booking_event(str(change.kind), booking, site=site, actor=change.actor, now=now,
                              previous=change.previous, history_entries=written if booked else None,
                              messages=queued if booked else None)
