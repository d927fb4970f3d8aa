"""The embed loader (``GET /widget.js``) and the demo business page (``GET /demo``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import rjsmin

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.response import Template
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from slotwise.assets import WIDGET_LOADER
from slotwise.domain.origins import is_origin, origin_of
from slotwise.settings import Settings

DEMO_SITE = "harbour-physio"

# The snippet URL never changes, so the loader cannot be cached "immutable":
# browsers reuse it for 5 minutes, then revalidate in the background for a day
# (a deploy reaches every host page within ~5 minutes of its next visit).
LOADER_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    etag: str  # strong validator: quoted content hash

    @classmethod
    def from_text(cls, text: str) -> Asset:
        body = text.encode()
        return cls(body=body, etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"')


def minify_lightly(source: str) -> str:
    """The loader minified by rjsmin; its ``/*! */`` header is kept."""
    return rjsmin.jsmin(source, keep_bang_comments=True) + "\n"


def load_loader(path: Path = WIDGET_LOADER) -> Asset:
    return Asset.from_text(minify_lightly(path.read_text(encoding="utf-8")))


# Read once, when the app is built.
LOADER = load_loader()


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    # If-None-Match uses weak comparison: W/"x" matches "x".
    return etag in (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))


@get("/widget.js", include_in_schema=False, sync_to_thread=False)
def widget_js(request: Request) -> Response[bytes]:
    headers = {
        "ETag": LOADER.etag,
        "Cache-Control": LOADER_CACHE_CONTROL,
        # A public file: lets owners add `crossorigin`/SRI, and host pages that
        # require CORP (COEP) may still load it.
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if _etag_matches(request.headers.get("if-none-match"), LOADER.etag):
        return Response(content=b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(content=LOADER.body, media_type="text/javascript", headers=headers)


_LOOPBACK_TWIN = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}


def widget_base_for(page_origin: str, base_url: str) -> str:
    """The Slotwise base URL the demo page embeds from, cross-origin to the page when possible.

    The demo must behave like a customer's site, whose origin is never ours. One
    server answers on two loopback names, so the page on http://127.0.0.1:8000
    loads the widget from http://localhost:8000 and vice versa: two origins,
    both in the demo site's ``allowed_origins``. On any other host there is no
    twin, and the demo is same-origin (it still works; it just proves less).
    The request only picks *between* our base URL and its twin; nothing from
    the Host header is echoed into the page.
    """
    base = urlsplit(base_url)
    if page_origin.rstrip("/") != f"{base.scheme}://{base.netloc}":
        return base_url
    twin = _LOOPBACK_TWIN.get(base.hostname or "")
    if twin is None:
        return base_url
    netloc = twin + (f":{base.port}" if base.port else "")
    return urlunsplit((base.scheme, netloc, base.path, "", "")).rstrip("/")


def demo_csp(widget_origin: str) -> str:
    """The demo page's own policy: our stylesheet and script, the widget's origin for the loader and frame."""
    if not is_origin(widget_origin):  # never let a header value break the policy
        raise ValueError(f"not an origin: {widget_origin!r}")
    return (
        "default-src 'none'; "
        f"script-src 'self' {widget_origin}; "
        "style-src 'self'; "
        "img-src 'self' data:; "
        f"frame-src {widget_origin}; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


@get("/demo", include_in_schema=False, sync_to_thread=False)
def demo_page(request: Request, settings: NamedDependency[Settings]) -> Template:
    page_origin = origin_of(str(request.base_url))
    widget_base = widget_base_for(page_origin, settings.base_url)
    snippet = f'<script async src="{widget_base}/widget.js" data-site="{DEMO_SITE}"></script>'
    return Template(
        template_name="demo/page.html",
        context={
            "widget_base": widget_base,
            "site": DEMO_SITE,
            "snippet": snippet,
            "booking_url": f"{widget_base}/book/{DEMO_SITE}",
        },
        headers={"Content-Security-Policy": demo_csp(origin_of(widget_base))},
    )

