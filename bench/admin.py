"""The admin API's bookings list on a busy PostgreSQL database.

Run: ``python bench/admin.py`` from the repository root (PostgreSQL at
127.0.0.1:5432, user postgres; a throwaway database is created and dropped).

Bar: with 100,000 bookings over 20 sites, listing one week of one site (the
owner's weekly view: ``?from=<monday>&to=<sunday>``, the default page of 50)
answers with a p50 of at most 3x ``GET /api/v1/ping`` of the same server, in
the same run (the two taken in turns, so both meet the same load). Each site
is the demo practice (two therapists, two rooms) with one booking every
1 h 45 min from half a year back, so one week holds about 100 of them and the
list answers its first page of 50 with a cursor. The listed site holds 10,000
bookings, the other 19 share the remaining 90,000.

It also exports the listed site's 10,000 bookings as CSV (``bookings.csv``)
and prints the time and the server's peak memory before and after: the export
is streamed page by page, so the peak must hardly move.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "backend")]

from slotwise.domain.access import Scope  # noqa: E402
from slotwise.domain.actors import Actor  # noqa: E402
from tests.support.postgres import change_notices, create_postgres_database, drop_postgres_database  # noqa: E402
from tests.support.servers import ServerProcess  # noqa: E402

SITES = 20
BOOKINGS = 100_000
EXPORTED = 10_000  # the listed site's bookings, all of them exported


def bookings_of(n: int) -> int:
    """Site n's share: the first site EXPORTED, the others the rest, as evenly as can be."""
    if n == 0:
        return EXPORTED
    rest, others = BOOKINGS - EXPORTED, SITES - 1
    return rest // others + (1 if n - 1 < rest % others else 0)
REQUESTS = 300
BAR_RATIO = 3.0
DEMO_SITE = REPO / "examples" / "harbour-physio.toml"
BENCH = Actor.system("bench")
# Both rate-limit budgets on, as in production (ServerProcess turns them off for
# races): every request passes both middlewares. The list counts against neither.
BUDGETS = {"SLOTWISE_RATE_LIMIT": "60", "SLOTWISE_READ_RATE_LIMIT": "300"}


async def _seed(env: dict[str, str], now: datetime) -> str:
    """Twenty copies of the demo practice with their bookings; returns an API key of the first."""
    from piccolo.querystring import QueryString

    from slotwise.persistence.engine import Database
    from slotwise.persistence.migrate import migrate
    from slotwise.persistence.tables import Resource, Service, Site
    from slotwise.services import keys
    from slotwise.services.sites import apply_site
    from slotwise.settings import Settings
    from slotwise.sitefile import parse_site

    text = DEMO_SITE.read_text()
    async with Database(Settings.from_env(env)) as database:
        await migrate(database.engine)
        first = now - timedelta(days=180)
        for n in range(SITES):
            slug = f"practice-{n:02d}"
            await apply_site(parse_site(text.replace('slug = "harbour-physio"', f'slug = "{slug}"'),
                                        source=slug), actor=BENCH, now=now)
            site = await Site.select(Site.id).where(Site.slug == slug).first()
            service = await Service.select(Service.id).where(
                (Service.site == site["id"]) & (Service.slug == "follow-up")).first()
            anna = await Resource.select(Resource.id).where(
                (Resource.site == site["id"]) & (Resource.key == "anna")).first()
            # One booking every 1 h 45 min around the clock from half a year
            # back: 5,000 of them reach about four months ahead, 10,000 a year.
            await database.engine.run_querystring(QueryString(
                """INSERT INTO booking (uid, site, service, status, start_at, end_at, customer_name,
                       customer_email, answers, locale, timezone, resource_ids, created_at, updated_at)
                   SELECT gen_random_uuid(), {}, {}, 'confirmed', t, t + interval '30 minutes',
                          'Customer ' || i, 'customer' || i || '@example.com', {}::json, 'en',
                          'Europe/Berlin', {}::json, t, t
                   FROM (SELECT i, {}::timestamptz + (i * interval '105 minutes') AS t
                         FROM generate_series(1, {}) AS i) AS s""",
                site["id"], service["id"], "{}", f"[{anna['id']}]", first, bookings_of(n)))
        # Settled, as a database in use for a while is: without this, autovacuum
        # may work through the fresh rows while the requests are timed.
        await database.engine.run_querystring(QueryString("VACUUM ANALYZE"))
        created = await keys.create_key("practice-00", name="Bench", scopes=[Scope.BOOKINGS_READ],
                                        expires_at=None, actor=BENCH, now=now)
    return created.secret


