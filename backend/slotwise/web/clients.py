"""Who a request comes from, for limits: the peer, or what a trusted proxy says the peer was.

``X-Forwarded-For`` lists the addresses a request passed, the client first;
each proxy appends the address it got the request from. Read right to left,
the first address that is not one of our trusted proxies is the client. From a
peer that is not a trusted proxy the header is ignored altogether: anyone can
write it, and believing it would give every forged value a fresh quota.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from litestar.connection import ASGIConnection


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _counted(address: str) -> str:
    """An IPv6 client counts as its /64: one host may use any address of it.

    A home or mobile line gets at least a /64, and privacy extensions pick a
    fresh address in it every so often; counted per address, each would get a
    fresh budget and fresh holds. IPv4 (mapped ones too) counts per address.
    """
    parsed = _address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return address


def client_address(peer: str | None, forwarded_for: str | None, trusted: Iterable[str]) -> str:
    """The address (an IPv6 client: its /64) a request is counted against."""
    return _counted(_client(peer, forwarded_for, trusted))


def _client(peer: str | None, forwarded_for: str | None, trusted: Iterable[str]) -> str:
    networks = [ipaddress.ip_network(net) for net in trusted]

    def is_trusted(address: str | None) -> bool:
        parsed = _address(address or "")
        return parsed is not None and any(parsed in net for net in networks)

    if not peer or not forwarded_for or not is_trusted(peer):
        return peer or "unknown"
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        if not is_trusted(hop):
            parsed = _address(hop)
            return str(parsed) if parsed else peer  # garbage in the header: count the proxy
    return peer


def client_of(request: ASGIConnection, trusted: Iterable[str]) -> str:
    """The client of a request, as rate limits and the cap on holds count it."""
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"), trusted)
