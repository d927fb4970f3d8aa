"""Benchmark: availability with connected calendars (issue 12).

Run: ``python bench/calendars.py``. The availability HTTP case of
``bench/availability.py`` (a real ``slotwise serve`` on SQLite with the demo
site and 10,000 bookings) plus three connected calendars of 2,000 busy events
each, on anna, ben and room-1, spread over the next 90 days (about 22 a day
per calendar, 15-45 minutes long): the busy blocks a sync would have stored.
Bar: availability p50 <= 3x ``GET /api/v1/ping`` of the same server, same run.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import statistics
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "backend"), str(REPO / "bench")]

from availability import BUDGETS, HTTP_BAR_RATIO, HTTP_BOOKINGS, HTTP_REQUESTS, _seed_rows, _time_pairs  # noqa: E402

from tests.support.servers import ServerProcess  # noqa: E402

CALENDARS = ("anna", "ben", "room-1")
EVENTS_PER_CALENDAR = 2_000
SEED = 20261201


async def _seed(env: dict[str, str], now: datetime, with_calendars: bool) -> None:
    from slotwise.persistence.engine import Database
    from slotwise.persistence.migrate import migrate
    from slotwise.persistence.tables import CalendarBusy, CalendarConnection, Resource, Site
    from slotwise.settings import Settings

    async with Database(Settings.from_env(env)) as database:
        await migrate(database.engine)
        await _seed_rows(HTTP_BOOKINGS, now)
        if not with_calendars:
            return
        site = await Site.select(Site.id).where(Site.slug == "harbour-physio").first()
        resources = {r["key"]: r["id"] for r in await Resource.select(Resource.key, Resource.id)}
        rng = random.Random(SEED)
        for n, key in enumerate(CALENDARS):
            [row] = await CalendarConnection.insert(CalendarConnection(
                public_id=f"cal_bench{n}", site=site["id"], resource=resources[key], kind="ics",
                url=f"https://calendar.example/{key}.ics", state="ok", last_synced_at=now,
                next_sync_at=now + timedelta(days=365), created_at=now))
            blocks = []
            for i in range(EVENTS_PER_CALENDAR):
                start = now + timedelta(minutes=15 * rng.randrange(0, 90 * 24 * 4))
                blocks.append(CalendarBusy(connection=row["id"], resource=resources[key], start_at=start,
                                           end_at=start + timedelta(minutes=rng.choice((15, 30, 45))),
                                           uid=f"bench-{key}-{i}"))
            for chunk in range(0, len(blocks), 500):
                await CalendarBusy.insert(*blocks[chunk:chunk + 500])


def run(with_calendars: bool) -> tuple[float, float, int]:
    import httpx

    workdir = Path(tempfile.mkdtemp(prefix="slotwise-bench-calendars-"))
    env = {"SLOTWISE_DATA_DIR": str(workdir), "SLOTWISE_DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite'}",
           **BUDGETS}
    now = datetime.now(UTC)
    asyncio.run(_seed(env, now, with_calendars))
    try:
        with ServerProcess(env) as server, httpx.Client(base_url=server.url, timeout=10) as client:
            # A Monday five weeks ahead: past the seeded bookings (they fill the next two weeks),
            # inside the calendars' 90 days, so the day has free slots to compute.
            day = (now + timedelta(days=35 - now.weekday())).date().isoformat()
            url = f"/api/v1/sites/harbour-physio/availability?service=assessment&start={day}&end={day}"
            # Ping and availability in turns, so both meet the same load (as bench/availability.py).
            plain, slots = _time_pairs(client, url, HTTP_REQUESTS)
            slot_count = len(client.get(url).json()["slots"])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return statistics.median(plain), statistics.median(slots), slot_count


def main() -> int:
    _, base_p50, base_slots = run(with_calendars=False)
    plain_p50, slots_p50, slot_count = run(with_calendars=True)
    ratio = slots_p50 / plain_p50
    print("http: availability with 3 connected calendars x 2,000 busy events, SQLite")
    print(f"  bookings in db   {HTTP_BOOKINGS:,}; busy blocks {len(CALENDARS) * EVENTS_PER_CALENDAR:,}")
    print(f"  slots per reply  {slot_count} (without the calendars: {base_slots})")
    print(f"  without calendars availability p50 {base_p50:.2f} ms (a separate server, for scale)")
    print(f"  plain p50        {plain_p50:.2f} ms   (GET /api/v1/ping)")
    print(f"  availability p50 {slots_p50:.2f} ms")
    print(f"  ratio            {ratio:.2f}x  (bar {HTTP_BAR_RATIO:.0f}x)  {'PASS' if ratio <= HTTP_BAR_RATIO else 'FAIL'}")
    return 0 if ratio <= HTTP_BAR_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
