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

import httpx

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
    def __init__(self, *, allow_private: bool, timeout: float = TIMEOUT_SECONDS,
                 resolver: Resolver = resolve) -> None:
        self.allow_private = allow_private
        self.timeout = timeout
        self.resolver = resolver
        self._client = httpx.AsyncClient(
            follow_redirects=False, trust_env=False, timeout=timeout,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20))

    async def aclose(self) -> None:
        await self._client.aclose()

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
                target = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
                request_headers = {**headers, "host": parts.netloc.rpartition("@")[2],
                                   "user-agent": USER_AGENT, "content-type": "application/json",
                                   "accept-encoding": "identity"}
                extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
                request = self._client.build_request("POST", target, headers=request_headers, content=body,
                                                     extensions=extensions)
                response = await self._client.send(request, stream=True)
                try:
                    received = bytearray()
                    async for chunk in response.aiter_raw():
                        received += chunk
                        if len(received) >= READ_LIMIT:
                            break
                finally:
                    await response.aclose()
                text = bytes(received[:READ_LIMIT]).decode("utf-8", errors="replace")
                return SendResult("answered", response.status_code, took(), text[:EXCERPT_CHARACTERS],
                                  retry_after=response.headers.get("retry-after"))
        except TimeoutError:
            return SendResult("timeout", None, took(), "", error=f"no answer within {self.timeout:g} s")
        except httpx.TimeoutException:
            return SendResult("timeout", None, took(), "", error=f"no answer within {self.timeout:g} s")
        except (httpx.HTTPError, OSError) as error:
            return SendResult("error", None, took(), "", error=f"{type(error).__name__}: {error}"[:500])
