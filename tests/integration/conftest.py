"""Integration fixtures: one suite, run on SQLite or PostgreSQL by configuration.

``SLOTWISE_TEST_DATABASE=sqlite`` (default) uses a file in a temporary folder;
``=postgres`` creates a throwaway database ``slotwise_test_<random>`` on
127.0.0.1:5432 and drops it at the end. The choice is made here, before any
Slotwise module reads its settings, exactly as a deployment would make it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

# Importing the harness reads no settings; it only knows how to make databases.
from tests.support.postgres import create_postgres_database, drop_postgres_database

DATABASE_KIND = os.environ.get("SLOTWISE_TEST_DATABASE", "sqlite")
POSTGRES_SERVER = os.environ.get("SLOTWISE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")

_data_dir = Path(tempfile.mkdtemp(prefix="slotwise-test-"))
os.environ["SLOTWISE_DATA_DIR"] = str(_data_dir)
os.environ["SLOTWISE_SECRET_KEY"] = "integration-tests-" + "k" * 32
os.environ["SLOTWISE_BASE_URL"] = "http://testserver.local"
# The suite's one app serves hundreds of writes from one client address; the
# limit itself is tested with an app of its own (test_rate_limit.py).
os.environ["SLOTWISE_RATE_LIMIT"] = "0"


if DATABASE_KIND == "postgres":
    _postgres_url: str | None = create_postgres_database(POSTGRES_SERVER)
    os.environ["SLOTWISE_DATABASE_URL"] = _postgres_url
elif DATABASE_KIND == "sqlite":
    _postgres_url = None
    os.environ["SLOTWISE_DATABASE_URL"] = f"sqlite:///{_data_dir / 'test.sqlite'}"
else:
    raise RuntimeError(f"SLOTWISE_TEST_DATABASE must be sqlite or postgres, not {DATABASE_KIND!r}")

# Only now may Slotwise read its settings.
import slotwise.persistence  # noqa: E402,F401
import httpx  # noqa: E402
from piccolo.engine.postgres import PostgresEngine  # noqa: E402

from slotwise.clock import FixedClock  # noqa: E402
from slotwise.persistence.engine import current_engine  # noqa: E402
from slotwise.persistence.migrate import migrate  # noqa: E402
from slotwise.persistence.tables import TABLES  # noqa: E402
from slotwise.services.availability import forget_offers  # noqa: E402
from slotwise.settings import load_settings  # noqa: E402
from slotwise.web.app import create_app  # noqa: E402

# A Monday morning in Berlin winter time: 2026-11-23 08:00 CET.
DEFAULT_NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def pytest_report_header(config: pytest.Config) -> str:
    return f"slotwise database: {DATABASE_KIND} ({os.environ['SLOTWISE_DATABASE_URL']})"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _postgres_url is not None:
        drop_postgres_database(_postgres_url)
    shutil.rmtree(_data_dir, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "postgres_only" in item.keywords and DATABASE_KIND != "postgres":
            item.add_marker(pytest.mark.skip(reason="PostgreSQL-only test; this run is on SQLite"))
        if "sqlite_only" in item.keywords and DATABASE_KIND != "sqlite":
            item.add_marker(pytest.mark.skip(reason="SQLite-only test; this run is on PostgreSQL"))


@pytest.fixture(scope="session")
def database_kind() -> str:
    return DATABASE_KIND


@pytest.fixture(scope="session")
async def schema() -> AsyncIterator[None]:
    """Migrated schema; on PostgreSQL also the connection pool, owned by the test loop.

    The app is driven in the same event loop as the tests (see ``client``), so
    one pool serves both, as it does in a server process.
    """
    await migrate()
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool()
    yield
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()


@pytest.fixture(autouse=True)
async def empty_database(schema: None) -> None:
    """Every test starts from empty tables (children first, for the foreign keys)."""
    for table in reversed(TABLES):
        await table.delete(force=True)
    forget_offers()


@pytest.fixture(scope="session")
def clock() -> FixedClock:
    return FixedClock(DEFAULT_NOW)


@pytest.fixture(autouse=True)
def reset_clock(clock: FixedClock) -> None:
    clock.now = DEFAULT_NOW


@pytest.fixture(scope="session")
async def client(schema: None, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(load_settings(), clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


@pytest.fixture(scope="session")
def engine():
    return current_engine()
