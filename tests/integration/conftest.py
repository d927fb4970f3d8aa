"""Integration fixtures: one suite, run on SQLite or PostgreSQL by configuration.

``SLOTWISE_TEST_DATABASE=sqlite`` (default) uses a file in a temporary folder;
``=postgres`` creates a throwaway database ``slotwise_test_<random>`` on
127.0.0.1:5432 (``SLOTWISE_TEST_POSTGRES`` names another server) and drops it
at the end. The choice becomes ``Settings`` for the in-process app and its
``Database``, and ``SLOTWISE_*`` variables for server processes
(``server_environment``), exactly as a deployment would be configured.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
from litestar import Litestar
import pytest
from slotwise.clock import FixedClock
from slotwise.persistence.change_feed import forget_all
from slotwise.persistence.engine import Database
from slotwise.persistence.migrate import migrate
from slotwise.persistence.tables import TABLES
from slotwise.services.availability import forget_offers
from slotwise.settings import Settings
from slotwise.web.app import create_app

from tests.support.config import environment
from tests.support.postgres import create_postgres_database, drop_postgres_database

DATABASE_KIND = os.environ.get("SLOTWISE_TEST_DATABASE", "sqlite")
POSTGRES_SERVER = os.environ.get("SLOTWISE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")

# A Monday morning in Berlin winter time: 2026-11-23 08:00 CET.
DEFAULT_NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)

_data_dir = Path(tempfile.mkdtemp(prefix="slotwise-test-"))
if DATABASE_KIND == "postgres":
    _postgres_url: str | None = create_postgres_database(POSTGRES_SERVER)
    _database_url = _postgres_url
elif DATABASE_KIND == "sqlite":
    _postgres_url = None
    _database_url = f"sqlite:///{_data_dir / 'test.sqlite'}"
else:
    raise RuntimeError(f"SLOTWISE_TEST_DATABASE must be sqlite or postgres, not {DATABASE_KIND!r}")

ENVIRONMENT = environment(_database_url, _data_dir)
SETTINGS = Settings.from_env(ENVIRONMENT)


def pytest_report_header(config: pytest.Config) -> str:
    return f"slotwise database: {DATABASE_KIND} ({SETTINGS.database_url})"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _postgres_url is not None:
        drop_postgres_database(_postgres_url)
    shutil.rmtree(_data_dir, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A test of one engine's own machinery belongs to that engine's pass: the other
    # pass leaves it out (reported as deselected), it is not a skip of something due.
    other = "sqlite_only" if DATABASE_KIND == "postgres" else "postgres_only"
    left_out = [item for item in items if other in item.keywords]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if other not in item.keywords]


@pytest.fixture(scope="session")
def database_kind() -> str:
    return DATABASE_KIND


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The settings of this run's in-process app."""
    return SETTINGS


@pytest.fixture(scope="session")
def server_environment() -> dict[str, str]:
    """The ``SLOTWISE_*`` variables that point a server process or command at this run's database."""
    return dict(ENVIRONMENT)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Redis for rate limits shared by processes (tests/support/redis.py: fails under CI=true when down)."""
    from tests.support.redis import require_redis

    return require_redis()


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Database]:
    """This run's database, open (tables bound; on PostgreSQL the pool, owned by the test loop).

    The app is driven in the same event loop as the tests (see ``client``), so
    one pool serves both, as it does in a server process.
    """
    async with Database(settings) as opened:
        yield opened


@pytest.fixture(scope="session")
async def schema(database: Database) -> None:
    """The database, migrated."""
    await migrate(database.engine)


@pytest.fixture(autouse=True)
async def empty_database(schema: None) -> None:
    """Every test starts from empty tables (children first, for the foreign keys)."""
    for table in reversed(TABLES):
        await table.delete(force=True)
    forget_offers()
    forget_all()


@pytest.fixture(scope="session")
def clock() -> FixedClock:
    return FixedClock(DEFAULT_NOW)


@pytest.fixture(autouse=True)
def reset_clock(clock: FixedClock) -> None:
    clock.now = DEFAULT_NOW


@pytest.fixture(scope="session")
def app(settings: Settings, database: Database, clock: FixedClock) -> Litestar:
    """The app the ``client`` calls (tests that walk its routes read them here)."""
    return create_app(settings, database=database, clock=clock)


@pytest.fixture(scope="session")
async def client(schema: None, app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    # httpx's transport runs no lifespan: the app uses the database opened by `database`.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


@pytest.fixture
def slotwise(server_environment: dict[str, str]):
    """Runs the ``slotwise`` command in a process of its own, against the database this suite uses."""
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "slotwise.cli", *args],
            capture_output=True, text=True, timeout=120, env={**os.environ, **server_environment},
        )
    return run
