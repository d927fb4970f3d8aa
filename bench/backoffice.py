"""The back office's day view on a busy PostgreSQL database: server time and page weight.

Run: ``python bench/backoffice.py`` from the repository root (PostgreSQL at
127.0.0.1:5432, user postgres; a throwaway database is created and dropped).
``--profile FILE`` also runs the server under cProfile and writes its stats
to FILE (the figures then include the profiler's cost: for finding, not for the bar).

Bars (issue 11, "Benchmarks"):

- server time: with 100,000 bookings in the database, the day view of a site
  with 10 resources and 120 bookings that day (``GET /admin/sites/<site>``
  with ``?day=``, signed in with a real account and its session cookie)
  answers with a p50 of at most 5x ``GET /api/v1/ping`` of the same server,
  in the same run (the two taken in turns, so both meet the same load);
- page weight: the day view's HTML plus the CSS and JS it loads (htmx
  included), each gzipped, at most 60 KB; at most 6 requests to show it
  (the page, what it links, and the favicon a browser asks for unless the
  page names one).

The measured site has 10 people open every day 08:00-20:00 and one service any
of them gives; each of them has 12 bookings a day, 41 days either side of the
measured day (9,960 bookings, each with its allocation, as the booking service
writes them). The other 90,040 bookings belong to 19 copies of the demo
practice, as in ``bench/admin.py``. Seeded in SQL, then ``VACUUM ANALYZE``.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "backend")]

from slotwise.domain.access import Role  # noqa: E402
from slotwise.domain.actors import Actor  # noqa: E402
from slotwise.web.compression import FAST_LEVELS  # noqa: E402
from tests.support.postgres import (  # noqa: E402
    change_notices,
    create_postgres_database,
    drop_postgres_database,
)
from tests.support.servers import ServerProcess  # noqa: E402

BOOKINGS = 100_000
RESOURCES = 10
PER_RESOURCE_A_DAY = 12  # 120 bookings on the measured day
DAYS_EACH_SIDE = 41  # 83 days x 120 = 9,960 bookings of the measured site
OTHER_SITES = 19
REQUESTS = 300
BAR_RATIO = 5.0
BAR_WEIGHT_KB = 60
BAR_REQUESTS = 6
SITE = "busy-clinic"
# Both rate-limit budgets on, as in production (ServerProcess turns them off for
# races): every request passes both middlewares. The pages count against neither;
# the one sign-in is a POST, well inside the write budget.
BUDGETS = {"SLOTWISE_RATE_LIMIT": "60", "SLOTWISE_READ_RATE_LIMIT": "300"}
PASSWORD = "bench password, long enough"
EMAIL = "owner@busy-clinic.example"
DEMO_SITE = REPO / "examples" / "harbour-physio.toml"
BENCH = Actor.system("bench")
ZONE = "Europe/Berlin"


def _site_file() -> str:
    hours = ", ".join(f'{d} = ["08:00-20:00"]' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    resources = "".join(f'\n[[resources]]\nkey = "r{n:02d}"\nname = "Therapist {n:02d}"\nkind = "person"\n'
                        for n in range(1, RESOURCES + 1))
    keys = ", ".join(f'"r{n:02d}"' for n in range(1, RESOURCES + 1))
    return f"""
[site]
slug = "{SITE}"
name = "Busy Clinic"
timezone = "{ZONE}"
locale = "en"
allowed_origins = ["https://busy-clinic.example"]

[site.hours]
{hours.replace(", ", chr(10))}
{resources}
[[services]]
slug = "visit"
name = "Visit"
duration = 45
step = 15
max_advance = "365d"
resources = [[{keys}]]
"""


_MEASURED = """
INSERT INTO booking (uid, site, service, status, start_at, end_at, customer_name, customer_email, answers,
                     locale, timezone, resource_ids, created_at, updated_at)
SELECT gen_random_uuid(), $1, $2, 'confirmed', t, t + interval '45 minutes',
       'Customer ' || d || '-' || j, 'customer' || d || '-' || j || '@example.com', '{}'::json, 'en', $5,
       json_build_array(($3::integer[])[j % 10 + 1]), t, t
