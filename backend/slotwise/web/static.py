"""``/static``: our CSS and JS (and ``vendor/`` htmx), cached for good under content-hashed URLs."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from litestar import Router
from litestar.datastructures import CacheControlHeader, MutableScopeHeaders
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from slotwise.assets import STATIC_DIR


@lru_cache(maxsize=64)
def _read(path: str, mtime_ns: int, size: int) -> tuple[bytes, str]:
    """A file's bytes and content hash; the key changes when the file does."""
    body = Path(path).read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:12]


def read_static(relative: str) -> tuple[bytes, str] | None:
    """The bytes and content hash of ``static/<relative>``, or None when it is missing."""
    file = STATIC_DIR / relative
    try:
        stat = file.stat()
    except OSError:
        return None
    return _read(str(file), stat.st_mtime_ns, stat.st_size)


def asset_url(relative: str) -> str:
    """``/static/<relative>?v=<content hash>``: a changed file gets a new URL, so it can be cached for good."""
    found = read_static(relative)
    return f"/static/{relative}?v={found[1]}" if found else f"/static/{relative}"


IMMUTABLE = "public, max-age=31536000, immutable"


def _versioned_cache(app: ASGIApp) -> ASGIApp:
    """Cache ``/static/…?v=…`` (fingerprinted, see asset_url) for a year; others revalidate."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        versioned = any(
            part.startswith(b"v=") for part in scope.get("query_string", b"").split(b"&")
        )

        async def send_with_cache(message: Message) -> None:
            if versioned and message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message)["Cache-Control"] = IMMUTABLE
            await send(message)

        await app(scope, receive, send_with_cache if versioned else send)

    return middleware


def static_files_router() -> Router:
    """``/static`` → ``static/`` (our CSS/JS and ``vendor/`` htmx); see :mod:`slotwise.assets`."""
    return create_static_files_router(
        "/static",
        directories=[STATIC_DIR],
        cache_control=CacheControlHeader(no_cache=True),
        middleware=[_versioned_cache],
    )
