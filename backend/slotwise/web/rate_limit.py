"""Per-client rate limits: a write budget and a higher read budget, in memory or in Redis.

Counted per client address (``web/clients.py``: X-Forwarded-For only from a
trusted proxy) through Litestar's ``RateLimitConfig``, one middleware per
budget:

- **writes**: every POST (holds, bookings, the manage verbs, the booking page's
  forms) and every request to a manage link (guessable only by brute force);
- **reads**: availability (``GET /api/v1/sites/{site}/availability``) and the
  booking page itself (``GET /book/{site}``: each step and each day's times),
  with a higher budget because a customer clicks through days.

The counters live in the app's ``rate_limit`` store: Litestar's ``MemoryStore``
(one process), or its ``RedisStore`` when ``SLOTWISE_REDIS_URL`` is set, shared
by every process of the install. Litestar's own middleware reads a client's
history, then writes it back; two processes doing that at once both write
"n + 1" and one request goes uncounted. So counting is ours, per fixed window
(what Litestar's history amounts to as well): an atomic ``INCR`` in Redis, a
read and write under the middleware's lock in memory. Example: budget 60,
first request at 10:00:20 opens the window until 10:01:20; the 61st request
before then answers 429 with ``Retry-After`` of the seconds left.

Past the budget, the booking and manage pages answer a page (``web/limited.py``,
rendered here because reading the form's language is asynchronous), and
everything else raises :class:`RateLimited`, answered as problem details.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.types import Message, Receive, Scope, Send
from redis.exceptions import RedisError  # the package is a dependency; a server is needed only when configured

from slotwise.web.clients import client_of

log = logging.getLogger(__name__)

STORE_NAME = "rate_limit"
WINDOW_SECONDS = 60
# After Redis failed, requests count in memory this long before Redis is tried again,
# so a Redis that hangs costs one request a timeout, not every request.
REDIS_RETRY_SECONDS = 5

MANAGE_PREFIXES = ("/manage/", "/api/v1/manage/")
_AVAILABILITY = re.compile(r"^/api/v1/sites/[^/]+/availability/?$")
_BOOKING_PAGE = re.compile(r"^/book/[^/]+/?$")


def counts_as_write(method: str, path: str) -> bool:
    """POSTs and manage links count against the write budget."""
    return method == "POST" or path.startswith(MANAGE_PREFIXES)


def counts_as_read(method: str, path: str) -> bool:
    """Reads of free times count against the read budget (the page's script and styles do not)."""
    return method == "GET" and bool(_AVAILABILITY.match(path) or _BOOKING_PAGE.match(path))


@dataclass(frozen=True, slots=True)
class Budget:
    name: str  # "write" | "read": part of the counter's key, so the budgets never share a count
    per_minute: int
    applies: Callable[[str, str], bool]  # (method, path): a plain function, judged on the ASGI scope


class RateLimited(TooManyRequestsException):
    """A client spent its budget; ``retry_after`` seconds until its window ends."""

    def __init__(self, budget: str, retry_after: int, headers: dict[str, str]) -> None:
        super().__init__(detail="Too many requests", headers=headers)
        self.budget = budget
        self.retry_after = retry_after


# INCR and the window's expiry in one step: two processes can never both count "n + 1".
_REDIS_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
"""


class BudgetMiddleware(RateLimitMiddleware):
    """Litestar's rate-limit middleware with an atomic count (see the module docstring)."""

    _next_sweep = 0
    _script: Any = None
    # Where this process counts while Redis does not answer (see _hit).
    _fallback: MemoryStore | None = None
    _redis_warned_at = 0.0
    _redis_retry_at = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Judged on the scope, before any Request is built: every request passes
        # both budgets' middleware, and most count against neither. (Litestar's
        # check_throttle_handler would run a plain function in a worker thread,
        # two thread hops per request; see docs/decisions.md, Performance.)
        applies = self.config.applies if isinstance(self.config, BudgetConfig) else None
        if applies is not None and not applies(scope["method"], scope.get("root_path", "") + scope["path"]):
            await self.app(scope, receive, send)
            return
        app = scope["litestar_app"]
        request: Request[Any, Any, Any] = app.request_class(scope, receive)  # receive: a refused form is read for its language
        if not await self.should_check_request(request=request):
            await self.app(scope, receive, send)
            return
        store = self.config.get_store_from_app(app)
        count, reset_in = await self._hit(store, self.cache_key_from_request(request))
        headers = {
            self.config.rate_limit_policy_header_key: f"{self.max_requests}; w={WINDOW_SECONDS}",
            self.config.rate_limit_limit_header_key: str(self.max_requests),
            self.config.rate_limit_remaining_header_key: str(max(self.max_requests - count, 0)),
            self.config.rate_limit_reset_header_key: str(reset_in),
        }
        if count > self.max_requests:
            budget = self.get_identifier_for_request(request).split(":", 1)[0]
            refused = RateLimited(budget, reset_in, {**headers, "Retry-After": str(reset_in)})
            page = self.config.page_answer if isinstance(self.config, BudgetConfig) else None
            response = await page(request, refused) if page else None
            if response is None:
                raise refused  # the JSON API: problem details (web/limited.py)
            await response.to_asgi_response(app=None, request=request)(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"],
                                      *((k.lower().encode(), v.encode()) for k, v in headers.items())]
            await send(message)

        await self.app(scope, receive, send_with_headers)  # type: ignore[arg-type]

    async def _hit(self, store: Store, key: str) -> tuple[int, int]:
        """Count one request; the count in the current window and the seconds until it ends."""
        redis = getattr(store, "_redis", None)
        if redis is not None and time.monotonic() < self._redis_retry_at:
            self._fallback = self._fallback or MemoryStore()
            store, redis = self._fallback, None  # Redis failed a moment ago: don't wait on it
        if redis is not None:  # Litestar's RedisStore: one atomic script
            if self._script is None:
                self._script = redis.register_script(_REDIS_HIT)
            try:
                count, ttl = await self._script(keys=[store._make_key(key)], args=[WINDOW_SECONDS])  # type: ignore[attr-defined]
                return int(count), max(int(ttl), 1)
            except (OSError, ConnectionError, TimeoutError, RedisError) as exc:
                # Limits protect bookings; they must not stop them. Until Redis answers
                # again, this process counts on its own, as without SLOTWISE_REDIS_URL.
                if time.monotonic() - self._redis_warned_at > WINDOW_SECONDS:
                    self._redis_warned_at = time.monotonic()
                    log.warning("rate limits: Redis does not answer (%s); counting in this process", exc)
                self._fallback = self._fallback or MemoryStore()
                self._redis_retry_at = time.monotonic() + REDIS_RETRY_SECONDS
                store = self._fallback
        async with self._lock:  # one process's store: its lock makes read-then-write atomic
            now = int(time.time())
            if now >= self._next_sweep and isinstance(store, MemoryStore):
                # Expired windows are dropped only when read again; clients that never
                # come back would stay in memory for good without this sweep.
                self._next_sweep = now + WINDOW_SECONDS
                await store.delete_expired()
            raw = await store.get(key)
            window = json.loads(raw) if raw else None
            if not window or window["reset"] <= now:
                window = {"count": 0, "reset": now + WINDOW_SECONDS}
            window["count"] += 1
            await store.set(key, json.dumps(window), expires_in=max(window["reset"] - now, 1))
            return window["count"], max(window["reset"] - now, 1)


@dataclass
class BudgetConfig(RateLimitConfig):
    """Litestar's config, plus the page a person sees when refused (None: problem details)."""

    page_answer: Callable[[Request, RateLimited], Awaitable[Response | None]] | None = None
    # Which requests count, from (method, path); None: every request.
    applies: Callable[[str, str], bool] | None = None


def budgets(write_per_minute: int, read_per_minute: int) -> list[Budget]:
    """The budgets that are on (0 turns one off)."""
    return [b for b in (Budget("write", write_per_minute, counts_as_write),
                        Budget("read", read_per_minute, counts_as_read)) if b.per_minute > 0]


def rate_limit_config(budget: Budget, trusted_proxies: tuple[str, ...] = (), *,
                      page_answer: Callable[[Request, RateLimited], Awaitable[Response | None]] | None = None,
                      ) -> BudgetConfig:
    def identify(request: Request) -> str:
        return f"{budget.name}:{client_of(request, trusted_proxies)}"

    return BudgetConfig(rate_limit=("minute", budget.per_minute), applies=budget.applies,
                        identifier_for_request=identify, middleware_class=BudgetMiddleware,
                        store=STORE_NAME, page_answer=page_answer)


def rate_limit_store(redis_url: str | None, database_url: str) -> Store:
    """Memory, or Redis shared by every process of this install.

    The namespace comes from the database URL: the processes of one install
    (one database) share their counters, and two installs on one Redis server,
    or two test runs with their own throwaway databases, never do.
    """
    if not redis_url:
        return MemoryStore()
    from litestar.stores.redis import RedisStore  # the redis package is only needed when configured

    from redis.asyncio import Redis

    install = hashlib.sha256(database_url.encode()).hexdigest()[:12]
    # Short timeouts: a Redis that hangs must not hold every request (see BudgetMiddleware._hit).
    client = Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1)
    return RedisStore(client, namespace=f"slotwise-rate-limit-{install}", handle_client_shutdown=True)
