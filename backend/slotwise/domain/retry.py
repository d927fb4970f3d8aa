"""When to try a failed delivery again. Pure: the random jitter comes in as a number.

Delays double from 30 seconds and stop growing at 6 hours: 30 s, 1 min, 2 min,
4 min, 8 min, ... 4 h 16 min, then every 6 hours. Each is spread by up to
±20 % so messages that failed together (an SMTP outage) don't all come back in
the same second. After three days a message is given up as failed; by then
its appointment has often passed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

FIRST_DELAY = timedelta(seconds=30)
LONGEST_DELAY = timedelta(hours=6)
JITTER = 0.2
GIVE_UP_AFTER = timedelta(days=3)


def retry_delay(failed_attempts: int, jitter: float) -> timedelta:
    """Delay after the ``failed_attempts``-th failure (1-based); ``jitter`` in [-1, 1]."""
    if failed_attempts < 1:
        raise ValueError("failed_attempts counts from 1")
    base = min(FIRST_DELAY * 2 ** min(failed_attempts - 1, 30), LONGEST_DELAY)
    return base * (1 + JITTER * max(-1.0, min(1.0, jitter)))


def gives_up(queued_at: datetime, now: datetime) -> bool:
    return now - queued_at >= GIVE_UP_AFTER
