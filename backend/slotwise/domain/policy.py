"""What may still be done with a booking. Pure: every fact, ``now`` included, is an argument.

Worked example: a booking starts Tuesday 10:00 with ``cancel_until`` 24 h.
A customer may cancel it until Monday 10:00 (inclusive) and is refused from
Monday 10:00:01 on with the reason "too-late". The same shape holds for
moving it with ``reschedule_until``, plus a cap on how often one booking may
be moved. Staff (``Rules.STAFF``) are bound by neither cut-off nor cap: they
may cancel or move any booking that is not cancelled, at any time; the new
time of a move must still be bookable, which the availability engine decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from slotwise.domain.actors import Rules
from slotwise.domain.model import Service, Site


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    reason: str | None = None  # "cancelled" | "started" | "too-late" | "too-many-moves"
    deadline: datetime | None = None  # until when it was (or is) allowed

    def __bool__(self) -> bool:
        return self.allowed


def _before_cut_off(status: str, start: datetime, now: datetime, cut_off: timedelta) -> Verdict:
    """The checks both changes share: not cancelled, not started, not past the cut-off."""
    deadline = start - cut_off
    if status == "cancelled":
        return Verdict(False, "cancelled", deadline)
    if now >= start:
        return Verdict(False, "started", deadline)
    if now > deadline:
        return Verdict(False, "too-late", deadline)
    return Verdict(True, None, deadline)


def may_cancel(*, status: str, start: datetime, now: datetime, cancel_until: timedelta) -> Verdict:
    return _before_cut_off(status, start, now, cancel_until)


def may_reschedule(
    *, status: str, start: datetime, now: datetime, reschedule_until: timedelta,
    reschedules_done: int, max_reschedules: int,
) -> Verdict:
    verdict = _before_cut_off(status, start, now, reschedule_until)
    if verdict and reschedules_done >= max_reschedules:
        return Verdict(False, "too-many-moves", verdict.deadline)
    return verdict


def refused_from_the_start(verdict: Verdict, *, booked_at: datetime, reschedules_done: int) -> bool:
    """Whether a refusal already held when the booking was made.

    A booking made 10 hours before its start under a 24-hour cut-off was never
    cancellable online: its deadline (14 hours before the booking was made) is
    no news to tell the customer. The same for moving when no move at all is
    allowed (a cap of 0, none done yet).
    """
    if verdict.reason == "too-late":
        return verdict.deadline is not None and verdict.deadline <= booked_at
    return verdict.reason == "too-many-moves" and reschedules_done == 0


def _staff(status: str) -> Verdict:
    return Verdict(False, "cancelled") if status == "cancelled" else Verdict(True)


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Until when a booking may still be changed online; None where it may not (any more)."""

    cancel: datetime | None
    reschedule: datetime | None


@dataclass(frozen=True, slots=True)
class ChangePolicy:
    """What a site lets customers change online for one service."""

    cancel_until: timedelta = timedelta(0)  # before the start
    reschedule_until: timedelta = timedelta(0)
    max_reschedules: int = 3

    @classmethod
    def of(cls, site: Site, service: Service) -> ChangePolicy:
        """Cut-offs come from the service, the cap on moves from the site."""
        return cls(
            cancel_until=timedelta(minutes=service.cancel_until_minutes),
            reschedule_until=timedelta(minutes=service.reschedule_until_minutes),
            max_reschedules=site.max_reschedules,
        )

    def cancel(self, *, status: str, start: datetime, now: datetime,
               rules: Rules = Rules.CUSTOMER) -> Verdict:
        if rules is not Rules.CUSTOMER:
            return _staff(status)
        return may_cancel(status=status, start=start, now=now, cancel_until=self.cancel_until)

    def reschedule(self, *, status: str, start: datetime, now: datetime, reschedules_done: int,
                   rules: Rules = Rules.CUSTOMER) -> Verdict:
        if rules is not Rules.CUSTOMER:
            return _staff(status)
        return may_reschedule(status=status, start=start, now=now, reschedule_until=self.reschedule_until,
                              reschedules_done=reschedules_done, max_reschedules=self.max_reschedules)

    def promise(self, *, start: datetime, now: datetime) -> Deadlines:
        """What a customer who books ``start`` at ``now`` may change online afterwards.

        Worked example: ``cancel_until`` 24 h, a time on Tuesday 10:00 chosen on
        Monday 08:00: cancelling stays possible until Monday 10:00. Chosen on
        Monday 11:00 instead, the cut-off has already passed: ``cancel`` is None
        (the booking can only be changed by contacting the business). With
        ``max_reschedules`` 0 ``reschedule`` is always None.
        """
        return self.deadlines(status="confirmed", start=start, now=now, reschedules_done=0)

    def deadlines(self, *, status: str, start: datetime, now: datetime, reschedules_done: int) -> Deadlines:
        """What a message sent at ``now`` may promise the customer: the cut-offs still ahead."""
        cancel = self.cancel(status=status, start=start, now=now)
        move = self.reschedule(status=status, start=start, now=now, reschedules_done=reschedules_done)
        return Deadlines(cancel=cancel.deadline if cancel else None,
                         reschedule=move.deadline if move else None)
