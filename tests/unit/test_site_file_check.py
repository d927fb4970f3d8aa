"""``slotwise apply --check``: validates a site file through the real command, without a database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.sitefiles import TEST_SITE, write

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "harbour-physio.toml"


@pytest.fixture
def slotwise(tmp_path):
    """Runs the installed command; its settings point into ``tmp_path``, though --check opens no database."""
    environment = {
        **os.environ,
        "SLOTWISE_DATA_DIR": str(tmp_path / "var"),
        "SLOTWISE_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'unused.sqlite'}",
        "SLOTWISE_SECRET_KEY": "unit-tests-" + "k" * 32,
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "slotwise.cli", *args],
                              capture_output=True, text=True, timeout=120, env=environment)
    return run


def test_check_validates_without_writing(tmp_path, slotwise):
    path = write(tmp_path, TEST_SITE)

    result = slotwise("apply", "--check", str(path))

    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout
    listing = slotwise("apply", "--check", str(path))  # still nothing to compare against
    assert listing.returncode == 0
    assert not (tmp_path / "var" / "unused.sqlite").exists()


def test_the_demo_site_file_passes_its_own_check(slotwise):
    result = slotwise("apply", "--check", str(EXAMPLE))

    assert result.returncode == 0, result.stderr
    assert "harbour-physio" in result.stdout
