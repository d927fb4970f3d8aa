"""The calendar settings: the sync period and whether outbound calls may reach private addresses."""

from __future__ import annotations

import pytest
from slotwise.services.calendars import Outbound
from slotwise.settings import Settings, SettingsError

BASE_ENV = {"SLOTWISE_SECRET_KEY": "k" * 40}


def test_by_default_calendars_sync_every_five_minutes_and_private_targets_are_refused() -> None:
    outbound = Outbound.from_settings(Settings.from_env(BASE_ENV))
    assert outbound.sync_period.total_seconds() == 300 and outbound.allow_private is False


def test_both_are_read_from_the_environment() -> None:
    settings = Settings.from_env({**BASE_ENV, "SLOTWISE_CALENDAR_SYNC_MINUTES": "15",
                                  "SLOTWISE_WEBHOOK_ALLOW_PRIVATE": "1"})
    outbound = Outbound.from_settings(settings)
    assert outbound.sync_period.total_seconds() == 900 and outbound.allow_private is True


@pytest.mark.parametrize("value", ["0", "five", "-1"])
def test_an_unusable_period_is_refused(value) -> None:
    with pytest.raises(SettingsError, match="SLOTWISE_CALENDAR_SYNC_MINUTES"):
        Settings.from_env({**BASE_ENV, "SLOTWISE_CALENDAR_SYNC_MINUTES": value})
