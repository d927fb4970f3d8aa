"""Sending one webhook over HTTP: resolve, refuse private targets, POST, read a bounded answer.

The target's name is resolved here, at send time, and every address it
resolves to is checked (``domain.webhooks.address_allowed``); the request then
goes to the checked address itself (the ``Host`` header and TLS server name
keep the URL's name), so a name that resolves to 127.0.0.1, or changes its
answer between the check and the connection, never reaches the private
network. Redirects are not followed; the whole exchange has one deadline
(10 s); of the answer at most :data:`READ_LIMIT` bytes are read, so a receiver
answering with a 50 MB body is cut off.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from yarl import URL

from slotwise.domain.webhooks import address_allowed

TIMEOUT_SECONDS = 10.0
READ_LIMIT = 64 * 1024
EXCERPT_CHARACTERS = 1000
USER_AGENT = "Slotwise-Webhooks/1"

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver, off the event loop).

    An address written as such is its own answer: no trip to the resolver's
    thread for it (``getaddrinfo`` would only parse it back).
    """
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


@dataclass(frozen=True, slots=True)
class SendResult:
    """What happened. ``outcome``: answered (see ``status``) | refused | timeout | error."""

    outcome: str
    status: int | None
    duration_ms: int
    excerpt: str
    retry_after: str | None = None
    error: str | None = None


class WebhookSender:
    """Sends through one aiohttp session (a pool of kept-alive connections), made on first use.

    aiohttp rather than httpx: it runs in the event loop of ``slotwise serve``
    beside the bookings, and its C parser takes about a tenth of httpx's CPU
    per request on loopback (0.07 ms against 0.65 ms: docs/decisions.md,
    "Webhooks off the booking path").
    """

    def __init__(self, *, allow_private: bool, timeout: float = TIMEOUT_SECONDS,
                 resolver: Resolver = resolve) -> None:
        self.allow_private = allow_private
        self.timeout = timeout
        self.resolver = resolver
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # The URL given to the session holds the checked address, never a name: the connector
            # resolves nothing. Answers are read as sent (no decompression: the limit counts bytes
            # on the wire), and no proxy from the environment is used.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100, limit_per_host=20),
                timeout=aiohttp.ClientTimeout(total=self.timeout), auto_decompress=False, trust_env=False)
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(self, url: str, headers: Mapping[str, str], body: bytes) -> SendResult:
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            async with asyncio.timeout(self.timeout):
                try:
                    addresses = await self.resolver(host, port)
                except OSError as error:
                    return SendResult("error", None, took(), "", error=f"cannot resolve {host}: {error}")
                refused = [a for a in addresses if not address_allowed(a, allow_private=self.allow_private)]
                if refused or not addresses:
                    return SendResult("refused", None, took(), "", error=(
                        f"{host} resolves to {', '.join(refused) or 'nothing'}: private, loopback or reserved "
                        "addresses are not called (SLOTWISE_WEBHOOK_ALLOW_PRIVATE=1 allows them)"))
                address = addresses[0]
                literal = f"[{address}]" if ":" in address else address
                target = URL(urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, "")),
                             encoded=True)
                request_headers = {**headers, "host": parts.netloc.rpartition("@")[2],
                                   "user-agent": USER_AGENT, "content-type": "application/json",
                                   "accept-encoding": "identity"}
                # TLS: the certificate is checked against the URL's name, which is also the SNI.
                tls_name = host if parts.scheme == "https" else None
                async with self._client().post(target, data=body, headers=request_headers, allow_redirects=False,
                                               server_hostname=tls_name) as response:
                    received = bytearray()
                    async for chunk in response.content.iter_any():
                        received += chunk
                        if len(received) >= READ_LIMIT:
                            response.close()  # the rest unread: this connection is not reused
                            break
                text = bytes(received[:READ_LIMIT]).decode("utf-8", errors="replace")
                return SendResult("answered", response.status, took(), text[:EXCERPT_CHARACTERS],
                                  retry_after=response.headers.get("retry-after"))
        except TimeoutError:
            return SendResult("timeout", None, took(), "", error=f"no answer within {self.timeout:g} s")
        except (aiohttp.ClientError, OSError, ValueError) as error:
            return SendResult("error", None, took(), "", error=f"{type(error).__name__}: {error}"[:500])
