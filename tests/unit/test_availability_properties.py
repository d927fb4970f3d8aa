"""Property tests for the availability engine across time zones and DST days.

Random weekly hours, zones, steps, durations, buffers, busy blocks and windows
that straddle transition days. Every slot must lie in open hours, be free, be
a wall-clock grid start that round-trips through its zone, and the whole answer
must match a slow brute-force reference written independently of the engine
(minute-by-minute wall-clock search instead of bisection, no index, no
integer tricks).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slotwise.domain.availability import check_slot, find_slots
from slotwise.domain.model import Busy, ResourceCalendar, ServiceRules, Slot, TimeRange

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # DST shifts by 30 minutes
ZONES = [BERLIN, NEW_YORK, KOLKATA, LORD_HOWE, ZoneInfo("UTC")]
# Each scenario centres on a zone and a date, mostly a 2026 transition day of
# that zone (all Sundays): the spring gap and the autumn fold at night.
FOCUS = [
    (NEW_YORK, date(2026, 3, 8)),  # 02:00 EST → 03:00 EDT
    (NEW_YORK, date(2026, 11, 1)),  # 02:00 EDT → 01:00 EST
    (BERLIN, date(2026, 3, 29)),  # 02:00 CET → 03:00 CEST
    (BERLIN, date(2026, 10, 25)),  # 03:00 CEST → 02:00 CET
    (LORD_HOWE, date(2026, 4, 5)),  # 02:00 → 01:30
    (LORD_HOWE, date(2026, 10, 4)),  # 02:00 → 02:30
    (KOLKATA, date(2026, 6, 14)),
    (ZoneInfo("UTC"), date(2026, 6, 14)),
]
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- strategies -----------------------------------------------------------------


@st.composite
def day_hours(draw, night: bool = False) -> tuple[TimeRange, ...]:
    """Up to four disjoint ranges on a 5-minute grid; often one in the small hours."""
    ranges = []
    floor = 0
    if night or draw(st.booleans()):
        night_start = draw(st.integers(0, 30))  # 00:00-02:30
        night_end = draw(st.integers(night_start + 1, 60))  # until 05:00 at most
        ranges.append(TimeRange(night_start * 5, night_end * 5))
        floor = night_end + 1
    points = sorted(draw(st.lists(st.integers(floor, 288), max_size=6, unique=True)))
    if len(points) % 2:
        points.pop()
    ranges += [TimeRange(points[i] * 5, points[i + 1] * 5) for i in range(0, len(points), 2)]
    return tuple(ranges)


@st.composite
def resource(draw, key: str, zone: ZoneInfo, near: date) -> ResourceCalendar:
    # Windows stay within the focus date ± 2 days, so only those weekdays get
    # hours (fewer draws, same coverage); the other two stay closed.
    nearby = [near + timedelta(days=offset) for offset in range(-2, 3)]
    return ResourceCalendar(
        key=key,
        zone=draw(st.sampled_from([zone] * 5 + ZONES)),
        # The focus date mostly opens in the small hours, where the gaps and
        # folds are.
        weekly={
            day.weekday(): draw(day_hours(night=day == near and draw(st.integers(0, 3)) > 0))
            for day in nearby
        },
        closed=frozenset(draw(st.lists(st.sampled_from(nearby), max_size=1))),
        extra_open={
            day: draw(day_hours().filter(bool))
            for day in draw(st.lists(st.sampled_from(nearby), max_size=1))
        },
    )


@st.composite
def scenarios(draw) -> dict:
    zone, near = draw(st.sampled_from(FOCUS))
    first_group = tuple(f"r{index}" for index in range(draw(st.integers(1, 3))))
    second_group = tuple(f"s{index}" for index in range(draw(st.sampled_from([0, 0, 1, 2]))))
    groups = (first_group, second_group) if second_group else (first_group,)
    keys = first_group + second_group
    calendars = {key: draw(resource(key, zone, near)) for key in keys}

    # A window of 12-48 hours starting from half a day before the focus date's
    # local midnight to a quarter day after, in UTC; ``now`` up to a day before.
    midnight = datetime.combine(near, time(0), zone).astimezone(UTC)
    window_start = midnight + timedelta(minutes=draw(st.integers(-48, 24)) * 15)
    window_end = window_start + timedelta(hours=draw(st.integers(12, 48)))
    lead = timedelta(minutes=draw(st.integers(-4 * 4, 24 * 4)) * 15)
    now = window_start - lead

    rules = ServiceRules(
        key="svc",
        duration=timedelta(minutes=draw(st.integers(1, 36)) * 5),
        step=timedelta(minutes=draw(st.sampled_from([5, 10, 15, 20, 30, 45, 60, 90]))),
        resource_groups=groups,
        buffer_before=timedelta(minutes=draw(st.sampled_from([0, 0, 5, 10, 15, 30]))),
        buffer_after=timedelta(minutes=draw(st.sampled_from([0, 0, 5, 10, 15, 30]))),
        min_notice=timedelta(minutes=draw(st.integers(0, 24)) * 15),
        max_advance=max(lead, timedelta(0)) + timedelta(hours=draw(st.integers(1, 60))),
    )

    busy = [
        Busy(
            resource=draw(st.sampled_from(keys)),
            blocked_from=(
                begin := window_start + timedelta(minutes=draw(st.integers(-288, 600)) * 5)
            ),
            blocked_until=begin + timedelta(minutes=draw(st.integers(1, 48)) * 5),
        )
        for _ in range(draw(st.integers(0, 10)))
    ]
    nearby = [near + timedelta(days=offset) for offset in range(-2, 3)]
    return dict(
        rules=rules,
        calendars=calendars,
        busy=busy,
        window_start=window_start,
        window_end=window_end,
        now=now,
        site_closed=frozenset(draw(st.lists(st.sampled_from(nearby), max_size=1))),
    )


def run(scenario: dict) -> list[Slot]:
    return find_slots(
        scenario["rules"],
        scenario["calendars"],
        scenario["busy"],
        window_start=scenario["window_start"],
        window_end=scenario["window_end"],
        now=scenario["now"],
        site_closed=scenario["site_closed"],
    )


# --- an independent, slow reference ---------------------------------------------------


def open_minutes(
    cal: ResourceCalendar, day: date, site_closed: frozenset[date]
) -> list[tuple[int, int]]:
    """The day's open ranges in minutes, overlapping or touching ones merged."""
    ranges = (
        [] if day in cal.closed or day in site_closed else list(cal.weekly.get(day.weekday(), ()))
    )
    ranges += cal.extra_open.get(day, ())
    merged: list[list[int]] = []
    for r in sorted(ranges):
        if merged and r.start_minute <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], r.end_minute)
        else:
            merged.append([r.start_minute, r.end_minute])
    return [(a, b) for a, b in merged]


