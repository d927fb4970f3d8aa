"""Benchmarks for availability (docs/product.md#bars).

Run: ``python bench/availability.py`` (with the package installed, or from the
repository root: the script puts the root, for ``tests.support``, and ``backend/`` on ``sys.path``).

Engine part — the bar "slots for one service, 31 days, 10 resources, 15-min
step, 5,000 existing bookings, engine only: median <= 10 ms". The scenario is
deterministic (fixed ``now``, seeded random): 10 people in Europe/Berlin with
Mon-Sat hours and a lunch break, a 31-day window from the Monday after ``now``
(it spans the 2026-03-29 DST change, so the careful transition-day path runs
too), a 30-minute service on a 15-minute step with a 10-minute buffer after,
and 5,000 busy entries spread over the window that never overlap each other on
one resource.

HTTP part — the bar "slot fragment over HTTP with 10,000 bookings in the
database: p50 <= 3x a plain 'ok' endpoint of the same server, same run". A real
``slotwise serve`` process on a fresh SQLite file holding the demo site and
10,000 assessments (two and a half years of history and the weeks ahead), timed with
sequential requests for one day of availability against ``GET /api/v1/ping``.

The same on PostgreSQL, in the same run, with 1,000,000 assessments (the same
weekly pattern reaching back about 240 years, seeded in SQL) and the stricter
bar of issue 13: p50 <= 2x ping of that server. ``python bench/availability.py
sqlite`` or ``... postgres`` runs one HTTP case only (with the engine part).
"""

from __future__ import annotations

import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

# Run from a checkout (`python bench/x.py`): the repository root holds tests.support,
# and backend/ the package when it is not installed.
REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "backend")]

from slotwise.domain.actors import Actor
from slotwise.domain.availability import find_slots
from slotwise.domain.model import Busy, ResourceCalendar, ServiceRules, TimeRange
from tests.support.postgres import change_notices, create_postgres_database, drop_postgres_database
from tests.support.servers import ServerProcess

APPLIER = Actor.system("bench")