def _time_pairs(client, url: str, headers: dict[str, str], *, requests: int = REQUESTS,
                before=None) -> tuple[list[float], list[float]]:
    """Ping and ``url`` taken in turns, so both meet the same load on a shared machine (ms).

    ``before``, when given, runs (untimed) before each timed pair.
    """
    for _ in range(20):
        client.get("/api/v1/ping").raise_for_status()
        client.get(url, headers=headers).raise_for_status()
    plain, timed = [], []
    for _ in range(requests):
        if before is not None:
            before()
        began = time.perf_counter()
        client.get("/api/v1/ping").raise_for_status()
        between = time.perf_counter()
        client.get(url, headers=headers).raise_for_status()
        plain.append((between - began) * 1000)
        timed.append((time.perf_counter() - between) * 1000)
    return plain, timed


def _after_each_change(postgres_url: str, client, url: str, headers: dict[str, str]) -> tuple[float, float]:
    """Ping and list p50 when a booking changed elsewhere before every read.

    On PostgreSQL a process keeps the answer of an unchanged page until a
    change notice (persistence/change_feed.py), so the figures above are
    mostly served from memory. Here another connection sends the notice any
    booking would send before each timed read: every page is read and built.
    """
    with change_notices(postgres_url, "booking") as change_elsewhere:
        plain, listed = _time_pairs(client, url, headers, requests=REQUESTS // 2, before=change_elsewhere)
    return statistics.median(plain), statistics.median(listed)


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/<pid>/status")


def _export(client, pid: int, headers: dict[str, str]) -> dict:
    """Stream practice-00's CSV once: time, size, rows, and the server's peak memory around it."""
    before = _peak_rss_mb(pid)
    began = time.perf_counter()
    first_byte = None
    size = lines = 0
    with client.stream("GET", "/api/v1/admin/sites/practice-00/bookings.csv", headers=headers) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            first_byte = first_byte or time.perf_counter() - began
            size += len(chunk)
            lines += chunk.count(b"\n")
    return {"seconds": time.perf_counter() - began, "first_byte_ms": (first_byte or 0) * 1000,
            "bytes": size, "rows": lines - 1, "peak_before_mb": before, "peak_after_mb": _peak_rss_mb(pid)}


def main() -> int:
    import httpx

    url = create_postgres_database(prefix="slotwise_bench")
    env = {"SLOTWISE_DATABASE_URL": url, "SLOTWISE_SECRET_KEY": "bench-" + "k" * 32}
    now = datetime.now(UTC)
    try:
        began = time.perf_counter()
        key = asyncio.run(_seed(env, now))
        seeded = time.perf_counter() - began
        monday = (now - timedelta(days=now.weekday())).date()
        week = f"from={monday}&to={monday + timedelta(days=6)}"
        with ServerProcess({**env, **BUDGETS}) as server, httpx.Client(base_url=server.url, timeout=30) as client:
            headers = {"Authorization": f"Bearer {key}"}
            listing = f"/api/v1/admin/sites/practice-00/bookings?{week}"
            page = client.get(listing, headers=headers).json()
            plain, listed = _time_pairs(client, listing, headers)
            changed = _after_each_change(url, client, listing, headers)
            export = _export(client, server.process.pid, headers)
    finally:
        drop_postgres_database(url)
    plain_p50, list_p50 = statistics.median(plain), statistics.median(listed)
    ratio = list_p50 / plain_p50
    print("admin: one week of one site's bookings vs a plain endpoint, same server, PostgreSQL")
    print(f"  bookings in db  {BOOKINGS:,} over {SITES} sites (seeded in {seeded:.1f} s)")
    print(f"  page            {len(page['data'])} bookings, next_cursor {'set' if page['next_cursor'] else 'none'}")
    print(f"  requests        {REQUESTS} per endpoint, sequential, in turns, after warm-up")
    print(f"  plain p50       {plain_p50:.2f} ms   (GET /api/v1/ping)")
    print(f"  list p50        {list_p50:.2f} ms   (p95 {statistics.quantiles(listed, n=20)[18]:.2f} ms)")
    verdict = "PASS" if ratio <= BAR_RATIO else "FAIL"
    print(f"  ratio           {ratio:.2f}x  (bar {BAR_RATIO:g}x, ratio/bar {ratio / BAR_RATIO:.2f})  {verdict}")
    plain_changed, listed_changed = changed
    print(f"  after a change  {listed_changed:.2f} ms vs ping {plain_changed:.2f} ms = "
          f"{listed_changed / plain_changed:.2f}x  (a booking changed elsewhere before every read: "
          "the page read from the database)")
    print("admin: CSV export of one site's bookings, streamed")
    print(f"  rows            {export['rows']:,} ({export['bytes'] / 1e6:.1f} MB)")
    print(f"  time            {export['seconds']:.2f} s (first byte after {export['first_byte_ms']:.0f} ms)")
    print(f"  server peak RSS {export['peak_before_mb']:.0f} MB before, {export['peak_after_mb']:.0f} MB after "
          f"(+{export['peak_after_mb'] - export['peak_before_mb']:.0f} MB)")
    return 0 if ratio <= BAR_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
