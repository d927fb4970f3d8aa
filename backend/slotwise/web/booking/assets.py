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

from slotwise.web.static import read_static

DEFAULT_ACCENT = "1f5fbf"
THEME_VERSION = "1"  # bump when the generated theme CSS changes

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


def _luminance(rgb: str) -> float:
    """WCAG 2 relative luminance of "rrggbb"."""

    def channel(hex2: str) -> float:
        c = int(hex2, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(rgb[i : i + 2]) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def theme_colours(accent: str) -> dict[str, str]:
    """The accent, the text colour on it, and a shade of it readable as text on white.

    Black or white on the accent, whichever contrasts more: one of them always
    reaches at least 4.58:1. For text and focus rings on the white page the
    accent is darkened in 5 % steps until it reaches 4.5:1 (a pale "#ffdd00"
    becomes "#7a6a00"; "#0a7f6f" already passes and stays).
    """
    on_accent = "000000" if contrast(accent, "000000") >= contrast(accent, "ffffff") else "ffffff"
    ink = accent
    factor = 1.0
    while contrast(ink, "ffffff") < 4.5 and factor > 0:
        factor = round(factor - 0.05, 2)
        ink = "".join(f"{int(int(accent[i : i + 2], 16) * factor):02x}" for i in (0, 2, 4))
    return {"accent": accent, "on_accent": on_accent, "ink": ink}


STYLESHEET = "css/booking.css"
SCRIPTS = ("vendor/htmx.min.js", "js/booking.js")


def strip_comments(source: str) -> str:
    """Drop indentation, blank lines and whole-line ``//`` comments; keep everything else.

    Naive on purpose, so it cannot change what the code does: a line that
    holds code is never touched beyond its leading and trailing spaces.
    """
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"


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
    base = found[0].decode() if found else ""
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
