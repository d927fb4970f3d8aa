"""The package as users get it: the wheel carries exactly the files the app reads,
and a non-editable install, run from a folder outside the repository, serves a
styled booking page and takes a booking.

The wheel is built from a clean copy of the checkout (the files git knows, plus
``static/vendor/`` that set-up installs), so a stale ``build/`` folder cannot
hide a missing entry in ``pyproject.toml``. It is installed into a new virtual
environment in a temporary folder. The dependencies come from a wheel cache
(``.venv/slotwise-wheelhouse``, refilled from the package registry when the
wheel's dependency list changes), so a run takes seconds, not the minute a
cold resolve takes; the package under test is always the freshly built wheel.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.support.servers import free_port

REPO = Path(__file__).resolve().parents[2]
WHEELHOUSE = Path(os.environ.get("SLOTWISE_WHEELHOUSE") or REPO / ".venv" / "slotwise-wheelhouse")
SITE = "harbour-physio"

# Repository folder -> where its files sit inside the installed package.
ASSET_FOLDERS = {
    "templates/": "slotwise/assets/templates/",
    "static/": "slotwise/assets/static/",
    "widget/": "slotwise/assets/widget/",
    "examples/": "slotwise/assets/examples/",
}
# Installed by scripts/setup from npm, never committed; carried when present at build time.
VENDOR = "static/vendor/"


def checkout_files() -> list[str]:
    """Every file of the checkout that git tracks or would track (new, not ignored)."""
    assert (REPO / ".git").exists(), "the package data is compared with a git checkout; run from one"
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO, check=True, capture_output=True,
    ).stdout.decode().split("\0")
    return sorted(name for name in listed if name and os.path.lexists(REPO / name))


def vendor_files() -> list[str]:
    folder = REPO / VENDOR
    # htmx, and Swagger UI in a folder of its own (the /schema page)
    return sorted(f"{VENDOR}{p.relative_to(folder).as_posix()}" for p in folder.rglob("*")
                  if p.is_file()) if folder.is_dir() else []


def expected_in_wheel(files: list[str]) -> dict[str, str]:
    """Wheel path -> checkout path, for every file the installed package must carry."""
    expected = {}
    for name in [*files, *vendor_files()]:
        for folder, packaged in ASSET_FOLDERS.items():
            if name.startswith(folder):
                expected[packaged + name.removeprefix(folder)] = name
        if name.startswith("backend/slotwise/") and (
            name.endswith(".py") or name.endswith(".po")
        ) and not (REPO / name).is_symlink():
            expected[name.removeprefix("backend/")] = name
    return expected


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel ``pip wheel .`` builds, from a clean copy of the checkout."""
    source = tmp_path_factory.mktemp("source")
    for name in [*checkout_files(), *vendor_files()]:
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        # Links stay links (slotwise/assets/* point at the top-level folders).
        shutil.copy2(REPO / name, target, follow_symlinks=False)
    out = tmp_path_factory.mktemp("wheel")
    _pip("wheel", "--no-deps", "--wheel-dir", str(out), str(source))
    [built] = out.glob("slotwise-*.whl")
    return built


