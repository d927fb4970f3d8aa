"""Fuzz the public API from its own OpenAPI schema: zero 5xx (PRODUCT §10).

Run: ``python bench/fuzz.py [--max-examples N]``. Starts ``slotwise serve`` on a
fresh SQLite file with the demo site, pins the ``{site}`` path parameter to it
(random slugs would only ever reach the 404 branch), and runs schemathesis's
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

try:
    import slotwise  # noqa: F401
except ImportError:  # not installed: run from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "backend"))

from slotwise.testing import ServerProcess

DEMO_SITE = Path(__file__).resolve().parents[1] / "examples" / "harbour-physio.toml"
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
        config = workdir / "schemathesis.toml"
        config.write_text('[parameters]\n"path.site" = "harbour-physio"\n')
        log = workdir / "server.log"
        with ServerProcess(env, log=log) as server:
            run = subprocess.run(
                [str(SCHEMATHESIS), "--config-file", str(config), "run",
                 f"{server.url}/schema/openapi.json", "--checks", "not_a_server_error",
                 "--max-examples", examples, "--no-color"],
                capture_output=True, text=True, cwd=workdir, timeout=900,
            )
        cases = re.search(r"(\d+) generated, (\d+) passed(?:, (\d+) failed)?", run.stdout)
        unhandled = log.read_text().count("unhandled error")
        generated = int(cases.group(1)) if cases else 0
        failed = int(cases.group(3) or 0) if cases else -1
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
