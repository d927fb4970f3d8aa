"""Cancel and reschedule policy at its boundaries."""

from datetime import UTC, datetime, timedelta

import pytest
from slotwise.domain.policy import ChangePolicy, Deadlines, may_cancel, may_reschedule, refused_from_the_start

START = datetime(2026, 11, 24, 9, tzinfo=UTC)
DAY = timedelta(hours=24)


@pytest.mark.parametrize(
    ("now", "status", "allowed", "reason"),
    [
        pytest.param(START - DAY - timedelta(seconds=1), "confirmed", True, None, id="a-second-before-the-cut-off"),
        pytest.param(START - DAY, "confirmed", True, None, id="exactly-at-the-cut-off"),
        pytest.param(START - DAY + timedelta(seconds=1), "confirmed", False, "too-late", id="a-second-after"),
        pytest.param(START, "confirmed", False, "started", id="at-the-start"),
        pytest.param(START - 2 * DAY, "cancelled", False, "cancelled", id="already-cancelled"),
    ],
)
def test_cancelling_is_allowed_until_the_cut_off(now, status, allowed, reason):
    verdict = may_cancel(status=status, start=START, now=now, cancel_until=DAY)

    assert (bool(verdict), verdict.reason) == (allowed, reason)
    assert verdict.deadline == START - DAY


@pytest.mark.parametrize(
    ("done", "allowed", "reason"),
    [
        pytest.param(2, True, None, id="below-the-cap"),
        pytest.param(3, False, "too-many-moves", id="at-the-cap"),
    ],
)
def test_rescheduling_stops_after_the_sites_maximum(done, allowed, reason):
    verdict = may_reschedule(status="confirmed", start=START, now=START - 2 * DAY,
                             reschedule_until=DAY, reschedules_done=done, max_reschedules=3)

    assert (bool(verdict), verdict.reason) == (allowed, reason)


def test_rescheduling_after_the_cut_off_is_too_late():
    verdict = may_reschedule(status="confirmed", start=START, now=START - timedelta(hours=1),
                             reschedule_until=DAY, reschedules_done=0, max_reschedules=3)

    assert verdict.reason == "too-late"


POLICY = ChangePolicy(cancel_until=DAY, reschedule_until=timedelta(hours=12), max_reschedules=2)


@pytest.mark.parametrize(
    ("now", "status", "done", "deadlines"),
    [
        pytest.param(START - 2 * DAY, "confirmed", 0, Deadlines(START - DAY, START - timedelta(hours=12)),
                     id="both-ahead"),
        pytest.param(START - timedelta(hours=13), "confirmed", 0, Deadlines(None, START - timedelta(hours=12)),
                     id="only-moving-left"),
        pytest.param(START - 2 * DAY, "confirmed", 2, Deadlines(START - DAY, None), id="moved-as-often-as-allowed"),
        pytest.param(START - 2 * DAY, "cancelled", 0, Deadlines(None, None), id="cancelled"),
        pytest.param(START - timedelta(hours=1), "confirmed", 0, Deadlines(None, None), id="both-passed"),
    ],
)
def test_deadlines_name_only_the_cut_offs_still_ahead(now, status, done, deadlines):
    assert POLICY.deadlines(status=status, start=START, now=now, reschedules_done=done) == deadlines


@pytest.mark.parametrize(
    ("now", "cap", "promise"),
    [
        pytest.param(START - 2 * DAY, 2, Deadlines(cancel=START - DAY, reschedule=START - DAY / 2),
                     id="booked-two-days-ahead-both-open"),
        pytest.param(START - DAY * 0.75, 2, Deadlines(cancel=None, reschedule=START - DAY / 2),
                     id="booked-18h-ahead-only-moving-open"),
        pytest.param(START - timedelta(hours=3), 2, Deadlines(cancel=None, reschedule=None),
                     id="booked-3h-ahead-nothing-open"),
        pytest.param(START - 2 * DAY, 0, Deadlines(cancel=START - DAY, reschedule=None),
                     id="no-moves-allowed"),
    ],
)
def test_the_promise_before_booking_names_the_cut_offs_still_ahead(now, cap, promise):
    policy = ChangePolicy(cancel_until=DAY, reschedule_until=DAY / 2, max_reschedules=cap)

    assert policy.promise(start=START, now=now) == promise


@pytest.mark.parametrize(
    ("booked_at", "now", "done", "refused_from_start"),
    [
        pytest.param(START - 2 * DAY, START - DAY / 2, 0, False, id="deadline-passed-after-booking"),
        pytest.param(START - DAY / 2, START - DAY / 4, 0, True, id="booked-after-the-deadline"),
        pytest.param(START - 2 * DAY, START - 2 * DAY, 0, True, id="no-moves-allowed-at-all"),
    ],
)
def test_a_refusal_that_held_when_booked_is_told_as_such(booked_at, now, done, refused_from_start):
    cap = 0 if refused_from_start and booked_at == now else 2
    policy = ChangePolicy(cancel_until=DAY, reschedule_until=DAY, max_reschedules=cap)
    verdict = policy.reschedule(status="confirmed", start=START, now=now, reschedules_done=done)

    assert not verdict
    assert refused_from_the_start(verdict, booked_at=booked_at, reschedules_done=done) is refused_from_start
