"""50 concurrent confirms for one slot, on SQLite and on PostgreSQL (docs/product.md#bars).

Run: ``python bench/contention.py``. For each database: a fresh database with
the 24/7 example site (examples/squash-24-7.toml), two ``slotwise serve``
processes on it, and 50 booking requests for one slot fired at once, split
between the two. Prints the outcome counts (bar: exactly ``seats`` bookings,
every other request a clean 409, zero 5xx) and p50/p99 latency (bar: p99 <= 1 s),
then a second round for a 5-seat class.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

# Run from a checkout (`python bench/x.py`): the repository root holds tests.support,
# and backend/ the package when it is not installed.
REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "backend")]

from tests.support.postgres import create_postgres_database, drop_postgres_database
from tests.support.servers import ServerProcess, race, tomorrow_at

CONTENDERS = 50
P99_BAR_MS = 1000.0
SITE_FILE = Path(__file__).resolve().parents[1] / "examples" / "squash-24-7.toml"
BOOKINGS = "/api/v1/sites/night-owl-squash/bookings"
ROUNDS = [("single", 10, 1), ("class", 18, 5)]  # service, hour tomorrow (UTC), seats


def _apply(env: dict[str, str]) -> None:
    import os
    import subprocess

    subprocess.run([sys.executable, "-m", "slotwise.cli", "apply", str(SITE_FILE)],
                   env={**os.environ, **env}, check=True, capture_output=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def contend(name: str, env: dict[str, str]) -> bool:
    _apply(env)
    ok = True
    with ServerProcess(env) as first, ServerProcess(env) as second:
        for service, hour, seats in ROUNDS:
            bodies = [{"service": service, "start": tomorrow_at(hour),
                       "customer": {"name": f"Player {n}", "email": f"p{n}@example.com"}}
                      for n in range(CONTENDERS)]
            outcome = asyncio.run(race([first.url, second.url], BOOKINGS, bodies))
            created, conflicts = outcome.statuses[201], outcome.statuses[409]
            server_errors = sum(n for code, n in outcome.statuses.items() if code >= 500)
            p50 = statistics.median(outcome.latencies_ms)
            p99 = percentile(outcome.latencies_ms, 0.99)
            right = created == seats and conflicts == CONTENDERS - seats and server_errors == 0
            fast = p99 <= P99_BAR_MS
            ok = ok and right and fast
            print(f"{name:10} {service:7} seats={seats}  201: {created:2}  409: {conflicts:2}  "
                  f"5xx: {server_errors}  other: {CONTENDERS - created - conflicts - server_errors}  "
                  f"{'PASS' if right else 'FAIL'}")
            print(f"{'':10} {'':7} p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   "
                  f"(bar p99 {P99_BAR_MS:.0f} ms, ratio {p99 / P99_BAR_MS:.2f})  {'PASS' if fast else 'FAIL'}")
    return ok


def main() -> int:
    print(f"{CONTENDERS} concurrent confirms for one slot, two server processes per database\n")
    workdir = Path(tempfile.mkdtemp(prefix="slotwise-contention-"))
    results = []
    try:
        sqlite_env = {"SLOTWISE_DATA_DIR": str(workdir),
                      "SLOTWISE_DATABASE_URL": f"sqlite:///{workdir / 'contention.sqlite'}"}
        results.append(contend("SQLite", sqlite_env))
        postgres_url = create_postgres_database(prefix="slotwise_bench")
        try:
            results.append(contend("PostgreSQL", {"SLOTWISE_DATA_DIR": str(workdir),
                                                  "SLOTWISE_DATABASE_URL": postgres_url}))
        finally:
            drop_postgres_database(postgres_url)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