ENGINE_BAR_MS = 10.0
SEED = 20260311
ZONE = ZoneInfo("Europe/Berlin")
# A Wednesday morning; the window starts on the following Monday, 2026-03-16.
NOW = datetime(2026, 3, 11, 9, 17, tzinfo=ZONE)
WINDOW_DAYS = 31
RESOURCES = 10
BUSY_ENTRIES = 5_000


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def build_engine_scenario(seed: int = SEED) -> dict:
    """The §10 engine scenario, the same on every run for a given seed."""
    rng = random.Random(seed)

    calendars: dict[str, ResourceCalendar] = {}
    for number in range(RESOURCES):
        key = f"staff-{number:02d}"
        opens = rng.choice(["07:30", "08:00", "08:30", "09:00"])
        lunch = rng.choice(["12:00", "12:30", "13:00"])
        lunch_minutes = rng.choice([30, 45, 60])
        closes = rng.choice(["16:00", "17:00", "17:30", "18:00", "19:00"])
        morning = TimeRange(_minutes(opens), _minutes(lunch))
        afternoon = TimeRange(_minutes(lunch) + lunch_minutes, _minutes(closes))
        weekly = {weekday: (morning, afternoon) for weekday in range(5)}
        weekly[5] = (TimeRange(_minutes("09:00"), _minutes("13:00")),)
        calendars[key] = ResourceCalendar(key=key, zone=ZONE, weekly=weekly)

    service = ServiceRules(
        key="session",
        duration=timedelta(minutes=30),
        step=timedelta(minutes=15),
        resource_groups=(tuple(calendars),),
        buffer_after=timedelta(minutes=10),
        min_notice=timedelta(hours=2),
        max_advance=timedelta(days=60),
    )

    days_ahead = (7 - NOW.weekday()) % 7 or 7
    monday = NOW.date() + timedelta(days=days_ahead)
    window_start = datetime.combine(monday, datetime.min.time(), ZONE)
    window_end = datetime.combine(monday + timedelta(days=WINDOW_DAYS), datetime.min.time(), ZONE)

    # Busy entries: random 5-minute-aligned starts anywhere in the window,
    # 15-60 minutes long; an entry overlapping one already on that resource is
    # drawn again, so each resource holds disjoint blocks.
    first = int(window_start.timestamp())
    last = int(window_end.timestamp())
    taken: dict[str, list[tuple[int, int]]] = {key: [] for key in calendars}
    busy: list[Busy] = []
    keys = list(calendars)
    while len(busy) < BUSY_ENTRIES:
        key = keys[len(busy) % len(keys)]
        start = first + rng.randrange(0, (last - first) // 300) * 300
        end = start + rng.choice([15, 30, 45, 60]) * 60
        if end > last or any(start < u and f < end for f, u in taken[key]):
            continue
        taken[key].append((start, end))
        busy.append(
            Busy(
                resource=key,
                blocked_from=datetime.fromtimestamp(start, UTC),
                blocked_until=datetime.fromtimestamp(end, UTC),
                service="session",
                start=datetime.fromtimestamp(start, UTC),
            )
        )

    return {
        "service": service,
        "calendars": calendars,
        "busy": busy,
        "window_start": window_start,
        "window_end": window_end,
        "now": NOW,
        # Good Friday and Easter Monday: the whole site is closed.
        "site_closed": frozenset({date(2026, 4, 3), date(2026, 4, 6)}),
    }


def engine_benchmark(runs: int = 50, warmup: int = 5) -> dict:
    """Time :func:`find_slots` on the §10 scenario; figures in milliseconds."""
    scenario = build_engine_scenario()

    def once() -> list:
        return find_slots(
            scenario["service"],
            scenario["calendars"],
            scenario["busy"],
            window_start=scenario["window_start"],
            window_end=scenario["window_end"],
            now=scenario["now"],
            site_closed=scenario["site_closed"],
        )

    for _ in range(warmup):
        slots = once()
    timings = []
    for _ in range(runs):
        began = time.perf_counter_ns()
        slots = once()
        timings.append((time.perf_counter_ns() - began) / 1e6)
    timings.sort()
    median = statistics.median(timings)
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return {
        "name": "engine: 31 days, 10 resources, 15-min step, 5,000 busy",
        "window": f"{scenario['window_start']:%Y-%m-%d} .. {scenario['window_end']:%Y-%m-%d} "
        f"({ZONE.key}, now {NOW:%Y-%m-%d %H:%M})",
        "resources": len(scenario["calendars"]),
        "busy": len(scenario["busy"]),
        "slots": len(slots),
        "runs": runs,
        "median_ms": median,
        "p95_ms": p95,
        "min_ms": timings[0],
        "bar_ms": ENGINE_BAR_MS,
        "ratio": median / ENGINE_BAR_MS,
        "passed": median <= ENGINE_BAR_MS,
    }


def _print_engine(result: dict) -> None:
    print(result["name"])
    print(f"  window          {result['window']}")
    print(f"  resources       {result['resources']}")
    print(f"  busy entries    {result['busy']}")
    print(f"  slots found     {result['slots']}")
    print(f"  runs            {result['runs']} (after warm-up)")
    print(f"  median          {result['median_ms']:.2f} ms")
    print(f"  p95             {result['p95_ms']:.2f} ms")
    print(f"  min             {result['min_ms']:.2f} ms")
    print(f"  bar (median)    {result['bar_ms']:.0f} ms")
    verdict = "PASS" if result["passed"] else "FAIL"
    print(f"  median / bar    {result['ratio']:.2f}  {verdict}")


# --------------------------------------------------------------------------
# HTTP: the availability endpoint against a plain endpoint, same server, same run
# --------------------------------------------------------------------------

HTTP_BOOKINGS = 10_000
HTTP_REQUESTS = 300  # per endpoint, after warm-up
HTTP_BAR_RATIO = 3.0
# Issue 13: PostgreSQL as fast as SQLite, measured with a hundred times the data.
POSTGRES_BOOKINGS = 1_000_000
POSTGRES_BAR_RATIO = 2.0
DEMO_SITE = Path(__file__).resolve().parents[1] / "examples" / "harbour-physio.toml"


async def _seed(env: dict[str, str], bookings: int, now: datetime) -> None:
    """The demo site plus ``bookings`` assessments: about two and a half years of history up to the next weeks.

    Bookings fill the therapists' days back to back at 09:00, 10:00, ... so
    every day in range is busy, as in a practice that has run for a while.
    """
    from slotwise.persistence.engine import Database
    from slotwise.persistence.migrate import migrate
    from slotwise.settings import Settings

    async with Database(Settings.from_env(env)) as database:
        await migrate(database.engine)
        await _seed_rows(bookings, now)


async def _seed_rows(bookings: int, now: datetime) -> None:
    import uuid

    from slotwise.persistence.tables import Allocation, Booking, Resource, Service, Site
    from slotwise.services.sites import apply_site
    from slotwise.sitefile import load_site_file

    await apply_site(load_site_file(DEMO_SITE), actor=APPLIER, now=now)
    site = await Site.select().where(Site.slug == "harbour-physio").first()
    service = await Service.select().where(
        (Service.site == site["id"]) & (Service.slug == "assessment")).first()
    resource_ids = {r["key"]: r["id"] for r in await Resource.select(Resource.key, Resource.id)}
    pairs = [("anna", "room-1"), ("ben", "room-2")]
    duration = timedelta(minutes=service["duration_minutes"])
    after = timedelta(minutes=service["buffer_after_minutes"])

    day = (now - timedelta(days=860)).replace(hour=8, minute=0, second=0, microsecond=0)
    made = 0
    booking_rows, allocation_specs = [], []
    while made < bookings:
        if day.weekday() < 5:
            for hour in range(8):
                for therapist, room in pairs:
                    if made == bookings:
                        break
                    start = day + timedelta(hours=hour)
                    booking_rows.append(Booking(
                        uid=uuid.uuid4(), site=site["id"], service=service["id"], start_at=start,
                        end_at=start + duration, customer_name="Bench Customer",
                        customer_email="bench@example.com", timezone="Europe/Berlin",
                        created_at=start, updated_at=start))
                    allocation_specs.append((start, resource_ids[therapist], resource_ids[room]))
                    made += 1
        day += timedelta(days=1)
    for chunk in range(0, len(booking_rows), 500):
        inserted = await Booking.insert(*booking_rows[chunk:chunk + 500])
        allocations = []
        for row, (start, *resources) in zip(inserted, allocation_specs[chunk:chunk + 500]):
            for resource in resources:
                allocations.append(Allocation(
                    resource=resource, service=service["id"], booking=row["id"], start_at=start,
                    end_at=start + duration, blocked_from=start, blocked_until=start + duration + after))
        await Allocation.insert(*allocations)


async def _seed_postgres(env: dict[str, str], bookings: int, now: datetime) -> None:
    """As :func:`_seed_rows`, in two INSERT ... SELECT statements: a million rows in seconds, not hours.

    The same pattern: weekdays only, 08:00-15:00 UTC on the hour, Anna with
    room 1 and Ben with room 2 at each hour, 16 bookings a day. The last day
    is the one a 10,000-booking seed reaches (about two weeks ahead), so the
    day asked for looks alike in both databases; a million bookings then
    begin about 240 years back.
    """
    from piccolo.querystring import QueryString

    from slotwise.persistence.engine import Database
    from slotwise.persistence.migrate import migrate
    from slotwise.persistence.tables import Resource, Service, Site
    from slotwise.services.sites import apply_site
    from slotwise.settings import Settings
    from slotwise.sitefile import load_site_file

    per_day = 16
    async with Database(Settings.from_env(env)) as database:
        await migrate(database.engine)
        await apply_site(load_site_file(DEMO_SITE), actor=APPLIER, now=now)
        site = await Site.select(Site.id).where(Site.slug == "harbour-physio").first()
        service = await Service.select().where(
            (Service.site == site["id"]) & (Service.slug == "assessment")).first()
        ids = {r["key"]: r["id"] for r in await Resource.select(Resource.key, Resource.id)}
        days = -(-bookings // per_day)
        last_monday = (now + timedelta(days=14 - now.weekday())).replace(
            hour=8, minute=0, second=0, microsecond=0)
        first_monday = last_monday - timedelta(weeks=days // 5)
        run = database.engine.run_querystring
        await run(QueryString(
            """INSERT INTO booking (uid, site, service, status, start_at, end_at, customer_name,
                   customer_email, answers, locale, timezone, resource_ids, created_at, updated_at)
               SELECT gen_random_uuid(), {}, {}, 'confirmed', t, t + {}::int * interval '1 minute',
                      'Bench Customer', 'bench@example.com', {}::json, 'en', 'Europe/Berlin',
                      (CASE WHEN i % 2 = 0 THEN {}::text ELSE {}::text END)::json, t, t
               FROM (SELECT i, {}::timestamptz + ((i / 16) / 5 * 7 + (i / 16) % 5) * interval '1 day'
                                + ((i % 16) / 2) * interval '1 hour' AS t
                     FROM generate_series(0, {}::int - 1) AS i) AS s""",
            site["id"], service["id"], service["duration_minutes"], "{}",
            f"[{ids['anna']}, {ids['room-1']}]", f"[{ids['ben']}, {ids['room-2']}]",
            first_monday, bookings))
        await run(QueryString(
            """INSERT INTO allocation (resource, service, booking, start_at, end_at, blocked_from,
                   blocked_until, seats)
               SELECT r.value::int, b.service, b.id, b.start_at, b.end_at, b.start_at,
                      b.end_at + {}::int * interval '1 minute', 1
               FROM booking AS b, json_array_elements_text(b.resource_ids) AS r""",
            service["buffer_after_minutes"]))
        # Settled, as a database that has run for years is: without this,
        # autovacuum works through the fresh 3 million rows during the timing.
        await run(QueryString("VACUUM ANALYZE"))


def _time_pairs(client, url: str, count: int, before=None) -> tuple[list[float], list[float]]:
    """Ping and ``url`` taken in turns, so both meet the same load on a shared machine (ms).

    ``before``, when given, runs (untimed) before each timed pair.
    """
    for _ in range(20):
        client.get("/api/v1/ping").raise_for_status()
        client.get(url).raise_for_status()
    plain, timed = [], []
    for _ in range(count):
        if before is not None:
            before()
        began = time.perf_counter()
        client.get("/api/v1/ping").raise_for_status()
        between = time.perf_counter()
        client.get(url).raise_for_status()
        plain.append((between - began) * 1000)
        timed.append((time.perf_counter() - between) * 1000)
    return plain, timed


# The server counts as production does: both budgets on (ServerProcess turns them off
# for races). The read budget is production's 300 a minute raised so the timed
# requests are counted but never refused; counting costs the same at any budget.
BUDGETS = {"SLOTWISE_RATE_LIMIT": "60", "SLOTWISE_READ_RATE_LIMIT": "100000"}


def http_benchmark(database: str = "sqlite") -> dict:
    """The availability endpoint against ping on one server: ``sqlite`` (10,000) or ``postgres`` (1,000,000)."""
    import httpx

    workdir = Path(tempfile.mkdtemp(prefix="slotwise-bench-"))
    now = datetime.now(UTC)
    postgres_url = None
    seeding = time.perf_counter()
    if database == "postgres":
        postgres_url = create_postgres_database(prefix="slotwise_bench")
        env = {"SLOTWISE_DATA_DIR": str(workdir), "SLOTWISE_DATABASE_URL": postgres_url}
        bookings, bar = POSTGRES_BOOKINGS, POSTGRES_BAR_RATIO
    else:
        env = {"SLOTWISE_DATA_DIR": str(workdir),
               "SLOTWISE_DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite'}"}
        bookings, bar = HTTP_BOOKINGS, HTTP_BAR_RATIO

    try:
        if postgres_url:
            asyncio.run(_seed_postgres(env, bookings, now))
        else:
            asyncio.run(_seed(env, bookings, now))
        seeded = time.perf_counter() - seeding
        with ServerProcess({**env, **BUDGETS}) as server, httpx.Client(base_url=server.url, timeout=10) as client:
            day = (now + timedelta(days=(7 - now.weekday()) % 7 or 7)).date().isoformat()
            availability = (f"/api/v1/sites/harbour-physio/availability"
                            f"?service=assessment&start={day}&end={day}")
            plain, slots = _time_pairs(client, availability, HTTP_REQUESTS)
            slot_count = len(client.get(availability).json()["slots"])
            changed = _after_each_change(postgres_url, client, availability) if postgres_url else None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if postgres_url:
            drop_postgres_database(postgres_url)
    plain_p50, slots_p50 = statistics.median(plain), statistics.median(slots)
    engine = "PostgreSQL" if postgres_url else "SQLite"
    return {"name": f"http: availability endpoint vs plain endpoint, same server, {engine}",
            "bookings": bookings, "seeded_s": seeded, "requests": HTTP_REQUESTS, "slots": slot_count,
            "plain_p50_ms": plain_p50, "availability_p50_ms": slots_p50,
            "availability_p95_ms": statistics.quantiles(slots, n=20)[18],
            "ratio": slots_p50 / plain_p50, "bar": bar, "passed": slots_p50 / plain_p50 <= bar,
            "after_change": changed}


def _after_each_change(postgres_url: str, client, url: str) -> tuple[float, float]:
    """Ping and availability p50 when busy time changed elsewhere before every read.

    On PostgreSQL a process keeps busy time it read until a change notice
    (persistence/change_feed.py), so the figures above are mostly served from
    memory. Here another connection sends the notice a booking, hold or time
    off would send before each timed read, so every read goes to the database:
    the cost on a site where something changes between any two page views.
    """
    with change_notices(postgres_url, "allocation") as change_elsewhere:
        plain, slots = _time_pairs(client, url, HTTP_REQUESTS // 2, before=change_elsewhere)
    return statistics.median(plain), statistics.median(slots)


def _print_http(result: dict) -> None:
    print(result["name"])
    print(f"  bookings in db  {result['bookings']:,} (seeded in {result['seeded_s']:.1f} s)")
    print(f"  requests        {result['requests']} per endpoint, sequential, in turns, after warm-up")
    print(f"  slots per reply {result['slots']} (one day of assessments, therapist + room)")
    print(f"  plain p50       {result['plain_p50_ms']:.2f} ms   (GET /api/v1/ping)")
    print(f"  availability p50 {result['availability_p50_ms']:.2f} ms   "
          f"(p95 {result['availability_p95_ms']:.2f} ms)")
    verdict = "PASS" if result["passed"] else "FAIL"
    print(f"  ratio           {result['ratio']:.2f}x  (bar {result['bar']:g}x, "
          f"ratio/bar {result['ratio'] / result['bar']:.2f})  {verdict}")
    if result.get("after_change"):
        plain, slots = result["after_change"]
        print(f"  after a change  {slots:.2f} ms vs ping {plain:.2f} ms = {slots / plain:.2f}x  "
              f"(busy time changed elsewhere before every read: nothing served from memory)")


def main(argv: list[str]) -> int:
    databases = argv or ["sqlite", "postgres"]
    engine = engine_benchmark()
    _print_engine(engine)
    passed = engine["passed"]
    for database in databases:
        print()
        http = http_benchmark(database)
        _print_http(http)
        passed = passed and http["passed"]
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