def wall_to_utc(zone: ZoneInfo, day: date, minute: int) -> tuple[datetime, bool]:
    """First occurrence of a wall time; in a gap, the first wall minute after it that exists."""
    wall = datetime.combine(day, time(0)) + timedelta(minutes=minute)
    while True:
        instant = wall.replace(tzinfo=zone).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == wall:
            return instant, wall == datetime.combine(day, time(0)) + timedelta(minutes=minute)
        wall += timedelta(minutes=1)


def local_dates(zone: ZoneInfo, start: datetime, end: datetime) -> list[date]:
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def seats_taken(busy: list[Busy], key: str, start: datetime, rules: ServiceRules) -> int:
    """Seats of the group session of ``rules`` at ``start`` on ``key`` (0 for private services)."""
    if rules.seats == 1:
        return 0
    return sum(
        b.seats
        for b in busy
        if b.resource == key
        and b.service == rules.key
        and b.start == start
        and b.blocked_from < b.blocked_until
    )


def is_free(
    busy: list[Busy], key: str, start: datetime, end: datetime, rules: ServiceRules
) -> bool:
    """No block overlaps the buffered interval but the session at ``start``; seats remain."""
    wanted_from, wanted_until = start - rules.buffer_before, end + rules.buffer_after
    for b in busy:
        if (
            b.resource == key
            and b.blocked_from < b.blocked_until
            and b.blocked_from < wanted_until
            and b.blocked_until > wanted_from
            and not (rules.seats > 1 and b.service == rules.key and b.start == start)
        ):
            return False
    return rules.seats == 1 or seats_taken(busy, key, start, rules) < rules.seats


