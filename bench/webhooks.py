"""Bookings with and without a subscribed webhook endpoint, and how soon the events arrive (issue 12).

Run: ``python bench/webhooks.py [--bookings N] [--database sqlite|postgres]``. A
fresh database (SQLite by default; ``postgres``: a throwaway one on 127.0.0.1) and one
process, as ``slotwise serve`` runs: 2N bookings through the booking service, in
blocks of 50 alternately with one endpoint subscribed to ``booking.created`` and
without, while the webhook worker runs in the same event loop, delivering to a receiver on
loopback (a process of its own) that verifies every signature with the
``standardwebhooks`` package. Prints booking p50/p95 both ways and their ratio
(bar ≤ 1.1×), the delay from commit to arrival p50/p95 (bar ≤ 1 s), events lost
(bar 0) and duplicate deliveries (bar 0).
"""

from __future__ import annotations

import argparse
import os
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "backend")]

RESOURCES = 10
BLOCK = 50  # bookings in a row with, then without, the endpoint subscribed
SITE = """
[site]
slug = "bench-hooks"
name = "Bench Hooks"
timezone = "Europe/Berlin"
locale = "en"
allowed_origins = ["https://bench.example"]

[site.hours]
mon = ["08:00-20:00"]
tue = ["08:00-20:00"]
wed = ["08:00-20:00"]
thu = ["08:00-20:00"]
fri = ["08:00-20:00"]
sat = ["08:00-20:00"]
sun = ["08:00-20:00"]
""" + "".join(f'\n[[resources]]\nkey = "r{i}"\nname = "Room {i}"\nkind = "room"\n' for i in range(RESOURCES)) + f"""
[[services]]
slug = "slot"
name = "Slot"
duration = 15
step = 15
min_notice = "0m"
max_advance = "365d"
resources = [{", ".join(f'"r{i}"' for i in range(RESOURCES))}]
"""


