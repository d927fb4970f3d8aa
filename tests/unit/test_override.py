"""Staff overrides: outside hours, notice, advance and the grid; never past capacity.

One table over the engine (``check_slot_under``) and one over who may ask for
an override (``may_use``). Times are Berlin wall-clock on an ordinary Monday;
Anna is open 09:00-12:00 with a 30-minute grid, the service lasts 30 minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slotwise.domain.actors import Actor, ActorKind, Rules, may_use
from slotwise.domain.availability import check_slot_under

from tests.unit.test_availability import MONDAY, at, blocked, calendar, service

NOW = datetime(2026, 5, 31, 10, tzinfo=UTC)  # the Sunday before, 12:00 in Berlin
CALENDARS = {"anna": calendar("anna"), "ben": calendar("ben"), "room": calendar("room")}


@pytest.mark.parametrize(("rules", "start", "rules_kw", "busy", "expected"), [
    # In hours and on the grid: every rule gets it, none needed an override.
    pytest.param(Rules.CUSTOMER, "09:00", {}, [], ("anna", False), id="customer-in-hours"),
    pytest.param(Rules.OVERRIDE, "09:00", {}, [], ("anna", False), id="override-not-needed-in-hours"),
    # Outside hours, off the grid, inside the notice, beyond the advance: only an override.
    pytest.param(Rules.STAFF, "18:30", {}, [], None, id="staff-after-hours-refused"),
    pytest.param(Rules.OVERRIDE, "18:30", {}, [], ("anna", True), id="override-after-hours"),
    pytest.param(Rules.OVERRIDE, "11:45", {}, [], ("anna", True), id="override-across-closing-time"),
    pytest.param(Rules.OVERRIDE, "09:10", {}, [], ("anna", True), id="override-off-the-grid"),
    pytest.param(Rules.STAFF, "09:00", {"notice": timedelta(days=2)}, [], None, id="staff-inside-notice"),
    pytest.param(Rules.OVERRIDE, "09:00", {"notice": timedelta(days=2)}, [], ("anna", True),
                 id="override-inside-notice"),
    pytest.param(Rules.OVERRIDE, "09:00", {"advance": timedelta(hours=1)}, [], ("anna", True),
                 id="override-beyond-advance"),
    # Capacity holds under every rule: a booking, its buffer, time off, a full session.
    pytest.param(Rules.OVERRIDE, "18:30", {}, [blocked("anna", MONDAY, "18:00-19:00")], None,
                 id="override-onto-a-booking-refused"),
    pytest.param(Rules.OVERRIDE, "18:30", {"after": 15}, [blocked("anna", MONDAY, "19:10-20:00")], None,
                 id="override-buffer-reaching-a-booking-refused"),
    pytest.param(Rules.OVERRIDE, "09:00", {}, [blocked("anna", MONDAY, "09:00-09:30")], None,
                 id="override-in-hours-onto-a-booking-refused"),
    pytest.param(Rules.OVERRIDE, "18:30", {"seats": 2, "key": "class"},
                 [blocked("anna", MONDAY, "18:30-19:00", service_key="class", session_start="18:30", seats=2)],
                 None, id="override-into-a-full-session-refused"),
    pytest.param(Rules.OVERRIDE, "18:30", {"seats": 2, "key": "class"},
                 [blocked("anna", MONDAY, "18:30-19:00", service_key="class", session_start="18:30")],
                 ("anna", True), id="override-joins-a-session-with-a-seat-left"),
])
def test_an_override_sets_aside_hours_notice_and_advance_but_never_capacity(
        rules, start, rules_kw, busy, expected):
    slot, overridden = check_slot_under(rules, service(**rules_kw), CALENDARS, busy, start=at(MONDAY, start),
                                        now=NOW)

    assert (None if slot is None else (slot.resources[0], overridden)) == expected
    if slot is not None:
        assert slot.start == at(MONDAY, start)


def test_an_override_takes_one_free_resource_of_each_group_and_none_twice():
    rules = service(("anna", "ben"), ("room",), duration=60)
    busy = [blocked("anna", MONDAY, "18:00-20:00")]

    slot, overridden = check_slot_under(Rules.OVERRIDE, rules, CALENDARS, busy, start=at(MONDAY, "19:00"),
                                        now=NOW)
    taken, _ = check_slot_under(Rules.OVERRIDE, rules, CALENDARS,
                                [*busy, blocked("room", MONDAY, "19:30-20:00")], start=at(MONDAY, "19:00"),
                                now=NOW)

    assert (slot.resources, slot.end - slot.start, overridden) == (("ben", "room"), timedelta(hours=1), True)
    assert taken is None


@pytest.mark.parametrize(("kind", "rules", "allowed"), [
    (ActorKind.CUSTOMER, Rules.CUSTOMER, True),
    (ActorKind.CUSTOMER, Rules.STAFF, False),
    (ActorKind.CUSTOMER, Rules.OVERRIDE, False),
    (ActorKind.ACCOUNT, Rules.STAFF, True),
    (ActorKind.ACCOUNT, Rules.OVERRIDE, True),
    (ActorKind.API_KEY, Rules.STAFF, True),
    (ActorKind.API_KEY, Rules.OVERRIDE, True),
    (ActorKind.SYSTEM, Rules.STAFF, True),
    (ActorKind.SYSTEM, Rules.OVERRIDE, False),
])
def test_only_people_on_the_sites_side_may_override(kind, rules, allowed):
    assert may_use(Actor(kind, "x"), rules) is allowed
