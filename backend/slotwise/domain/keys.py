"""API keys as the domain sees them: whose they are, what they may do, whether they still work. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from slotwise.domain.access import Grant, Scope
from slotwise.domain.actors import Actor, ActorKind

# What every live key starts with: recognisable in a leaked log or a secret
# scanner, and distinct from the test keys sandbox sites get.
LIVE_PREFIX = "sw_live_"
# A sandbox site's keys: they work on sandbox sites only (a site that went
# live answers them 404), so a key left in a test setup cannot touch real bookings.
TEST_PREFIX = "sw_test_"
PREFIXES = (LIVE_PREFIX, TEST_PREFIX)


def key_prefix(sandbox: bool) -> str:
    """The prefix of a new key for a site: ``sw_test_`` for a sandbox, else ``sw_live_``."""
    return TEST_PREFIX if sandbox else LIVE_PREFIX
# How much of a key is kept readable, to tell keys apart in a list ("sw_live_Ab3x").
HINT_LENGTH = 12
# last_used_at is written at most this often per key: a busy integration must
# not turn every read into a write.
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    public_id: str  # "key_…": how lists, logs and history name it
    site_id: int
    name: str
    hint: str
    scopes: frozenset[Scope]
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        """Not revoked, and not past its expiry (a key expires at ``expires_at`` exactly)."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def due_for_touch(self, now: datetime) -> bool:
        return self.last_used_at is None or now - self.last_used_at >= TOUCH_INTERVAL

    @property
    def test(self) -> bool:
        """A ``sw_test_`` key (the hint keeps the prefix)."""
        return self.hint.startswith(TEST_PREFIX)

    @property
    def grant(self) -> Grant:
        return Grant.key(self.site_id, self.scopes, sandbox_only=self.test)

    @property
    def actor(self) -> Actor:
        return Actor(ActorKind.API_KEY, self.public_id, self.name)