FROM (SELECT d, j, (($4::date + d) + time '08:00' + (j / 10) * interval '1 hour') AT TIME ZONE $5 AS t
      FROM generate_series(-$6::integer, $6::integer) AS d, generate_series(0, $7::integer - 1) AS j) AS s
"""

_ALLOCATIONS = """
INSERT INTO allocation (resource, service, booking, start_at, end_at, blocked_from, blocked_until, seats)
SELECT (resource_ids->>0)::integer, service, id, start_at, end_at, start_at, end_at, 1
FROM booking WHERE site = $1
"""

_OTHERS = """
INSERT INTO booking (uid, site, service, status, start_at, end_at, customer_name, customer_email, answers,
                     locale, timezone, resource_ids, created_at, updated_at)
SELECT gen_random_uuid(), $1, $2, 'confirmed', t, t + interval '30 minutes',
       'Customer ' || i, 'customer' || i || '@example.com', '{}'::json, 'en', 'Europe/Berlin',
       json_build_array($3::integer), t, t
FROM (SELECT i, $4::timestamptz + (i * interval '105 minutes') AS t FROM generate_series(1, $5::integer) AS i) AS s
"""


async def _seed(env: dict[str, str], now: datetime, day: date) -> int:
    """The measured site and its bookings, the other sites with theirs, and the owner's account."""
    from slotwise.persistence.engine import Database, postgres_fetch
    from slotwise.persistence.migrate import migrate
    from slotwise.persistence.tables import Resource, Service, Site
    from slotwise.services import accounts
    from slotwise.services.config import ServiceConfig
    from slotwise.services.sites import apply_site
    from slotwise.settings import Settings
    from slotwise.sitefile import parse_site

    settings = Settings.from_env(env)
    async with Database(settings) as database:
        engine = database.engine
        await migrate(engine)
        await apply_site(parse_site(_site_file(), source=SITE), actor=BENCH, now=now)
        site = await Site.select(Site.id).where(Site.slug == SITE).first()
        service = await Service.select(Service.id).where(Service.site == site["id"]).first()
        ids = [row["id"] for row in await Resource.select(Resource.id).where(Resource.site == site["id"])
               .order_by(Resource.position)]
        await postgres_fetch(engine, _MEASURED, site["id"], service["id"], ids, day, ZONE, DAYS_EACH_SIDE,
                             RESOURCES * PER_RESOURCE_A_DAY)
        await postgres_fetch(engine, _ALLOCATIONS, site["id"])
        measured = (2 * DAYS_EACH_SIDE + 1) * RESOURCES * PER_RESOURCE_A_DAY
        rest = BOOKINGS - measured
        text = DEMO_SITE.read_text()
        for n in range(OTHER_SITES):
            slug = f"practice-{n:02d}"
            await apply_site(parse_site(text.replace('slug = "harbour-physio"', f'slug = "{slug}"'),
                                        source=slug), actor=BENCH, now=now)
            other = await Site.select(Site.id).where(Site.slug == slug).first()
            follow_up = await Service.select(Service.id).where(
                (Service.site == other["id"]) & (Service.slug == "follow-up")).first()
            anna = await Resource.select(Resource.id).where(
                (Resource.site == other["id"]) & (Resource.key == "anna")).first()
            count = rest // OTHER_SITES + (1 if n < rest % OTHER_SITES else 0)
            await postgres_fetch(engine, _OTHERS, other["id"], follow_up["id"], anna["id"],
                                 now - timedelta(days=180), count)
        # Settled, as a database in use for a while is (see bench/admin.py).
        await postgres_fetch(engine, "VACUUM ANALYZE")
        [total] = await postgres_fetch(engine, "SELECT count(*) AS n FROM booking")
        added = await accounts.add_member(EMAIL, site_slug=SITE, role=Role.OWNER, resource=None, actor=BENCH,
                                          now=now, config=ServiceConfig.from_settings(settings),
                                          send_invitation=False)
        await accounts.set_password(added.link_url.rsplit("/", 1)[1], PASSWORD, now=now)
    return total["n"]


