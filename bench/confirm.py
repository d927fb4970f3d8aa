"""Confirm throughput on distinct slots, at concurrency 1 and 16 (issue 3).

Run: ``python bench/confirm.py [--sqlite]``. A fresh PostgreSQL database (add
``--sqlite`` for a SQLite file as well) with the 24/7 example site, one
``slotwise serve`` process, and bookings for distinct free slots sent by 1 and
by 16 concurrent clients; against ``GET /api/v1/ping`` of the same server at
the same concurrency, in the same run. Prints requests per second and the
ratio ping/confirm.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run from a checkout (`python bench/x.py`): the repository root holds tests.support,
# and backend/ the package when it is not installed.
REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "backend")]

import httpx

from tests.support.postgres import create_postgres_database, drop_postgres_database
from tests.support.servers import ServerProcess

SITE_FILE = Path(__file__).resolve().parents[1] / "examples" / "squash-24-7.toml"
BOOKINGS = "/api/v1/sites/night-owl-squash/bookings"
REQUESTS = 160  # per measurement
CONCURRENCY = (1, 16)
# "single" lasts 30 minutes plus a 10-minute buffer; starts 45 minutes apart never collide.
SPACING = timedelta(minutes=45)


def _apply(env: dict[str, str]) -> None:
    import os
    import subprocess

    subprocess.run([sys.executable, "-m", "slotwise.cli", "apply", str(SITE_FILE)],
                   env={**os.environ, **env}, check=True, capture_output=True)


async def _throughput(make_request, total: int, concurrency: int) -> float:
    """Requests per second with ``concurrency`` clients sharing ``total`` requests."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(total):
        queue.put_nowait(n)

    async def client() -> None:
        while not queue.empty():
            await make_request(queue.get_nowait())

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return total / (time.perf_counter() - began)


async def measure(url: str, first_start: datetime) -> list[tuple[int, float, float]]:
    rows = []
    offset = 0
    async with httpx.AsyncClient(base_url=url, timeout=30,
                                 limits=httpx.Limits(max_connections=32)) as http:
        for _ in range(20):  # warm-up
            (await http.get("/api/v1/ping")).raise_for_status()
        for concurrency in CONCURRENCY:
            async def ping(_: int) -> None:
                (await http.get("/api/v1/ping")).raise_for_status()

            async def confirm(n: int, base: int = offset) -> None:
                start = first_start + (base + n) * SPACING
                response = await http.post(BOOKINGS, json={
                    "service": "single", "start": start.isoformat(),
                    "customer": {"name": f"Player {n}", "email": f"p{n}@example.com"}})
                if response.status_code != 201:
                    raise RuntimeError(f"{response.status_code}: {response.text}")

            ping_rate = await _throughput(ping, REQUESTS, concurrency)
            confirm_rate = await _throughput(confirm, REQUESTS, concurrency)
            offset += REQUESTS
            rows.append((concurrency, confirm_rate, ping_rate))
    return rows


def run(name: str, env: dict[str, str]) -> None:
    _apply(env)
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    first_start = datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=UTC)
    with ServerProcess(env) as server:
        rows = asyncio.run(measure(server.url, first_start))
    for concurrency, confirm_rate, ping_rate in rows:
        print(f"{name:10} concurrency {concurrency:2}: confirm {confirm_rate:7.1f}/s   "
              f"ping {ping_rate:7.1f}/s   ping/confirm {ping_rate / confirm_rate:5.1f}x   "
              f"({1000 / confirm_rate * concurrency:.1f} ms per confirm)")


def main() -> int:
    print(f"confirms on distinct slots, {REQUESTS} per measurement, one server process\n")
    workdir = Path(tempfile.mkdtemp(prefix="slotwise-confirm-"))
    try:
        if "--sqlite" in sys.argv:
            run("SQLite", {"SLOTWISE_DATA_DIR": str(workdir),
                           "SLOTWISE_DATABASE_URL": f"sqlite:///{workdir / 'confirm.sqlite'}"})
        postgres_url = create_postgres_database(prefix="slotwise_bench")
        try:
            run("PostgreSQL", {"SLOTWISE_DATA_DIR": str(workdir), "SLOTWISE_DATABASE_URL": postgres_url})
        finally:
            drop_postgres_database(postgres_url)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
