"""Which requests count against which budget, and the settings that size them."""

from __future__ import annotations

import pytest

from slotwise.settings import Settings, SettingsError
from slotwise.web.rate_limit import budgets, counts_as_read, counts_as_write

TOKEN = "x" * 43


@pytest.mark.parametrize(("method", "path", "write", "read"), [
    ("POST", "/api/v1/sites/harbour/holds", True, False),
    ("POST", "/api/v1/sites/harbour/bookings", True, False),
    ("POST", "/book/harbour/hold", True, False),
    ("POST", "/book/harbour/confirm", True, False),
    ("GET", f"/manage/{TOKEN}", True, False),
    ("GET", f"/api/v1/manage/{TOKEN}/booking.ics", True, False),
    ("GET", "/api/v1/sites/harbour/availability", False, True),
    ("GET", "/book/harbour", False, True),
    ("GET", "/book/harbour/", False, True),
    # The booking page's own script and stylesheet, the service list, the docs: free.
    ("GET", "/book/harbour/app.js", False, False),
    ("GET", "/book/harbour/theme.css", False, False),
    ("GET", "/api/v1/sites/harbour/services", False, False),
    ("GET", "/schema", False, False),
    ("GET", "/healthz", False, False),
])
def test_each_request_counts_against_its_budget(method, path, write, read) -> None:
    assert (counts_as_write(method, path), counts_as_read(method, path)) == (write, read)


def test_a_budget_of_zero_is_off() -> None:
    assert [b.name for b in budgets(60, 300)] == ["write", "read"]
    assert [b.name for b in budgets(0, 300)] == ["read"]
    assert budgets(0, 0) == []


BASE_ENV = {"SLOTWISE_SECRET_KEY": "k" * 40}


def test_the_settings_default_to_memory_a_higher_read_budget_and_two_holds() -> None:
    settings = Settings.from_env(BASE_ENV)
    assert (settings.rate_limit_per_minute, settings.read_rate_limit_per_minute) == (60, 300)
    assert settings.redis_url is None and settings.holds_per_client == 2


def test_the_settings_are_read_from_the_environment() -> None:
    settings = Settings.from_env({**BASE_ENV, "SLOTWISE_READ_RATE_LIMIT": "1000", "SLOTWISE_HOLDS_PER_CLIENT": "0",
                                  "SLOTWISE_REDIS_URL": "redis://127.0.0.1:6379/2"})
    assert settings.read_rate_limit_per_minute == 1000
    assert settings.holds_per_client == 0
    assert settings.redis_url == "redis://127.0.0.1:6379/2"


@pytest.mark.parametrize(("name", "value"), [
    ("READ_RATE_LIMIT", "many"), ("HOLDS_PER_CLIENT", "-1"), ("REDIS_URL", "http://127.0.0.1:6379"),
])
def test_unusable_values_are_refused_with_the_variables_name(name, value) -> None:
    with pytest.raises(SettingsError, match=f"SLOTWISE_{name}"):
        Settings.from_env({**BASE_ENV, f"SLOTWISE_{name}": value})