def is_open(
    cal: ResourceCalendar, start: datetime, end: datetime, site_closed: frozenset[date]
) -> bool:
    for day in local_dates(cal.zone, start, end):
        for a, b in open_minutes(cal, day, site_closed):
            if (
                wall_to_utc(cal.zone, day, a)[0] <= start
                and end <= wall_to_utc(cal.zone, day, b)[0]
            ):
                return True
    return False


def reference(scenario: dict) -> list[tuple[datetime, tuple[str, ...], int]]:
    """``(start, resources, seats_left)`` of every slot, by brute force."""
    rules: ServiceRules = scenario["rules"]
    calendars = scenario["calendars"]
    busy, site_closed = scenario["busy"], scenario["site_closed"]
    now = scenario["now"].astimezone(UTC)
    lowest = max(scenario["window_start"], now + rules.min_notice)
    highest = now + rules.max_advance
    step = rules.step // timedelta(minutes=1)

    free_in_first: dict[datetime, list[str]] = {}
    for key in rules.resource_groups[0]:
        cal = calendars[key]
        for day in local_dates(cal.zone, scenario["window_start"], scenario["window_end"]):
            for a, b in open_minutes(cal, day, site_closed):
                opens, _ = wall_to_utc(cal.zone, day, a)
                closes, _ = wall_to_utc(cal.zone, day, b)
                for minute in range(a, b, step):
                    start, exists = wall_to_utc(cal.zone, day, minute)
                    end = start + rules.duration
                    if (
                        exists
                        and opens <= start
                        and end <= closes
                        and lowest <= start < scenario["window_end"]
                        and start <= highest
                        and is_free(busy, key, start, end, rules)
                    ):
                        free_in_first.setdefault(start, []).append(key)

    def prefer_running_session(keys: list[str], start: datetime) -> str | None:
        running = [key for key in keys if seats_taken(busy, key, start, rules)]
        return (running or keys or [None])[0]

    out = []
    for start in sorted(free_in_first):
        end = start + rules.duration
        assigned = [prefer_running_session(free_in_first[start], start)]
        for group in rules.resource_groups[1:]:
            usable = [
                key
                for key in group
                if key not in assigned
                and is_open(calendars[key], start, end, site_closed)
                and is_free(busy, key, start, end, rules)
            ]
            pick = prefer_running_session(usable, start)
            if pick is None:
                break
            assigned.append(pick)
        else:
            taken = max(seats_taken(busy, key, start, rules) for key in assigned)
            out.append((start, tuple(assigned), rules.seats - taken))
    return out


# --- properties ---------------------------------------------------------------------------


@FAST
@given(scenarios())
def test_find_slots_matches_a_brute_force_reference(scenario):
    slots = run(scenario)

    assert [(slot.start, slot.resources, slot.seats_left) for slot in slots] == reference(scenario)