@pytest.fixture(scope="session")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment outside the repository with the wheel installed (not editable)."""
    _fill_wheelhouse(wheel)
    env = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    _pip("--python", str(env / "bin" / "python"), "install", "--no-compile", "--no-index",
         "--find-links", str(WHEELHOUSE), str(wheel))
    return env


@pytest.fixture(scope="session")
def demo(venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``slotwise demo`` of the installed package, started in a folder outside the repository."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    env = _clean_env()
    env["SLOTWISE_DATA_DIR"] = str(elsewhere / "data")
    port = free_port()
    log = elsewhere / "demo.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [str(venv / "bin" / "slotwise"), "demo", "--host", "127.0.0.1", "--port", str(port)],
            cwd=elsewhere, env=env, stdout=output, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/healthz", process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --------------------------------------------------------------------------
# The wheel's contents
# --------------------------------------------------------------------------


def wheel_files(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return {n for n in archive.namelist() if not n.endswith("/") and ".dist-info/" not in n}


def test_the_wheel_carries_every_template_static_file_loader_example_and_catalog(wheel: Path):
    expected = expected_in_wheel(checkout_files())
    missing = sorted(checkout for packaged, checkout in expected.items() if packaged not in wheel_files(wheel))
    assert not missing, f"in the checkout but not in the wheel (pyproject package-data?): {missing}"
    assert any(p.startswith("slotwise/assets/templates/email/") for p in expected)
    assert any(p.endswith(".po") for p in expected)


def test_the_wheel_carries_nothing_the_checkout_does_not_have(wheel: Path):
    expected = expected_in_wheel(checkout_files())
    extra = sorted(wheel_files(wheel) - expected.keys())
    assert not extra, f"in the wheel but not in the checkout: {extra}"


def test_the_wheel_carries_htmx_when_set_up_installed_it(wheel: Path):
    # The test command runs scripts/setup first, which installs it; without it this must fail, not pass.
    assert (REPO / VENDOR / "htmx.min.js").is_file(), "static/vendor/htmx.min.js is missing: run scripts/setup"
    assert "slotwise/assets/static/vendor/htmx.min.js" in wheel_files(wheel)


# --------------------------------------------------------------------------
# The installed package, run from elsewhere
# --------------------------------------------------------------------------


def test_the_installed_package_reads_its_files_from_site_packages(venv: Path, tmp_path: Path):
    script = (
        "import slotwise.assets as a\n"
        "for p in (a.TEMPLATES_DIR, a.STATIC_DIR, a.WIDGET_LOADER, a.DEMO_SITE_FILE, a.LOCALES_DIR):\n"
        "    assert p.exists(), p\n"
        "    print(p)\n"
    )
    shown = subprocess.run([str(venv / "bin" / "python"), "-c", script], cwd=tmp_path,
                           check=True, capture_output=True, text=True, env=_clean_env()).stdout.split()
    assert len(shown) == 5
    for path in shown:
        assert Path(path).is_relative_to(venv), path
        assert not Path(path).is_relative_to(REPO), path


def test_the_installed_demo_serves_a_styled_booking_page(demo: str):
    with httpx.Client(base_url=demo, timeout=10) as http:
        page = http.get(f"/book/{SITE}")
        assert page.status_code == 200
        assert "Harbour Physio" in page.text

        [stylesheet] = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
        css = http.get(stylesheet.replace("&amp;", "&"))
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")
        assert ".sw-" in css.text and "--sw-accent:#" in css.text  # booking.css, then the accent

        [script] = re.findall(r'<script src="([^"]+)"', page.text)
        js = http.get(script.replace("&amp;", "&"))
        assert js.status_code == 200
        assert js.headers["content-type"].startswith("text/javascript")
        if (REPO / VENDOR / "htmx.min.js").is_file():
            assert "htmx" in js.text

        assert http.get("/widget.js").status_code == 200
        german = http.get(f"/book/{SITE}", params={"locale": "de"})
        assert "Termin buchen" in german.text  # the catalog shipped too


def test_the_installed_demo_books_through_the_public_api(demo: str):
    first = datetime.now(UTC).date() + timedelta(days=3)  # clear of the demo's notice and cut-offs
    with httpx.Client(base_url=f"{demo}/api/v1/sites/{SITE}", timeout=10) as http:
        free = http.get("/availability", params={
            "service": "follow-up", "start": str(first), "end": str(first + timedelta(days=20))})
        assert free.status_code == 200
        slots = free.json()["slots"]
        assert slots, "the demo site has no free follow-up in three weeks"
        booked = http.post("/bookings", json={
            "service": "follow-up", "start": slots[0]["start"], "locale": "en",
            "timezone": "Europe/Berlin",
            "customer": {"name": "Installed Package", "email": "installed@example.com"},
        })
        assert booked.status_code == 201, booked.text
        booking = booked.json()
        assert booking["status"] == "confirmed"
        assert datetime.fromisoformat(booking["start"]) == datetime.fromisoformat(slots[0]["start"])


# --------------------------------------------------------------------------


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *args],
                   check=True)


def _fill_wheelhouse(wheel: Path) -> None:
    """Wheels of every dependency of ``wheel``; fetched again only when its dependencies change."""
    with zipfile.ZipFile(wheel) as archive:
        [metadata] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        requirements = sorted(line for line in archive.read(metadata).decode().splitlines()
                              if line.startswith("Requires-Dist:") and "extra ==" not in line)
    want = hashlib.sha256("\n".join(requirements).encode()).hexdigest()
    stamp = WHEELHOUSE / ".requirements"
    if stamp.is_file() and stamp.read_text() == want:
        return
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    _pip("wheel", "--wheel-dir", str(WHEELHOUSE), str(wheel))
    for own in WHEELHOUSE.glob("slotwise-*.whl"):  # the package under test comes from `wheel` only
        own.unlink()
    stamp.write_text(want)


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SLOTWISE_") and k != "PYTHONPATH"}


def _wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"slotwise demo exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"slotwise demo did not answer {url} within {timeout}s:\n{log.read_text()}")
