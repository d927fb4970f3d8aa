"""The availability engine, by tables of cases (docs/product.md#availability).

Times in the tables are local wall-clock times in the resource's zone unless
they end in ``Z`` (UTC). Every case builds its inputs from the small helpers
below, so a row reads as: opening hours, service, busy time → expected starts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from slotwise.domain.availability import check_slot, find_slots
from slotwise.domain.model import Busy, ResourceCalendar, ServiceRules, Slot, TimeRange

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")

LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)  # far enough back that notice never bites
MONDAY = date(2026, 6, 1)  # an ordinary Monday, no transition near it
TUESDAY = MONDAY + timedelta(days=1)
SUNDAY = date(2026, 6, 7)


# --- builders --------------------------------------------------------------------


def minutes(hhmm: str) -> int:
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


def hours(*spans: str) -> tuple[TimeRange, ...]:
    """``hours("09:00-12:00", "13:00-17:00")``."""
    return tuple(TimeRange(minutes(a), minutes(b)) for a, b in (span.split("-") for span in spans))


def calendar(
    key: str = "anna",
    *spans: str,
    zone: ZoneInfo = BERLIN,
    days: range = range(7),
    closed: frozenset[date] = frozenset(),
    extra_open: dict[date, tuple[TimeRange, ...]] | None = None,
) -> ResourceCalendar:
    """Open ``spans`` (default 09:00-12:00) on every weekday in ``days``."""
    ranges = hours(*spans) if spans else hours("09:00-12:00")
    return ResourceCalendar(
        key=key,
        zone=zone,
        weekly={weekday: ranges for weekday in days},
        closed=closed,
        extra_open=extra_open or {},
    )


def service(
    *groups: tuple[str, ...],
    duration: int = 30,
    step: int = 30,
    before: int = 0,
    after: int = 0,
    notice: timedelta = timedelta(0),
    advance: timedelta = timedelta(days=365),
    seats: int = 1,
    key: str = "consult",
) -> ServiceRules:
    """Minutes for duration, step and buffers; one group ``("anna",)`` by default."""
    return ServiceRules(
        key=key,
        duration=timedelta(minutes=duration),
        step=timedelta(minutes=step),
        resource_groups=groups or (("anna",),),
        buffer_before=timedelta(minutes=before),
        buffer_after=timedelta(minutes=after),
        min_notice=notice,
        max_advance=advance,
        seats=seats,
    )


def at(day: date, hhmm: str, zone: ZoneInfo = BERLIN) -> datetime:
    return datetime.combine(day, time(*divmod(minutes(hhmm), 60)), zone)


def blocked(
    resource: str,
    day: date,
    span: str,
    zone: ZoneInfo = BERLIN,
    *,
    service_key: str | None = None,
    session_start: str | None = None,
    seats: int = 1,
) -> Busy:
    """Busy ``span`` ("10:00-11:00", local) on ``resource``."""
    a, b = span.split("-")
    return Busy(
        resource=resource,
        blocked_from=at(day, a, zone),
        blocked_until=at(day, b, zone),
        service=service_key,
        start=at(day, session_start, zone) if session_start else None,
        seats=seats,
    )


def find_on(
    day: date,
    rules: ServiceRules,
    calendars: list[ResourceCalendar],
    busy: list[Busy] = (),  # type: ignore[assignment]
    *,
    zone: ZoneInfo = BERLIN,
    now: datetime = LONG_AGO,
    **options,
) -> list[Slot]:
    """Slots starting on local ``day`` in ``zone``."""
    return find_slots(
        rules,
        {cal.key: cal for cal in calendars},
        busy,
        window_start=datetime.combine(day, time(0), zone),
        window_end=datetime.combine(day + timedelta(days=1), time(0), zone),
        now=now,
        **options,
    )


def local(slots: list[Slot], zone: ZoneInfo = BERLIN) -> list[str]:
    return [slot.start.astimezone(zone).strftime("%H:%M") for slot in slots]


def zulu(slots: list[Slot]) -> list[str]:
    return [slot.start.strftime("%m-%d %H:%MZ") for slot in slots]


# --- the grid ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spans", "duration", "step", "expected"),
    [
        pytest.param(
            ["09:00-12:00"],
            30,
            30,
            ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"],
            id="open-9-12-step-30",
        ),
        pytest.param(
            ["09:00-12:00"],
            60,
            30,
            ["09:00", "09:30", "10:00", "10:30", "11:00"],
            id="longer-than-step",
        ),
        pytest.param(
            ["09:00-11:00"], 30, 45, ["09:00", "09:45", "10:30"], id="step-longer-than-duration"
        ),
        pytest.param(["09:10-10:30"], 20, 30, ["09:10", "09:40", "10:10"], id="odd-opening-minute"),
        pytest.param(
            ["09:00-10:00", "10:20-11:00"],
            20,
            30,
            ["09:00", "09:30", "10:20"],
            id="second-range-restarts-the-grid",
        ),
        pytest.param(["22:00-24:00"], 60, 60, ["22:00", "23:00"], id="range-to-midnight"),
    ],
)
def test_slots_step_from_the_start_of_each_open_range(spans, duration, step, expected):
    slots = find_on(MONDAY, service(duration=duration, step=step), [calendar("anna", *spans)])

    assert local(slots) == expected
    assert all(slot.end - slot.start == timedelta(minutes=duration) for slot in slots)
    assert all(slot.start.tzinfo is UTC and slot.resources == ("anna",) for slot in slots)


@pytest.mark.parametrize(
    ("span", "duration", "step", "expected"),
    [
        pytest.param("09:00-10:00", 45, 15, ["09:00", "09:15"], id="45-in-an-hour"),
        pytest.param("09:00-10:00", 60, 15, ["09:00"], id="exactly-the-range"),
        pytest.param("09:00-10:00", 61, 15, [], id="one-minute-too-long"),
        pytest.param("09:00-09:50", 30, 15, ["09:00", "09:15"], id="09:30-would-end-10:00"),
    ],
)
def test_a_slot_whose_duration_does_not_fit_before_the_range_ends_is_not_offered(
    span, duration, step, expected
):
    slots = find_on(MONDAY, service(duration=duration, step=step), [calendar("anna", span)])

    assert local(slots) == expected


def test_no_slot_runs_across_the_lunch_break():
    anna = calendar("anna", "09:00-12:00", "13:00-15:00")

    slots = find_on(MONDAY, service(duration=60, step=30), [anna])

    assert local(slots) == [
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",  # 11:30 would end 12:30, in the break
        "13:00",
        "13:30",
        "14:00",
    ]


def test_touching_ranges_of_one_date_are_one_range():
    anna = calendar("anna", "09:00-10:00", "10:00-11:00")

    slots = find_on(MONDAY, service(duration=90, step=30), [anna])

    assert local(slots) == ["09:00", "09:30"]  # 09:30-11:00 spans both


def test_starts_of_several_resources_are_merged_once_each_and_the_first_listed_wins():
    anna = calendar("anna", "09:00-11:00")
    ben = calendar("ben", "09:30-11:30")

    slots = find_on(MONDAY, service(("anna", "ben"), duration=60, step=60), [anna, ben])

    assert [(time_, slot.resources) for time_, slot in zip(local(slots), slots)] == [
        ("09:00", ("anna",)),
        ("09:30", ("ben",)),
        ("10:00", ("anna",)),
        ("10:30", ("ben",)),
    ]


def test_the_window_includes_its_start_and_excludes_its_end():
    rules = service(duration=30, step=30)
    anna = calendar("anna", "09:00-12:00")

    slots = find_slots(
        rules,
        {"anna": anna},
        [],
        window_start=at(MONDAY, "10:00"),
        window_end=at(MONDAY, "11:00"),
        now=LONG_AGO,
    )

    assert local(slots) == ["10:00", "10:30"]


# --- busy time and buffers -----------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "busy", "expected"),
    [
        pytest.param(
            service(duration=60, step=30),
            [blocked("anna", MONDAY, "10:00-11:00")],
            ["09:00", "11:00", "11:30", "12:00"],
            id="touching-a-booking-is-not-overlapping-it",
        ),
        pytest.param(
            service(duration=60, step=30, after=15),
            [blocked("anna", MONDAY, "11:00-12:00")],
            ["09:00", "09:30", "12:00"],
            id="our-buffer-after-reaches-into-the-next-booking",  # 10:00 would be busy until 11:15
        ),
        pytest.param(
            service(duration=60, step=30, before=15),
            [blocked("anna", MONDAY, "09:00-10:00")],
            ["10:30", "11:00", "11:30", "12:00"],
            id="our-buffer-before-reaches-into-the-previous-booking",  # 10:00 would start 09:45
        ),
        pytest.param(
            service(duration=30, step=30),
            # A neighbour booked 11:00-12:00 with 15 minutes of buffer each side.
            [blocked("anna", MONDAY, "10:45-12:15")],
            ["09:00", "09:30", "10:00", "12:30"],
            id="the-neighbours-own-buffers-block-us",
        ),
        pytest.param(
            service(duration=30, step=30, before=10, after=5),
            [blocked("anna", MONDAY, "10:00-11:00")],
            # Forbidden starts lie strictly between 09:25 and 11:10 (module docstring):
            # 09:30 → [09:20, 10:05) hits the block, 11:00 → [10:50, 11:35) too.
            ["09:00", "11:30", "12:00", "12:30"],
            id="buffers-on-a-half-hour-grid",
        ),
        pytest.param(
            service(duration=60, step=30),
            [blocked("anna", MONDAY, "10:00-12:00"), blocked("anna", MONDAY, "10:30-10:45")],
            ["09:00", "12:00"],
            id="overlapping-blocks",
        ),
        pytest.param(
            service(duration=60, step=30),
            [blocked("ben", MONDAY, "09:00-13:00")],
            ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00"],
            id="another-resources-booking-is-ignored",
        ),
    ],
)
def test_a_start_is_free_when_its_buffered_interval_overlaps_no_busy_block(rules, busy, expected):
    slots = find_on(MONDAY, rules, [calendar("anna", "09:00-13:00")], busy)

    assert local(slots) == expected


def test_buffers_may_reach_outside_opening_hours():
    rules = service(duration=60, step=30, before=30, after=30)

    slots = find_on(MONDAY, rules, [calendar("anna", "09:00-10:00")])

    assert local(slots) == ["09:00"]


# --- notice and advance ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "notice", "advance", "day", "expected"),
    [
        pytest.param(
            at(MONDAY, "08:10"),
            timedelta(hours=2),
            timedelta(days=365),
            MONDAY,
            ["10:30", "11:00", "11:30"],
            id="notice-rounds-up-to-the-next-grid-start",
        ),
        pytest.param(
            at(MONDAY, "08:00"),
            timedelta(hours=2),
            timedelta(days=365),
            MONDAY,
            ["10:00", "10:30", "11:00", "11:30"],
            id="notice-ending-on-a-grid-start-keeps-it",
        ),
        pytest.param(
            at(MONDAY, "10:00"),
            timedelta(0),
            timedelta(days=365),
            MONDAY,
            ["10:00", "10:30", "11:00", "11:30"],
            id="no-notice-means-from-now",
        ),
        pytest.param(
            at(MONDAY, "10:00"),
            timedelta(0),
            timedelta(days=1),
            TUESDAY,
            ["09:00", "09:30", "10:00"],
            id="advance-limit-is-inclusive",
        ),
        pytest.param(
            at(MONDAY, "10:01"),
            timedelta(0),
            timedelta(days=1) - timedelta(minutes=2),
            TUESDAY,
            ["09:00", "09:30"],
            id="advance-limit-cuts-mid-morning",
        ),
        pytest.param(
            at(MONDAY, "10:00"),
            timedelta(days=2),
            timedelta(days=1),
            TUESDAY,
            [],
            id="notice-beyond-advance-leaves-nothing",
        ),
    ],
)
def test_starts_respect_min_notice_and_max_advance(now, notice, advance, day, expected):
    rules = service(notice=notice, advance=advance)

    slots = find_on(day, rules, [calendar("anna", "09:00-12:00")], now=now)

    assert local(slots) == expected


@pytest.mark.parametrize(
    ("zone", "day", "now", "notice", "spans", "expected_local", "expected_utc"),
    [
        pytest.param(
            BERLIN,
            date(2026, 3, 29),
            datetime(2026, 3, 28, 23, 0, tzinfo=BERLIN),
            timedelta(hours=4),
            ["01:00-06:00"],
            # 23:00 CET + 4 elapsed hours = 02:00Z = 04:00 CEST (five hours on the wall clock).
            ["04:00", "04:30", "05:00", "05:30"],
            ["03-29 02:00Z", "03-29 02:30Z", "03-29 03:00Z", "03-29 03:30Z"],
            id="berlin-spring-notice-is-elapsed-time",
        ),
        pytest.param(
            NEW_YORK,
            date(2026, 11, 1),
            datetime(2026, 10, 31, 23, 30, tzinfo=NEW_YORK),
            timedelta(hours=3),
            ["00:00-04:00"],
            # 23:30 EDT + 3 h = 06:30Z = 01:30 EST, the second 01:30; the grid's 01:30 is the
            # first one (05:30Z), too early, so the next start is 02:00 EST.
            ["02:00", "02:30", "03:00", "03:30"],
            ["11-01 07:00Z", "11-01 07:30Z", "11-01 08:00Z", "11-01 08:30Z"],
            id="new-york-autumn-notice-ends-in-the-repeated-hour",
        ),
    ],
)
def test_min_notice_ending_on_a_transition_day_counts_elapsed_time(
    zone, day, now, notice, spans, expected_local, expected_utc
):
    rules = service(notice=notice)

    slots = find_on(day, rules, [calendar("anna", *spans, zone=zone)], zone=zone, now=now)

    assert local(slots, zone) == expected_local
    assert zulu(slots) == expected_utc


# --- closed and extra open dates ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("anna", "site_closed", "day", "expected"),
    [
        pytest.param(
            calendar("anna", closed=frozenset({MONDAY})),
            frozenset(),
            MONDAY,
            [],
            id="resource-closed",
        ),
        pytest.param(
            calendar("anna", closed=frozenset({MONDAY})),
            frozenset(),
            TUESDAY,
            ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"],
            id="closed-is-one-date-only",
        ),
        pytest.param(calendar("anna"), frozenset({MONDAY}), MONDAY, [], id="site-closed"),
        pytest.param(
            calendar("anna", closed=frozenset({MONDAY}), extra_open={MONDAY: hours("14:00-15:00")}),
            frozenset(),
            MONDAY,
            ["14:00", "14:30"],
            id="extra-opening-wins-over-a-closure",
        ),
        pytest.param(
            calendar("anna", extra_open={MONDAY: hours("14:00-15:00")}),
            frozenset({MONDAY}),
            MONDAY,
            ["14:00", "14:30"],
            id="extra-opening-wins-over-site-closure",
        ),
        pytest.param(
            calendar("anna", days=range(5), extra_open={SUNDAY: hours("10:00-11:00")}),
            frozenset(),
            SUNDAY,
            ["10:00", "10:30"],
            id="extra-opening-on-a-day-off",
        ),
        pytest.param(
            calendar("anna", extra_open={MONDAY: hours("11:00-13:00")}),
            frozenset(),
            MONDAY,
            ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00", "12:30"],
            id="extra-opening-extends-weekly-hours",
        ),
    ],
)
def test_closed_dates_remove_time_and_extra_open_dates_add_it(anna, site_closed, day, expected):
    slots = find_on(day, service(), [anna], site_closed=site_closed)

    assert local(slots) == expected


def test_site_closed_dates_are_read_in_the_resources_own_zone():
    # 18:00-22:00 in New York is 22:00Z-02:00Z: half of a New York Tuesday is a UTC Wednesday.
    ben = calendar("ben", "18:00-22:00", zone=NEW_YORK)
    rules = service(("ben",), duration=60, step=60)
    window = dict(
        window_start=datetime(2026, 6, 1, tzinfo=UTC), window_end=datetime(2026, 6, 5, tzinfo=UTC)
    )

    slots = find_slots(
        rules, {"ben": ben}, [], now=LONG_AGO, site_closed=frozenset({TUESDAY}), **window
    )

    new_york_dates = {slot.start.astimezone(NEW_YORK).date() for slot in slots}
    assert TUESDAY not in new_york_dates
    assert {MONDAY, date(2026, 6, 3)} <= new_york_dates


# --- time zones ---------------------------------------------------------------------------


def test_a_half_hour_zone_gives_exact_utc_instants():
    # Kolkata is UTC+5:30 all year: 09:00 IST is 03:30Z.
    ravi = calendar("ravi", "09:00-10:30", zone=KOLKATA)
    rules = service(("ravi",), duration=30, step=30)

    slots = find_on(MONDAY, rules, [ravi], zone=KOLKATA)

    assert [slot.start for slot in slots] == [
        datetime(2026, 6, 1, 3, 30, tzinfo=UTC),
        datetime(2026, 6, 1, 4, 0, tzinfo=UTC),
        datetime(2026, 6, 1, 4, 30, tzinfo=UTC),
    ]
    assert slots[-1].end == datetime(2026, 6, 1, 5, 0, tzinfo=UTC)


def test_a_window_in_utc_finds_the_early_hours_of_the_next_local_date():
    # Kolkata's Tuesday 00:00-01:00 is Monday 18:30Z-19:30Z.
    ravi = calendar("ravi", "00:00-01:00", zone=KOLKATA)
    rules = service(("ravi",), duration=30, step=30)

    slots = find_slots(
        rules,
        {"ravi": ravi},
        [],
        window_start=datetime(2026, 6, 1, 18, 0, tzinfo=UTC),
        window_end=datetime(2026, 6, 1, 20, 0, tzinfo=UTC),
        now=LONG_AGO,
    )

    assert zulu(slots) == ["06-01 18:30Z", "06-01 19:00Z"]


TRANSITIONS = [
    # zone, date, spans, duration, step, expected local starts, expected UTC starts
    pytest.param(
        BERLIN,
        date(2026, 3, 29),
        ["01:00-04:00"],
        30,
        30,
        ["01:00", "01:30", "03:00", "03:30"],  # 02:00 and 02:30 do not exist
        ["03-29 00:00Z", "03-29 00:30Z", "03-29 01:00Z", "03-29 01:30Z"],
        id="berlin-spring-gap-is-skipped",
    ),
    pytest.param(
        BERLIN,
        date(2026, 10, 25),
        ["01:00-04:00"],
        30,
        30,
        ["01:00", "01:30", "02:00", "02:30", "03:00", "03:30"],  # 02:00, 02:30 once: CEST
        [
            "10-24 23:00Z",
            "10-24 23:30Z",
            "10-25 00:00Z",
            "10-25 00:30Z",
            "10-25 02:00Z",
            "10-25 02:30Z",
        ],
        id="berlin-autumn-fold-taken-once",
    ),
    pytest.param(
        NEW_YORK,
        date(2026, 3, 8),
        ["01:00-04:00"],
        30,
        30,
        ["01:00", "01:30", "03:00", "03:30"],
        ["03-08 06:00Z", "03-08 06:30Z", "03-08 07:00Z", "03-08 07:30Z"],
        id="new-york-spring-gap-is-skipped",
    ),
    pytest.param(
        NEW_YORK,
        date(2026, 11, 1),
        ["00:30-03:00"],
        30,
        30,
        ["00:30", "01:00", "01:30", "02:00", "02:30"],  # 01:00, 01:30 once: EDT
        ["11-01 04:30Z", "11-01 05:00Z", "11-01 05:30Z", "11-01 07:00Z", "11-01 07:30Z"],
        id="new-york-autumn-fold-taken-once",
    ),
    pytest.param(
        BERLIN,
        date(2026, 3, 29),
        ["00:00-02:30"],
        60,
        30,
        # 02:30 does not exist: the range ends at the first valid instant after it,
        # 03:00 CEST = 01:00Z, so 01:00 CET (00:00Z) + 60 min is the last fit.
        ["00:00", "00:30", "01:00"],
        ["03-28 23:00Z", "03-28 23:30Z", "03-29 00:00Z"],
        id="berlin-range-ending-in-the-gap",
    ),
    pytest.param(
        BERLIN,
        date(2026, 10, 25),
        ["01:00-02:30"],
        30,
        30,
        # 02:30 at its first occurrence is 00:30Z: 90 elapsed minutes, not 150.
        ["01:00", "01:30", "02:00"],
        ["10-24 23:00Z", "10-24 23:30Z", "10-25 00:00Z"],
        id="berlin-range-ending-in-the-fold",
    ),
    pytest.param(
        NEW_YORK,
        date(2026, 3, 8),
        ["02:00-04:00"],
        60,
        30,
        # The range starts in the gap: it opens at 03:00 EDT (07:00Z); the 02:00 and
        # 02:30 grid starts do not exist.
        ["03:00"],
        ["03-08 07:00Z"],
        id="new-york-range-starting-in-the-gap",
    ),
    pytest.param(
        BERLIN,
        date(2026, 3, 29),
        ["13:00-18:00"],
        60,
        60,
        ["13:00", "14:00", "15:00", "16:00", "17:00"],
        ["03-29 11:00Z", "03-29 12:00Z", "03-29 13:00Z", "03-29 14:00Z", "03-29 15:00Z"],
        id="berlin-spring-afternoon-stays-local",
    ),
    pytest.param(
        BERLIN,
        date(2026, 10, 25),
        ["13:00-18:00"],
        60,
        60,
        ["13:00", "14:00", "15:00", "16:00", "17:00"],
        ["10-25 12:00Z", "10-25 13:00Z", "10-25 14:00Z", "10-25 15:00Z", "10-25 16:00Z"],
        id="berlin-autumn-afternoon-stays-local",
    ),
    pytest.param(
        NEW_YORK,
        date(2026, 3, 8),
        ["13:00-18:00"],
        60,
        60,
        ["13:00", "14:00", "15:00", "16:00", "17:00"],
        ["03-08 17:00Z", "03-08 18:00Z", "03-08 19:00Z", "03-08 20:00Z", "03-08 21:00Z"],
        id="new-york-spring-afternoon-stays-local",
    ),
    pytest.param(
        NEW_YORK,
        date(2026, 11, 1),
        ["13:00-18:00"],
        60,
        60,
        ["13:00", "14:00", "15:00", "16:00", "17:00"],
        ["11-01 18:00Z", "11-01 19:00Z", "11-01 20:00Z", "11-01 21:00Z", "11-01 22:00Z"],
        id="new-york-autumn-afternoon-stays-local",
    ),
]


@pytest.mark.parametrize(
    ("zone", "day", "spans", "duration", "step", "expected_local", "expected_utc"), TRANSITIONS
)
def test_dst_days_skip_the_gap_take_the_fold_once_and_keep_wall_clock_hours(
    zone, day, spans, duration, step, expected_local, expected_utc
):
    rules = service(duration=duration, step=step)

    slots = find_on(day, rules, [calendar("anna", *spans, zone=zone)], zone=zone)

    assert local(slots, zone) == expected_local
    assert zulu(slots) == expected_utc
    assert len({slot.start for slot in slots}) == len(slots)
    assert all(slot.end - slot.start == timedelta(minutes=duration) for slot in slots)


def test_an_appointment_across_the_fold_lasts_its_elapsed_duration():
    # New York 2026-11-01, 01:30 EDT (05:30Z) + 60 min = 06:30Z = 01:30 EST.
    rules = service(duration=60, step=30)

    slots = find_on(
        date(2026, 11, 1), rules, [calendar("anna", "01:30-02:00", zone=NEW_YORK)], zone=NEW_YORK
    )

    # 02:00 EST is 07:00Z: the range lasts 90 elapsed minutes, so 01:30 fits.
    assert zulu(slots) == ["11-01 05:30Z"]
    assert slots[0].end == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)


# --- group sessions --------------------------------------------------------------------------


def session(
    day: date, span: str, start: str, seats: int = 1, key: str = "yoga", resource: str = "anna"
):
    return blocked(resource, day, span, service_key=key, session_start=start, seats=seats)


@pytest.mark.parametrize(
    ("busy", "expected"),
    [
        pytest.param([], [("09:00", 3), ("10:00", 3), ("11:00", 3)], id="empty-class"),
        pytest.param(
            [
                session(MONDAY, "10:00-11:00", "10:00", seats=1),
                session(MONDAY, "10:00-11:00", "10:00", seats=1),
            ],
            [("09:00", 3), ("10:00", 1), ("11:00", 3)],
            id="joining-counts-the-seats-of-every-entry",
        ),
        pytest.param(
            [session(MONDAY, "10:00-11:00", "10:00", seats=3)],
            [("09:00", 3), ("11:00", 3)],
            id="full-session-is-gone",
        ),
        pytest.param(
            [session(MONDAY, "09:30-10:30", "09:30", seats=1)],
            [("11:00", 3)],
            id="same-service-at-another-start-collides",
        ),
        pytest.param(
            [blocked("anna", MONDAY, "10:00-11:00", service_key="massage", session_start="10:00")],
            [("09:00", 3), ("11:00", 3)],
            id="another-service-at-the-same-start-collides",
        ),
        pytest.param(
            [session(MONDAY, "09:45-11:15", "10:00", seats=2)],  # booked with 15-min buffers
            [("10:00", 1)],
            id="a-buffered-session-blocks-its-neighbours-but-not-itself",
        ),
    ],
)
def test_group_sessions_are_joined_until_their_seats_are_taken(busy, expected):
    rules = service(duration=60, step=60, seats=3, key="yoga")

    slots = find_on(MONDAY, rules, [calendar("anna", "09:00-12:00")], busy)

    assert list(zip(local(slots), (slot.seats_left for slot in slots))) == expected


def test_a_running_session_is_filled_before_another_resource_opens_one():
    rules = service(("anna", "ben"), duration=60, step=60, seats=4, key="yoga")
    busy = [session(MONDAY, "10:00-11:00", "10:00", seats=1, resource="ben")]

    slots = find_on(MONDAY, rules, [calendar("anna"), calendar("ben")], busy)

    assert [(t, s.resources, s.seats_left) for t, s in zip(local(slots), slots)] == [
        ("09:00", ("anna",), 4),
        ("10:00", ("ben",), 3),
        ("11:00", ("anna",), 4),
    ]


def test_seats_left_is_the_fewest_over_the_assigned_resources():
    rules = service(("coach",), ("hall",), duration=60, step=60, seats=10, key="yoga")
    busy = [
        session(MONDAY, "10:00-11:00", "10:00", seats=2, resource="coach"),
        session(MONDAY, "10:00-11:00", "10:00", seats=7, resource="hall"),
    ]

    slots = find_on(MONDAY, rules, [calendar("coach"), calendar("hall")], busy)

    assert [(t, s.seats_left) for t, s in zip(local(slots), slots)] == [
        ("09:00", 10),
        ("10:00", 3),
        ("11:00", 10),
    ]


def test_private_appointments_always_have_one_seat_left():
    slots = find_on(MONDAY, service(), [calendar("anna")])

    assert {slot.seats_left for slot in slots} == {1}


# --- several resource groups ---------------------------------------------------------------------


THERAPISTS = ("anna", "ben")
ROOMS = ("room-1", "room-2")


def clinic(room_hours: str = "08:00-18:00") -> list[ResourceCalendar]:
    return [
        calendar("anna", "09:00-12:00"),
        calendar("ben", "09:00-12:00"),
        calendar("room-1", room_hours),
        calendar("room-2", room_hours),
    ]


@pytest.mark.parametrize(
    ("busy", "room_hours", "expected"),
    [
        pytest.param(
            [],
            "08:00-18:00",
            {"09:00": ("anna", "room-1"), "10:00": ("anna", "room-1"), "11:00": ("anna", "room-1")},
            id="first-listed-of-each-group",
        ),
        pytest.param(
            [blocked("anna", MONDAY, "09:00-10:00")],
            "08:00-18:00",
            {"09:00": ("ben", "room-1"), "10:00": ("anna", "room-1"), "11:00": ("anna", "room-1")},
            id="busy-therapist-is-replaced",
        ),
        pytest.param(
            [blocked("room-1", MONDAY, "10:00-11:00")],
            "08:00-18:00",
            {"09:00": ("anna", "room-1"), "10:00": ("anna", "room-2"), "11:00": ("anna", "room-1")},
            id="busy-room-is-replaced",
        ),
        pytest.param(
            [blocked("room-1", MONDAY, "11:00-12:00"), blocked("room-2", MONDAY, "11:30-12:00")],
            "08:00-18:00",
            {"09:00": ("anna", "room-1"), "10:00": ("anna", "room-1")},
            id="both-rooms-busy-blocks-the-slot",
        ),
        pytest.param(
            [blocked("anna", MONDAY, "09:00-12:00"), blocked("ben", MONDAY, "10:00-11:00")],
            "08:00-18:00",
            {"09:00": ("ben", "room-1"), "11:00": ("ben", "room-1")},
            id="both-therapists-busy-blocks-the-slot",
        ),
        pytest.param(
            [],
            "10:00-18:00",
            {"10:00": ("anna", "room-1"), "11:00": ("anna", "room-1")},
            id="a-closed-room-blocks-the-slot",
        ),
        pytest.param(
            [],
            "09:10-18:00",
            {"10:00": ("anna", "room-1"), "11:00": ("anna", "room-1")},
            id="rooms-need-open-hours-not-a-grid",
        ),
    ],
)
def test_a_slot_needs_one_free_resource_from_every_group(busy, room_hours, expected):
    rules = service(THERAPISTS, ROOMS, duration=60, step=60)

    slots = find_on(MONDAY, rules, clinic(room_hours), busy)

    assert dict(zip(local(slots), (slot.resources for slot in slots))) == expected


def test_later_group_resources_are_free_off_their_own_grid():
    # Room open 09:10-18:00: therapist grid 09:30 fits the room without any room grid.
    rules = service(THERAPISTS, ROOMS, duration=60, step=30)

    slots = find_on(MONDAY, rules, clinic("09:10-18:00"))

    assert local(slots) == ["09:30", "10:00", "10:30", "11:00"]


def test_a_resource_listed_in_two_groups_is_not_assigned_twice():
    rules = service(("anna", "ben"), ("anna", "ben"), duration=60, step=60)

    slots = find_on(MONDAY, rules, [calendar("anna"), calendar("ben")])

    assert {slot.resources for slot in slots} == {("anna", "ben")}


# --- only_resource -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "only", "expected"),
    [
        pytest.param(
            service(THERAPISTS, duration=60, step=60),
            "ben",
            {"09:00": ("ben",), "11:00": ("ben",)},
            id="one-therapist",
        ),
        pytest.param(service(THERAPISTS, duration=60, step=60), "carla", {}, id="unknown-resource"),
        pytest.param(
            service(THERAPISTS, ROOMS, duration=60, step=60),
            "room-2",
            {"09:00": ("anna", "room-2"), "10:00": ("anna", "room-2"), "11:00": ("ben", "room-2")},
            id="a-room-in-a-later-group",
        ),
    ],
)
def test_only_resource_restricts_its_group_to_that_resource(rules, only, expected):
    busy = [blocked("ben", MONDAY, "10:00-11:00"), blocked("anna", MONDAY, "11:00-12:00")]

    slots = find_on(MONDAY, rules, clinic(), busy, only_resource=only)

    assert dict(zip(local(slots), (slot.resources for slot in slots))) == expected


# --- check_slot ---------------------------------------------------------------------------------


CHECK_CASES = [
    pytest.param(
        service(THERAPISTS, ROOMS, duration=45, step=15, before=5, after=10),
        clinic(),
        [blocked("anna", MONDAY, "09:40-10:20"), blocked("room-1", MONDAY, "10:00-11:30")],
        MONDAY,
        BERLIN,
        None,
        id="two-groups-with-buffers",
    ),
    pytest.param(
        service(("anna",), duration=30, step=30),
        [calendar("anna", "00:00-04:00", zone=NEW_YORK)],
        [blocked("anna", date(2026, 11, 1), "00:30-01:00", NEW_YORK)],
        date(2026, 11, 1),
        NEW_YORK,
        None,
        id="new-york-autumn-fold",
    ),
    pytest.param(
        service(("anna", "ben"), duration=60, step=30, seats=3, key="yoga"),
        [calendar("anna"), calendar("ben")],
        [session(MONDAY, "10:00-11:00", "10:00", seats=2, resource="ben")],
        MONDAY,
        BERLIN,
        None,
        id="group-session",
    ),
    pytest.param(
        service(THERAPISTS, ROOMS, duration=60, step=60),
        clinic(),
        [blocked("anna", MONDAY, "09:00-10:00")],
        MONDAY,
        BERLIN,
        "anna",
        id="only-resource",
    ),
]


@pytest.mark.parametrize(("rules", "calendars", "busy", "day", "zone", "only"), CHECK_CASES)
def test_check_slot_agrees_with_find_slots_for_every_start_found(
    rules, calendars, busy, day, zone, only
):
    by_key = {cal.key: cal for cal in calendars}
    now = datetime.combine(day, time(0), zone) - timedelta(hours=1)
    slots = find_on(day, rules, calendars, busy, zone=zone, now=now, only_resource=only)
    assert slots

    for slot in slots:
        assert (
            check_slot(rules, by_key, busy, start=slot.start, now=now, only_resource=only) == slot
        )
        # The same instant written in the resource's zone is the same slot.
        assert (
            check_slot(
                rules, by_key, busy, start=slot.start.astimezone(zone), now=now, only_resource=only
            )
            == slot
        )


@pytest.mark.parametrize(
    ("start", "why"),
    [
        pytest.param(at(MONDAY, "09:00"), "anna and ben are both booked", id="taken"),
        pytest.param(at(MONDAY, "10:10"), "not a grid start", id="off-grid"),
        pytest.param(
            at(MONDAY, "10:00") + timedelta(microseconds=1), "not a grid start", id="microsecond"
        ),
        pytest.param(at(MONDAY, "11:30"), "would end after closing", id="too-late"),
        pytest.param(at(MONDAY, "07:00"), "before opening", id="too-early"),
    ],
)
def test_check_slot_rejects_a_start_it_would_not_show(start, why):
    rules = service(THERAPISTS, duration=60, step=60)
    busy = [blocked("anna", MONDAY, "09:00-10:00"), blocked("ben", MONDAY, "08:30-09:30")]
    calendars = {cal.key: cal for cal in clinic()}

    assert check_slot(rules, calendars, busy, start=at(MONDAY, "10:00"), now=LONG_AGO) is not None
    assert check_slot(rules, calendars, busy, start=start, now=LONG_AGO) is None, why


def test_check_slot_rejects_a_start_inside_the_min_notice():
    rules = service(notice=timedelta(hours=2))
    calendars = {"anna": calendar("anna")}

    assert (
        check_slot(rules, calendars, [], start=at(MONDAY, "10:00"), now=at(MONDAY, "08:00"))
        is not None
    )
    assert (
        check_slot(rules, calendars, [], start=at(MONDAY, "10:00"), now=at(MONDAY, "08:01")) is None
    )


# --- inputs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param(dict(now=datetime(2026, 1, 1)), "now must be an aware", id="naive-now"),
        pytest.param(
            dict(window_start=datetime(2026, 6, 1)),
            "window_start must be an aware",
            id="naive-window",
        ),
        pytest.param(dict(calendars={}), "no calendar for resource", id="missing-calendar"),
        pytest.param(dict(rules=service(step=0)), "must be positive", id="zero-step"),
        pytest.param(
            dict(
                rules=ServiceRules(
                    "x", timedelta(minutes=30, microseconds=5), timedelta(minutes=30), (("anna",),)
                )
            ),
            "whole number of seconds",
            id="fractional-duration",
        ),
    ],
)
def test_invalid_inputs_are_refused_with_a_clear_message(kwargs, message):
    arguments = dict(
        rules=service(),
        calendars={"anna": calendar("anna")},
        window_start=at(MONDAY, "00:00"),
        window_end=at(TUESDAY, "00:00"),
        now=LONG_AGO,
    )
    arguments.update(kwargs)
    rules = arguments.pop("rules")
    calendars = arguments.pop("calendars")

    with pytest.raises(ValueError, match=message):
        find_slots(rules, calendars, [], **arguments)


def test_an_empty_window_has_no_slots():
    slots = find_slots(
        service(),
        {"anna": calendar("anna")},
        [],
        window_start=at(TUESDAY, "00:00"),
        window_end=at(MONDAY, "00:00"),
        now=LONG_AGO,
    )

    assert slots == []


def test_busy_may_be_any_iterable_and_an_empty_block_blocks_nothing():
    busy = iter([Busy("anna", at(MONDAY, "10:00"), at(MONDAY, "10:00"))])

    slots = find_on(MONDAY, service(), [calendar("anna")], busy)

    assert "10:00" in local(slots)


def test_an_appointment_never_spans_local_midnight():
    # Decision: ranges of one date are never joined with the next date's, so a
    # resource open around the clock takes no 23:30-00:30 booking.
    rules = service(duration=60, step=30)
    always = calendar("anna", "00:00-24:00")

    slots = find_slots(
        rules,
        {"anna": always},
        [],
        window_start=at(MONDAY, "22:00"),
        window_end=at(TUESDAY, "01:00"),
        now=LONG_AGO,
    )

    assert local(slots) == ["22:00", "22:30", "23:00", "00:00", "00:30"]
