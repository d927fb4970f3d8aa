"""Web origins (``scheme://host[:port]``): reading, normalising and checking them. Pure.

One place for the three questions the code asks of an origin: what is the
origin of this URL (:func:`origin_of`), is this text a normalised origin we
may put into a header (:func:`is_origin`), and what origin did a person mean
by what they wrote in a site file (:func:`normalize_origin`).
"""

from __future__ import annotations

import ipaddress
import json
import re
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
# A normalised origin as browsers send it: safe to place into CSP and
# postMessage targets (no spaces, semicolons, quotes or paths can slip in).
_NORMALISED = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")
HINT = (
    'must be an origin like "https://example.com" or "http://localhost:8000" '
    "(http or https, a host, an optional port, no path)"
)


class OriginError(ValueError):
    """What is wrong with a written origin, in plain English."""


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL: "https://example.com/path?q" → "https://example.com"."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def is_origin(text: str | None) -> bool:
    """Whether ``text`` has the shape of a normalised origin (and nothing else in it)."""
    return bool(_NORMALISED.match(text or ""))


def normalize_origin(value: str) -> str:
    """A web origin as browsers send it and CSP ``frame-ancestors`` matches it.

    Lower case, the default port dropped, a lone trailing "/" dropped, IDN
    hosts in punycode, IPv6 in brackets: "HTTPS://Example.COM:443/" →
    "https://example.com". Raises :class:`OriginError` for anything else.
    """
    text = value.strip()
    shown = json.dumps(value, ensure_ascii=False)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise OriginError(f"{HINT}, got {shown}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.netloc:
        raise OriginError(f"{HINT}, got {shown}")
    if parts.username is not None or parts.password is not None:
        raise OriginError(f"must not contain a user name or password, got {shown}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or text.endswith(("?", "#")):
        raise OriginError(f"{shown} has a path; an origin is only scheme://host[:port], "
                          f'e.g. "{scheme}://{parts.netloc.lower()}"')
    host = _host(parts.hostname or "", shown)
    port_part = "" if port is None or port == DEFAULT_PORTS[scheme] else f":{port}"
    return f"{scheme}://{host}{port_part}"


def _host(host: str, shown: str) -> str:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return f"[{address.compressed}]" if address.version == 6 else address.compressed
    if "*" in host:
        raise OriginError(f"wildcards are not supported; list each origin, got {shown}")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise OriginError(f"{HINT}, got {shown}") from None
    if not all(_HOST_LABEL.fullmatch(label) for label in host.split(".")):
        raise OriginError(f"{HINT}, got {shown}")
    return host
