"""The booking page's own assets: the script bundle, the stylesheet in the accent, htmx's config.

App-wide static files and templates are in :mod:`slotwise.web.static` and
:mod:`slotwise.web.templating`.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from urllib.parse import urlencode

import rcssmin
import rjsmin

from slotwise.domain.colours import contrast, theme_colours  # noqa: F401  (contrast: for callers)
from slotwise.web.static import read_static

DEFAULT_ACCENT = "1f5fbf"
THEME_VERSION = "2"  # bump when the generated theme CSS changes (2: minified by rcssmin)

_ACCENT = re.compile(r"^#?([0-9A-Fa-f]{6})$")

HTMX_CONFIG = json.dumps(
    {
        "includeIndicatorStyles": False,
        "allowEval": False,
        "allowScriptTags": False,
        "selfRequestsOnly": True,
        # Back/forward re-fetch the page from the server (it is all in the URL)
        # instead of keeping copies, with typed-in details, in sessionStorage.
        "historyCacheSize": 0,
        # Scrolling a framed page into view would scroll the host page too.
        "scrollIntoViewOnBoost": False,
        # Inline errors (422), a taken slot (409), the rate limit's page (429)
        # are pages to show, not failures.
        "responseHandling": [
            {"code": "204", "swap": False},
            {"code": "[23]..", "swap": True},
            {"code": "40[49]", "swap": True},
            {"code": "422", "swap": True},
            # Past the rate limit: the step says how long to wait (it retargets #sw-step).
            {"code": "429", "swap": True},
            {"code": "[45]..", "swap": False, "error": True},
        ],
    },
    separators=(",", ":"),
)


# --- accent colour -------------------------------------------------------------


# The arithmetic lives in the pure domain (emails use it too); re-exported here for the page.


STYLESHEET = "css/booking.css"
SCRIPTS = ("vendor/htmx.min.js", "js/booking.js")


def strip_comments(source: str) -> str:
    """booking.js minified by rjsmin (a well-tested regex minifier); ``/*! */`` headers are kept.

    Comments, indentation and the spaces between tokens go: the first load
    must stay within 25,000 bytes gzipped (docs/product.md#bars).
    """
    return rjsmin.jsmin(source, keep_bang_comments=True) + "\n"


def script_bundle() -> str:
    """htmx and booking.js as one file: one request fewer on the way to the first times."""
    return _bundle(tuple(read_static(relative) for relative in SCRIPTS))


@lru_cache(maxsize=4)
def _bundle(files: tuple[tuple[bytes, str] | None, ...]) -> str:
    parts = []
    for relative, found in zip(SCRIPTS, files, strict=True):
        if found is not None:
            text = found[0].decode()
            parts.append(text if relative.startswith("vendor/") else strip_comments(text))
    return "\n;".join(parts)


def script_url(site_slug: str) -> str:
    hashes = "".join((read_static(r) or (b"", "0"))[1] for r in SCRIPTS)
    version = hashlib.sha256(hashes.encode()).hexdigest()[:12]
    return f"/book/{site_slug}/app.js?v={version}"


def theme_css(accent: str) -> str:
    """The page's stylesheet with the accent's colours (after it, so they win).

    One stylesheet request instead of two: the page needs htmx, booking.js and
    this, which keeps "script tag to first slots" within five requests.
    """
    c = theme_colours(accent)
    found = read_static(STYLESHEET)
    base = rcssmin.cssmin(found[0].decode()) + "\n" if found else ""
    return (
        f"{base}:root{{--sw-accent:#{c['accent']};--sw-on-accent:#{c['on_accent']};"
        f"--sw-ink:#{c['ink']}}}\n"
    )


def theme_url(site_slug: str, accent: str) -> str:
    """Immutable URL of the stylesheet: the accent and the stylesheet's hash are in it."""
    found = read_static(STYLESHEET)
    version = f"{THEME_VERSION}.{found[1] if found else '0'}"
    return f"/book/{site_slug}/theme.css?{urlencode({'accent': accent, 'v': version})}"


def parse_accent(raw: str | None) -> str | None:
    match = _ACCENT.match(raw or "")
    return match.group(1).lower() if match else None