class Receiver:
    """The receiver in a process of its own (as a real one is): it verifies every signature and,
    when its input closes, prints per delivery the webhook-id, the booking id, the arrival time
    (wall clock) and whether the signature verified, one JSON line each."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.ids: Counter[str] = Counter()
        self.unverified = 0
        from tests.support.servers import free_port

        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self, secret: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--receiver", str(self.port), secret],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "ready"

    def finish(self) -> None:
        assert self.process is not None
        out, _ = self.process.communicate("", timeout=60)
        for line in out.splitlines():
            webhook_id, booking_id, arrived, verified = json.loads(line)
            self.ids[webhook_id] += 1
            self.arrivals.setdefault(booking_id, arrived)
            self.unverified += 0 if verified else 1


def serve_receiver(port: int, secret: str) -> None:
    from aiohttp import web
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    seen: list[tuple[str, str, float, bool]] = []

    async def receive(request: web.Request) -> web.Response:
        body = (await request.read()).decode()
        arrived = time.time()
        try:
            Webhook(secret).verify(body, dict(request.headers))
            verified = True
        except WebhookVerificationError:
            verified = False
        seen.append((request.headers["webhook-id"], json.loads(body)["data"]["id"], arrived, verified))
        return web.Response(text="ok")

    async def run() -> None:
        app = web.Application()
        app.router.add_post("/hooks", receive)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()

    asyncio.run(run())
    for entry in seen:
        print(json.dumps(entry))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def bench(count: int, settings, receiver: Receiver) -> dict:
    from slotwise.adapters.webhook_sender import WebhookSender
    from slotwise.clock import system_clock
    from slotwise.domain.actors import Actor
    from slotwise.persistence.engine import Database
    from slotwise.persistence.migrate import migrate
    from slotwise.persistence.queries import find_site
    from slotwise.services import bookings, webhooks
    from slotwise.services.config import ServiceConfig
    from slotwise.services.sites import apply_site
    from slotwise.persistence.tables import WebhookDelivery
    from slotwise.services.notifications import Messaging
    from slotwise.services.webhook_delivery import WebhookDeliverer
    from slotwise.sitefile import parse_site

    config = ServiceConfig.from_settings(settings)
    async with Database(settings) as database:
        await migrate(database.engine)
        now = system_clock()
        await apply_site(parse_site(SITE, source="bench"), actor=Actor.system("bench"), now=now)
        day = datetime.combine((now + timedelta(days=1)).date(), datetime.min.time(), tzinfo=UTC)
        starts = [day + timedelta(days=d, hours=8, minutes=15 * q)
                  for d in range(60) for q in range(40) for _ in range(RESOURCES)]
        starts.reverse()

        async def book(index: int) -> tuple[str, float]:
            start = starts.pop()
            began = time.perf_counter()
            result = await bookings.create_booking(
                "bench-hooks", bookings.BookingRequest(
                    service="slot", start=start,
                    customer={"name": f"Bench {index}", "email": f"bench{index}@example.com"}),
                actor=Actor.customer("bench"), now=system_clock(), config=config, notify=False)
            committed = time.perf_counter()
            return result.booking.public_id, committed - began

        site = await find_site("bench-hooks")
        created = await webhooks.create_endpoint(
            site, {"url": f"http://127.0.0.1:{receiver.port}/hooks", "events": ["booking.created"]},
            actor=Actor.system("bench"), now=system_clock(), secret_key=settings.secret_key, allow_private=True)
        receiver.start(created.secret)
        sender = WebhookSender(allow_private=True)
        worker = WebhookDeliverer(sender=sender, clock=system_clock, secret_key=settings.secret_key,
                                  messaging=Messaging.from_settings(settings))
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop)) if not os.environ.get("BENCH_NO_WORKER") else None

        async def listen(events: list[str]) -> None:
            await webhooks.update_endpoint(site, created.id, {"events": events}, if_match=None,
                                           now=system_clock(), allow_private=True)

        # Blocks of BLOCK bookings, alternately with the endpoint subscribed to
        # booking.created and not (it listens to message.failed only), so both
        # sides meet the same database size, worker and machine load.
        committed_at: dict[str, float] = {}
        without: list[float] = []
        with_endpoint: list[float] = []
        index = 0
        for block in range(2 * count // BLOCK):
            subscribed = block % 2 == 1
            await listen(["booking.created"] if subscribed else ["message.failed"])
            for _ in range(BLOCK):
                booking_id, took = await book(index)
                index += 1
                if subscribed:
                    committed_at[booking_id] = time.time()
                    with_endpoint.append(took)
                else:
                    without.append(took)
        deadline = time.perf_counter() + 120
        while await WebhookDelivery.count().where(WebhookDelivery.status == "succeeded") < count \
                and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        stop.set()
        if running is not None:
            await running
        await sender.aclose()
    receiver.finish()
    latencies = [receiver.arrivals[b] - t for b, t in committed_at.items() if b in receiver.arrivals]
    return {"without": without, "with": with_endpoint, "latencies": latencies,
            "lost": count - len([b for b in committed_at if b in receiver.arrivals])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=1_000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--receiver", nargs=2, metavar=("PORT", "SECRET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        serve_receiver(int(args.receiver[0]), args.receiver[1])
        return 0

    from slotwise.settings import Settings

    from tests.support.postgres import create_postgres_database, drop_postgres_database

    workdir = Path(tempfile.mkdtemp(prefix="slotwise-webhooks-"))
    url = (create_postgres_database(prefix="slotwise_bench") if args.database == "postgres"
           else f"sqlite:///{workdir / 'bench.sqlite'}")
    settings = Settings.from_env({"SLOTWISE_DATA_DIR": str(workdir), "SLOTWISE_SECRET_KEY": "bench-" + "k" * 40,
                                  "SLOTWISE_DATABASE_URL": url})
    receiver = Receiver()
    load_before = os.getloadavg()[0]
    try:
        result = asyncio.run(bench(args.bookings, settings, receiver))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if args.database == "postgres":
            drop_postgres_database(url)
        if receiver.process is not None and receiver.process.poll() is None:
            receiver.process.kill()
    p50_without, p50_with = statistics.median(result["without"]), statistics.median(result["with"])
    ratio = p50_with / p50_without
    latency = statistics.median(result["latencies"]) if result["latencies"] else float("inf")
    duplicates = sum(n - 1 for n in receiver.ids.values() if n > 1)
    ms = 1000
    engine = "PostgreSQL" if args.database == "postgres" else "SQLite"
    print(f"{args.bookings:,} bookings each way, one endpoint on loopback, {engine}, worker in the same process")
    # Other processes on this small machine move both figures; the load says how quiet the run was.
    print(f"  load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    print(f"  booking p50 without endpoint  {p50_without * ms:7.2f} ms  (p95 {percentile(result['without'], .95) * ms:.2f})")
    print(f"  booking p50 with endpoint     {p50_with * ms:7.2f} ms  (p95 {percentile(result['with'], .95) * ms:.2f})")
    print(f"  ratio                         {ratio:7.2f}     (bar <= 1.1)")
    print(f"  commit -> arrival p50         {latency * ms:7.1f} ms  (p95 "
          f"{percentile(result['latencies'], .95) * ms if result['latencies'] else float('inf'):.1f}; bar <= 1000)")
    print(f"  lost {result['lost']} (bar 0), duplicate deliveries {duplicates} (bar 0), "
          f"unverified signatures {receiver.unverified}")
    ok = ratio <= 1.1 and latency <= 1.0 and result["lost"] == 0 and duplicates == 0 and receiver.unverified == 0
    print("  PASS" if ok else "  FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