def _sign_in(client) -> None:
    """The sign-in form as a browser sends it: its CSRF token, then the session cookie in the jar."""
    page = client.get("/admin/login")
    page.raise_for_status()
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    response = client.post("/admin/login", data={"email": EMAIL, "password": PASSWORD, "next": "/admin",
                                                 "csrf": csrf})
    if response.status_code != 303 or "slotwise_session" not in client.cookies:
        raise RuntimeError(f"sign-in failed: {response.status_code} {response.text[:300]}")


def _time_pairs(clients: list, url: str, *, requests: int = REQUESTS,
                before: Callable[[], None] | None = None) -> list[tuple[list[float], list[float]]]:
    """Ping and ``url`` taken in turns, on each server in turn, so all meet the same load (ms).

    ``before`` runs ahead of every pair (the after-a-change figure: a change notice).
    """
    for _ in range(20):
        for client in clients:
            client.get("/api/v1/ping").raise_for_status()
            client.get(url).raise_for_status()
    timings: list[tuple[list[float], list[float]]] = [([], []) for _ in clients]
    for _ in range(requests):
        for client, (plain, timed) in zip(clients, timings, strict=True):
            if before is not None:
                before()
            began = time.perf_counter()
            client.get("/api/v1/ping").raise_for_status()
            between = time.perf_counter()
            client.get(url).raise_for_status()
            plain.append((between - began) * 1000)
            timed.append((time.perf_counter() - between) * 1000)
    return timings


def _checkout(ref: str, into: Path) -> Path:
    """The code of ``ref`` (another commit of this repository) to serve from: its backend, templates, static files."""
    import subprocess

    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref, "backend", "templates", "static", "widget",
                              "examples"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    (into / "static" / "vendor").symlink_to(REPO / "static" / "vendor")  # from npm, not in git
    return into / "backend"


def _weight(client, url: str) -> tuple[list[tuple[str, int, int]], int]:
    """What showing the page fetches: (address, bytes, gzipped bytes) each, and the request count."""
    html = client.get(url)
    html.raise_for_status()
    parts = [(url, html.content)]
    linked = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', html.text)
    linked += re.findall(r'<script[^>]+src="([^"]+)"', html.text)
    for address in linked:
        response = client.get(urljoin(url, address))
        response.raise_for_status()
        parts.append((address, response.content))
    # Each part at the level the server sends it (web/compression.py): the page at the
    # back office's fast level, the static files at 9.
    def level(address: str) -> int:
        path = urlsplit(address).path
        return next((fast for prefix, fast in FAST_LEVELS if path.startswith(prefix)), 9)

    weights = [(address, len(body), len(gzip.compress(body, compresslevel=level(address)))) for address, body in parts]
    # A browser asks for /favicon.ico unless the page names an icon.
    favicon = 0 if re.search(r'<link[^>]+rel="(?:shortcut )?icon"', html.text) else 1
    return weights, len(parts) + favicon


