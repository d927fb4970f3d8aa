"""Webhooks: the events, the retry schedule and which addresses may be called. Pure: no I/O, no clock.

Standard Webhooks 1.0 (https://www.standardwebhooks.com/). What a receiver sees
is documented in ``docs/webhooks.md``; this module holds the rules behind it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

BOOKING_CREATED = "booking.created"
BOOKING_RESCHEDULED = "booking.rescheduled"
BOOKING_CANCELLED = "booking.cancelled"
MESSAGE_FAILED = "message.failed"
WEBHOOK_TEST = "webhook.test"

# What an endpoint may subscribe to. ``webhook.test`` is not among them: it goes
# only to the endpoint whose test ping was asked for.
EVENT_TYPES = (BOOKING_CREATED, BOOKING_RESCHEDULED, BOOKING_CANCELLED, MESSAGE_FAILED)

# The version of the payload documented in docs/webhooks.md; sent as "version" in data.
PAYLOAD_VERSION = 1

# When each attempt is made, counted from the failure of the one before:
# attempt 1 at once, attempt 2 five seconds after attempt 1 failed, ... attempt
# 10 a day after attempt 9: about 76 hours (three days and a bit) in all.
SCHEDULE = (
    timedelta(0), timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
    timedelta(hours=5), timedelta(hours=10), timedelta(hours=14), timedelta(hours=20), timedelta(hours=24),
)
ATTEMPTS = len(SCHEDULE)
# Each delay is spread by up to ±10 %, so deliveries that failed together
# (a receiver's outage) do not all come back in the same second.
JITTER = 0.1
# A receiver's Retry-After is honoured up to a day, the schedule's longest step;
# a longer one would let one answer silence an endpoint for weeks.
LONGEST_RETRY_AFTER = timedelta(hours=24)

URL_LENGTH = 2000  # what browsers and most proxies accept
DESCRIPTION_LENGTH = 500


def has_control_characters(text: str) -> bool:
    """Control characters other than tab and line breaks (NUL cannot even be stored in PostgreSQL text)."""
    return any((ord(c) < 32 and c not in "\t\n\r") or 127 <= ord(c) < 160 for c in text)


def retry_delay(failed_attempts: int, jitter: float, retry_after: timedelta | None = None) -> timedelta | None:
    """How long after the ``failed_attempts``-th failure (1-based) to try again; None: the schedule is over.

    ``jitter`` in [-1, 1] (the caller draws it) scales the step by up to
    :data:`JITTER`: after the 3rd failure the step is 30 min, so between 27 and
    33 min. ``retry_after`` (the receiver's ``Retry-After``) is a floor: we
    never come back sooner than asked, capped at :data:`LONGEST_RETRY_AFTER`.
    """
    if failed_attempts < 1:
        raise ValueError("failed_attempts counts from 1")
    if failed_attempts >= ATTEMPTS:
        return None
    delay = SCHEDULE[failed_attempts] * (1 + JITTER * max(-1.0, min(1.0, jitter)))
    if retry_after is not None and retry_after > delay:
        delay = min(retry_after, LONGEST_RETRY_AFTER)
    return delay


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """``Retry-After`` as a delay: seconds (``"120"``) or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value[:9]))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(timedelta(0), when - now)


def is_success(status: int) -> bool:
    """Any 2xx is success (Standard Webhooks); a redirect is not followed and counts as a failure."""
    return 200 <= status < 300


def disables_endpoint(status: int) -> bool:
    """410 Gone: the receiver says the endpoint is no more; we stop sending to it."""
    return status == 410


def address_allowed(address: str, *, allow_private: bool) -> bool:
    """Whether an IP address may be called: only public unicast ones, unless private targets are allowed.

    Loopback, private (RFC 1918, fc00::/7), link-local (169.254/16, where
    cloud metadata services answer), shared (100.64/10), multicast, reserved
    and unspecified addresses are refused. An IPv4 address mapped into IPv6
    (``::ffff:127.0.0.1``) is judged as the IPv4 address it carries.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified or ip.is_multicast:
        return False
    if allow_private:
        return True
    return ip.is_global and not (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved)


def refused_addresses(addresses: Iterable[str], *, allow_private: bool) -> list[str]:
    """Those of a name's resolved addresses that may not be called."""
    return [a for a in addresses if not address_allowed(a, allow_private=allow_private)]


def url_problem(url: str, *, allow_private: bool) -> str | None:
    """What is wrong with an endpoint URL as written, as a problem code; None if nothing.

    A host given as an IP address is judged here already; a name is judged
    again on each send, on the addresses it then resolves to.
    """
    if len(url) > URL_LENGTH:
        return "webhook-url-invalid"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "webhook-url-invalid"
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username or parts.password:
        return "webhook-url-invalid"
    if port == 0 or any(c.isspace() or ord(c) < 32 or 127 <= ord(c) < 160 for c in url):
        return "webhook-url-invalid"
    host = parts.hostname
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost" or host.endswith(".localhost"):
            return None if allow_private else "webhook-url-private"
        return None
    return None if address_allowed(host, allow_private=allow_private) else "webhook-url-private"
