"""Per-client rate limits on the routes that write or reveal a booking.

Counted per client address (``web/clients.py``: X-Forwarded-For only from a
trusted proxy) in each process's memory: right for one process.
Several processes behind a load balancer need a shared store (docs/product.md#scaling-out),
which Litestar's RateLimitConfig accepts by store name.
"""

from __future__ import annotations

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig

from slotwise.web.clients import client_address

# Reading availability is cheap and a customer browsing a calendar makes many
# requests; creating holds and bookings, and manage links (guessable only by
# brute force), are what a limit protects.
LIMITED_PREFIXES = ("/manage/", "/api/v1/manage/")


def is_limited(request: Request) -> bool:
    return request.method == "POST" or request.url.path.startswith(LIMITED_PREFIXES)


def rate_limit_config(per_minute: int, trusted_proxies: tuple[str, ...] = ()) -> RateLimitConfig | None:
    if per_minute <= 0:
        return None

    def identify(request: Request) -> str:
        peer = request.client.host if request.client else None
        return client_address(peer, request.headers.get("x-forwarded-for"), trusted_proxies)

    return RateLimitConfig(rate_limit=("minute", per_minute), check_throttle_handler=is_limited,
                           identifier_for_request=identify)
