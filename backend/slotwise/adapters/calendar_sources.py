"""Outside calendars over the network: ICS files by HTTP GET, CalDAV with the ``caldav`` library.

Every call first resolves the host and refuses private, loopback, link-local
and other non-public addresses unless ``allow_private`` (the setting
``SLOTWISE_WEBHOOK_ALLOW_PRIVATE``): a hosted install must not be made to call
its own network. The check is on the resolved addresses at call time, not on
the URL's text. Bodies are cut off at ``MAX_ICS_BYTES``; redirects are not
followed; every call has a timeout. ``caldav`` is synchronous and runs in a
worker thread.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import httpx

# A busy calendar of several years is a few megabytes; more is a mistake or an attack.
MAX_ICS_BYTES = 10 * 1024 * 1024
TIMEOUT_SECONDS = 10.0


class SourceError(Exception):
    """The calendar could not be read or written; the message is shown to the owner."""


class PrivateTarget(SourceError):
    """The host resolves to a private, loopback or otherwise non-public address."""


@dataclass(frozen=True, slots=True)
class Fetched:
    body: bytes | None  # None: not modified since the last fetch
    etag: str | None
    last_modified: str | None


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def check_target(url: str, *, allow_private: bool) -> None:
    """Raise :class:`SourceError` unless ``url`` is http(s) and its host resolves to public addresses only."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise SourceError("the URL cannot be read") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise SourceError("the URL must start with http:// or https:// and name a host")
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise SourceError(f"the host {parts.hostname} cannot be resolved: {exc}") from None
    for info in infos:
        if not _is_public(str(info[4][0])):
            raise PrivateTarget(f"the host {parts.hostname} is a private or loopback address ({info[4][0]}); "
                              "set SLOTWISE_WEBHOOK_ALLOW_PRIVATE=1 to allow it")


async def fetch_ics(url: str, *, etag: str | None, last_modified: str | None, allow_private: bool,
                    username: str | None = None, password: str | None = None) -> Fetched:
    """GET the file, conditionally on what the last fetch answered (304: ``body`` None)."""
    await check_target(url, allow_private=allow_private)
    headers = {"Accept": "text/calendar, */*;q=0.5", "User-Agent": "Slotwise calendar sync"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    auth = (username, password or "") if username else None
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False, auth=auth) as client:
            async with client.stream("GET", url, headers=headers) as response:
                if response.status_code == 304:
                    return Fetched(None, etag, last_modified)
                if response.status_code != 200:
                    raise SourceError(f"the server answered HTTP {response.status_code}")
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_ICS_BYTES:
                        raise SourceError(f"the file is larger than {MAX_ICS_BYTES // (1024 * 1024)} MB")
                    chunks.append(chunk)
                return Fetched(b"".join(chunks), response.headers.get("ETag"),
                               response.headers.get("Last-Modified"))
    except httpx.HTTPError as exc:
        raise SourceError(f"the calendar cannot be reached: {type(exc).__name__} {exc}".strip()) from None


def _calendar(url: str, username: str | None, password: str | None):
    import caldav

    client = caldav.DAVClient(url=url, username=username, password=password, timeout=int(TIMEOUT_SECONDS))
    # No redirects: one could lead to an address the check above never saw.
    client.session.max_redirects = 0
    return client.calendar(url=url)


def _caldav_call(what: str, call):
    try:
        return call()
    except SourceError:
        raise
    except Exception as exc:  # caldav raises its own errors, the HTTP library's, and lxml's
        raise SourceError(f"CalDAV {what} failed: {type(exc).__name__} {exc}".strip()) from None


async def caldav_events(url: str, *, username: str | None, password: str | None, start: datetime,
                        end: datetime, allow_private: bool) -> list[bytes]:
    """The raw iCalendar data of the calendar's events overlapping ``[start, end)`` (a time-range REPORT).

    Recurring events come unexpanded; the caller expands them like an ICS file's.
    """
    await check_target(url, allow_private=allow_private)

    def search() -> list[bytes]:
        found = _calendar(url, username, password).search(start=start, end=end, event=True, expand=False)
        return [obj.data.encode() if isinstance(obj.data, str) else obj.data for obj in found]

    return await asyncio.to_thread(_caldav_call, "search", search)


async def caldav_put(url: str, *, username: str | None, password: str | None, uid: str, ical: bytes,
                     allow_private: bool) -> None:
    """Create or replace the event with ``uid`` (saved under ``<uid>.ics`` in the calendar)."""
    await check_target(url, allow_private=allow_private)

    def put() -> None:
        calendar = _calendar(url, username, password)
        calendar.save_event(ical.decode())

    await asyncio.to_thread(_caldav_call, "write", put)


async def caldav_delete(url: str, *, username: str | None, password: str | None, uid: str,
                        allow_private: bool) -> None:
    """Remove the event with ``uid``; one that is already gone is fine."""
    await check_target(url, allow_private=allow_private)

    def remove() -> None:
        import caldav.lib.error

        calendar = _calendar(url, username, password)
        try:
            event = calendar.event_by_uid(uid)
        except caldav.lib.error.NotFoundError:
            return
        event.delete()

    await asyncio.to_thread(_caldav_call, "delete", remove)
