"""The delivery retry policy."""

from datetime import UTC, datetime, timedelta

import pytest
from slotwise.domain.retry import GIVE_UP_AFTER, gives_up, retry_delay


@pytest.mark.parametrize(
    ("failures", "expected"),
    [
        pytest.param(1, timedelta(seconds=30), id="first-retry-after-30s"),
        pytest.param(2, timedelta(minutes=1), id="then-doubles"),
        pytest.param(5, timedelta(minutes=8), id="fifth"),
        pytest.param(10, timedelta(hours=4, minutes=16), id="tenth"),
        pytest.param(11, timedelta(hours=6), id="capped-at-six-hours"),
        pytest.param(500, timedelta(hours=6), id="never-overflows"),
    ],
)
def test_delays_double_from_thirty_seconds_up_to_six_hours(failures, expected):
    assert retry_delay(failures, jitter=0) == expected


def test_jitter_spreads_a_delay_by_at_most_a_fifth():
    assert retry_delay(2, jitter=1) == timedelta(minutes=1, seconds=12)
    assert retry_delay(2, jitter=-1) == timedelta(seconds=48)
    assert retry_delay(2, jitter=7) == retry_delay(2, jitter=1)


def test_a_message_is_given_up_three_days_after_it_was_queued():
    queued = datetime(2026, 11, 23, 8, tzinfo=UTC)
    assert not gives_up(queued, queued + GIVE_UP_AFTER - timedelta(seconds=1))
    assert gives_up(queued, queued + GIVE_UP_AFTER)