def main() -> int:
    import httpx

    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", type=Path, help="run the server under cProfile, stats into this file")
    parser.add_argument("--against", metavar="REF",
                        help="also serve the code of this commit on the same database and time both in turns")
    args = parser.parse_args()
    url = create_postgres_database(prefix="slotwise_bench")
    env = {"SLOTWISE_DATABASE_URL": url, "SLOTWISE_SECRET_KEY": "bench-" + "k" * 32}
    now = datetime.now(UTC)
    from zoneinfo import ZoneInfo
    day = now.astimezone(ZoneInfo(ZONE)).date()
    import tempfile
    from contextlib import ExitStack
    try:
        began = time.perf_counter()
        total = asyncio.run(_seed(env, now, day))
        seeded = time.perf_counter() - began
        with ExitStack() as stack:
            servers = [ServerProcess({**env, **BUDGETS})]
            if args.profile:
                servers[0].profile = args.profile.resolve()
            if args.against:
                code = _checkout(args.against, Path(stack.enter_context(tempfile.TemporaryDirectory())))
                servers.append(ServerProcess({**env, **BUDGETS, "PYTHONPATH": str(code)}))
            clients = []
            for server in servers:
                stack.enter_context(_served(server))
                clients.append(stack.enter_context(httpx.Client(base_url=server.url, timeout=30)))
                _sign_in(clients[-1])
            view = f"/admin/sites/{SITE}?day={day}"
            page = clients[0].get(view)
            page.raise_for_status()
            found = re.search(r'class="count"[^>]*>([^<]+)<', page.text)
            shown = found.group(1).strip() if found else "?"
            timings = _time_pairs(clients, view)
            # On PostgreSQL a drawn day is kept until a change notice (services/day_sheet.shown_day):
            # the figure above is what every screen polling an unchanged day meets. Here another
            # connection announces a booking change before each read, so every page is read and drawn.
            with change_notices(url, "booking") as change_elsewhere:
                [(plain_changed, viewed_changed)] = _time_pairs(clients[:1], view, requests=REQUESTS // 2,
                                                                before=change_elsewhere)
            weights, requests = _weight(clients[0], view)
    finally:
        drop_postgres_database(url)
    (plain, viewed) = timings[0]
    if args.against:
        before_plain, before_viewed = (statistics.median(t) for t in timings[1])
        print(f"back office: {args.against} (before), served from the same database in the same run")
        print(f"  plain p50       {before_plain:.2f} ms   day view p50 {before_viewed:.2f} ms   "
              f"ratio {before_viewed / before_plain:.2f}x")
    plain_p50, view_p50 = statistics.median(plain), statistics.median(viewed)
    ratio = view_p50 / plain_p50
    gzipped = sum(z for _, _, z in weights) / 1024
    print("back office: the day view vs a plain endpoint, same server, PostgreSQL")
    print(f"  bookings in db  {total:,}; the day: {RESOURCES} resources, "
          f"{RESOURCES * PER_RESOURCE_A_DAY} bookings, the page says “{shown}” (seeded in {seeded:.1f} s)")
    print(f"  requests        {REQUESTS} per endpoint, sequential, in turns, after warm-up, signed in")
    print(f"  plain p50       {plain_p50:.2f} ms   (GET /api/v1/ping)")
    print(f"  day view p50    {view_p50:.2f} ms   (p95 {statistics.quantiles(viewed, n=20)[18]:.2f} ms)")
    timed_ok = ratio <= BAR_RATIO
    print(f"  ratio           {ratio:.2f}x  (bar {BAR_RATIO:g}x, ratio/bar {ratio / BAR_RATIO:.2f})  "
          f"{'PASS' if timed_ok else 'FAIL'}")
    changed_p50, changed_plain = statistics.median(viewed_changed), statistics.median(plain_changed)
    print(f"  after a change  {changed_p50:.2f} ms vs ping {changed_plain:.2f} ms = {changed_p50 / changed_plain:.2f}x  "
          "(a booking changed elsewhere before every read: the day read and drawn)")
    print("back office: the day view's page weight (each part gzipped at the level the server uses)")
    for address, size, packed in weights:
        print(f"  {address.split('?')[0]:<40} {size / 1024:7.1f} KB  gzipped {packed / 1024:6.1f} KB")
    weight_ok = gzipped <= BAR_WEIGHT_KB and requests <= BAR_REQUESTS
    print(f"  total           {gzipped:.1f} KB gzipped (bar {BAR_WEIGHT_KB} KB), {requests} requests "
          f"(bar {BAR_REQUESTS}, favicon counted)  {'PASS' if weight_ok else 'FAIL'}")
    return 0 if timed_ok and weight_ok else 1


class _served:
    """The server, optionally under cProfile (``python -m cProfile -o FILE -m slotwise.cli serve``)."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server

    def __enter__(self) -> ServerProcess:
        profile = getattr(self.server, "profile", None)
        if profile is None:
            return self.server.start()
        import subprocess
        import urllib.request

        s = self.server
        s.process = subprocess.Popen(
            [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "slotwise.cli", "serve",
             "--host", s.host, "--port", str(s.port)], env=s.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{s.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return s
            except OSError:
                time.sleep(0.1)
        s.stop()
        raise RuntimeError("server did not start")

    def __exit__(self, *exc_info: object) -> None:
        # SIGINT, so cProfile writes its stats on the way out.
        import signal

        process = self.server.process
        if process and process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)


if __name__ == "__main__":
    raise SystemExit(main())