@FAST
@given(scenarios(), st.data())
def test_group_sessions_match_the_brute_force_reference(scenario, data):
    rules = replace(scenario["rules"], seats=data.draw(st.integers(2, 4)))
    keys = [key for group in rules.resource_groups for key in group]
    # Sessions start on grid starts the engine offers when nothing is booked,
    # so joining, filling up and colliding all happen.
    grid = [slot.start for slot in run(dict(scenario, rules=rules, busy=[]))] or [
        scenario["window_start"]
    ]
    sessions = [
        Busy(
            resource=data.draw(st.sampled_from(keys)),
            blocked_from=(start := data.draw(st.sampled_from(grid))) - rules.buffer_before,
            blocked_until=start + rules.duration + rules.buffer_after,
            service=data.draw(st.sampled_from([rules.key, rules.key, "other"])),
            start=start,
            seats=data.draw(st.integers(1, 3)),
        )
        for _ in range(data.draw(st.integers(1, 8)))
    ]
    scenario = dict(scenario, rules=rules, busy=scenario["busy"] + sessions)

    slots = run(scenario)

    assert [(slot.start, slot.resources, slot.seats_left) for slot in slots] == reference(scenario)


@FAST
@given(scenarios())
def test_starts_are_unique_sorted_utc_and_inside_the_bounds(scenario):
    slots = run(scenario)
    rules: ServiceRules = scenario["rules"]
    now = scenario["now"]

    starts = [slot.start for slot in slots]
    assert starts == sorted(set(starts))
    for slot in slots:
        assert slot.start.tzinfo is UTC and slot.end.tzinfo is UTC
        assert slot.end - slot.start == rules.duration
        assert scenario["window_start"] <= slot.start < scenario["window_end"]
        assert now + rules.min_notice <= slot.start <= now + rules.max_advance
        assert len(slot.resources) == len(rules.resource_groups)
        assert slot.seats_left == 1


@FAST
@given(scenarios())
def test_every_slot_is_a_wall_clock_grid_start_inside_open_hours(scenario):
    rules: ServiceRules = scenario["rules"]
    step = rules.step // timedelta(minutes=1)

    for slot in run(scenario):
        cal = scenario["calendars"][slot.resources[0]]
        local = slot.start.astimezone(cal.zone)
        wall = local.replace(tzinfo=None)
        minute = wall.hour * 60 + wall.minute

        # An ambiguous wall time is used at its first occurrence only.
        assert local.fold == 0
        # Local ↔ UTC round trip: the wall time read back (fold=0) is the same instant.
        assert wall.replace(tzinfo=cal.zone).astimezone(UTC) == slot.start
        assert wall.second == 0 and wall.microsecond == 0
        # The wall time is a grid point of an open range of its local date, and the
        # appointment lies inside that range.
        ranges = open_minutes(cal, wall.date(), scenario["site_closed"])
        assert any(
            a <= minute < b
            and (minute - a) % step == 0
            and slot.end <= wall_to_utc(cal.zone, wall.date(), b)[0]
            for a, b in ranges
        ), (wall, ranges)


@FAST
@given(scenarios())
def test_no_slot_overlaps_a_busy_block_with_its_buffered_interval(scenario):
    rules: ServiceRules = scenario["rules"]

    for slot in run(scenario):
        wanted_from = slot.start - rules.buffer_before
        wanted_until = slot.end + rules.buffer_after
        for block in scenario["busy"]:
            if block.resource in slot.resources:
                assert not (block.blocked_from < wanted_until and block.blocked_until > wanted_from)


@FAST
@given(scenarios(), st.data())
def test_check_slot_answers_exactly_what_find_slots_shows(scenario, data):
    slots = run(scenario)
    by_start = {slot.start: slot for slot in slots}
    probes = [slot.start for slot in slots[:5]]
    span_minutes = int((scenario["window_end"] - scenario["window_start"]) / timedelta(minutes=5))
    probes += [
        scenario["window_start"]
        + timedelta(minutes=5 * data.draw(st.integers(0, span_minutes - 1)))
        for _ in range(5)
    ]

    for start in probes:
        assert check_slot(
            scenario["rules"],
            scenario["calendars"],
            scenario["busy"],
            start=start,
            now=scenario["now"],
            site_closed=scenario["site_closed"],
        ) == by_start.get(start)
