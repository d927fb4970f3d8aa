"""Redis for the tests that share rate limits between processes (127.0.0.1:6379 here and in CI).

Nothing in the default set-up needs Redis. A test that does asks for the
``redis_url`` fixture: when Redis is unreachable it fails under ``CI=true``
(CI must run it) and is skipped with a loud reason elsewhere, as the
PostgreSQL run is in ``scripts/test``.
"""

from __future__ import annotations

import os

import pytest

REDIS_URL = os.environ.get("SLOTWISE_TEST_REDIS", "redis://127.0.0.1:6379/0")


def redis_reachable(url: str = REDIS_URL) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


def require_redis(url: str = REDIS_URL) -> str:
    """``url`` if Redis answers there; else a failure under CI=true and a loud skip elsewhere."""
    if redis_reachable(url):
        return url
    message = f"Redis at {url} is unreachable"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} and CI=true: the shared rate-limit tests must run.", pytrace=False)
    pytest.skip(f"!!!! SKIPPED: {message}; the shared rate-limit test did not run. !!!!")
