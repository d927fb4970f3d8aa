"""Fuzz the public API from its own OpenAPI schema: zero 5xx (docs/product.md#bars).

Run: ``python bench/fuzz.py [--max-examples N]``. Starts ``slotwise serve`` on a
fresh SQLite file with the demo site, pins the ``{site}`` path parameter to it
and ``{token}`` to a real booking's manage link (random values would only ever
reach the 404 branch), and runs schemathesis's
coverage and fuzzing phases with the ``not_a_server_error`` check. Prints the
generated case count, any server errors, and the count of unhandled errors in
the server's log (bar: 0 and 0).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Run from a checkout (`python bench/x.py`): the repository root holds tests.support,
# and backend/ the package when it is not installed.
REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "backend")]

from tests.support.servers import ServerProcess, book_first_free

DEMO_SITE = Path(__file__).resolve().parents[1] / "examples" / "harbour-physio.toml"
SCOPES = ("catalog:read", "catalog:write", "bookings:read", "bookings:write", "customers:read",
          "customers:write", "webhooks:write")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def main() -> int:
    examples = sys.argv[sys.argv.index("--max-examples") + 1] if "--max-examples" in sys.argv else "150"
    workdir = Path(tempfile.mkdtemp(prefix="slotwise-fuzz-"))
    env = {"SLOTWISE_DATA_DIR": str(workdir),
           "SLOTWISE_DATABASE_URL": f"sqlite:///{workdir / 'fuzz.sqlite'}"}
    try:
        import os

        subprocess.run([sys.executable, "-m", "slotwise.cli", "apply", str(DEMO_SITE)],
                       env={**os.environ, **env}, check=True, capture_output=True)
        # A real admin key with every scope, so the admin routes are fuzzed past their 401.
        made = subprocess.run([sys.executable, "-m", "slotwise.cli", "key", "create", "--site", "harbour-physio",
                               "--name", "Fuzz", "--scopes", ",".join(SCOPES)],
                              env={**os.environ, **env}, check=True, capture_output=True, text=True)
        key = made.stdout.strip().splitlines()[-1]
        config = workdir / "schemathesis.toml"
        log = workdir / "server.log"
        with ServerProcess(env, log=log) as server:
            # A real booking's link, so the manage routes are fuzzed past their 404 branch.
            booked = book_first_free(server.url, "harbour-physio", "follow-up",
                                     {"customer": {"name": "Fuzz", "email": "fuzz@example.org"}})
            token = booked["manage_url"].rsplit("/", 1)[1]
            booking_id = "bkg_" + booked["id"].replace("-", "")
            config.write_text(
                f'[parameters]\n"path.site" = "harbour-physio"\n"path.token" = "{token}"\n'
                f'"path.booking_id" = "{booking_id}"\n"path.resource" = "anna"\n"path.service" = "follow-up"\n'
                f'"path.email" = "fuzz@example.org"\n'
                # A template that exists, so its PUT and DELETE are fuzzed past the 404 branch.
                f'"path.event" = "confirmed"\n"path.channel" = "email"\n"path.locale" = "de"\n')
            run = subprocess.run(
                [str(SCHEMATHESIS), "--config-file", str(config), "run",
                 f"{server.url}/schema/openapi.json", "--checks", "not_a_server_error",
                 "--header", f"Authorization: Bearer {key}",
                 "--max-examples", examples, "--no-color"],
                capture_output=True, text=True, cwd=workdir, timeout=900,
            )
        # The summary reads "798 generated, 798 passed" or "798 generated, 3 found 3 unique
        # failures"; server errors are counted as "ST101 Server error: 3" in the failure list.
        cases = re.search(r"(\d+) generated", run.stdout)
        server_errors = re.search(r"Server error: (\d+)", run.stdout)
        unhandled = log.read_text().count("unhandled error")
        generated = int(cases.group(1)) if cases else 0
        failed = int(server_errors.group(1)) if server_errors else (0 if run.returncode == 0 else -1)
        print(f"schemathesis on the OpenAPI schema, {examples} examples per operation at most")
        print(f"  cases generated        {generated}")
        print(f"  server errors (5xx)    {failed if failed >= 0 else 'unknown'}  (bar 0)")
        print(f"  unhandled errors, log  {unhandled}  (bar 0)")
        ok = run.returncode == 0 and failed == 0 and unhandled == 0 and generated > 0
        if not ok:
            print(run.stdout[-4000:])
        print("  PASS" if ok else "  FAIL")
        return 0 if ok else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
