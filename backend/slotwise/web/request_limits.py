"""Bodies refused before they are parsed: the wrong media type, too large, or JSON nested absurdly deep.

**Size.** Every body is capped at :data:`MAX_BODY_BYTES` (``request_max_body_size``
in ``web/app.py``): a larger one is a 413 before it is read whole.

**Media types.** The JSON API takes ``application/json`` only and the pages'
forms take form encodings only; anything else is a 415. Otherwise a plain
HTML form on any website (which may send ``text/plain`` cross-site without
asking the browser's permission) could post a JSON booking.

**Nesting.** The JSON decoder recurses per level of nesting; a body of
100,000 ``[`` exhausts Python's stack (a RecursionError, a 500). Our deepest
body (a booking's customer object, an answer) is three levels; 32 leaves room
for any future one and answers anything deeper with a 400 before decoding.
"""

from __future__ import annotations

from litestar import Request

from slotwise.web.problems import problem

MAX_JSON_DEPTH = 32
# The largest body any route takes (413 beyond): a whole site document of a large
# business is some tens of kilobytes, a booking under one; a megabyte leaves room
# for any honest request and caps what one request can make the server read.
MAX_BODY_BYTES = 1024 * 1024
_OPENERS = frozenset(b"[{")
_CLOSERS = frozenset(b"]}")


def nested_deeper_than(body: bytes, limit: int) -> bool:
    """Whether the JSON text ``body`` opens more than ``limit`` arrays/objects inside each other.

    Brackets inside strings do not count. The common case costs two C-level
    counts: a body with at most ``limit`` brackets cannot nest deeper.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in _OPENERS:
            depth += 1
            if depth > limit:
                return True
        elif byte in _CLOSERS:
            depth -= 1
    return False


# What a route's body is, when it is not the default for its path (routes set
# ``opt={"body": ...}``): "json" under /api/, "form" elsewhere.
ACCEPTED = {
    "json": ("application/json",),
    "document": ("application/json", "application/toml"),  # a whole site: JSON or a site file
    "form": ("application/x-www-form-urlencoded", "multipart/form-data"),
    "csv": ("text/csv",),  # a catalog import: a spreadsheet saved as CSV
}


def media_type(header: str | None) -> str:
    """``text/plain; charset=utf-8`` → ``text/plain``."""
    return (header or "").split(";", 1)[0].strip().lower()


async def check_body(request: Request) -> None:
    """A ``before_request`` hook: 415 for a body of the wrong type, 400 for JSON nested too deeply."""
    if request.method not in {"POST", "PUT", "PATCH"}:
        return
    kind = request.route_handler.opt.get("body") or ("json" if request.url.path.startswith("/api/") else "form")
    sent = media_type(request.headers.get("content-type"))
    body = await request.body()
    if not body and not sent:
        return  # nothing to read: the handler decides whether it needed a body
    if sent not in ACCEPTED[kind]:
        raise problem(415, "unsupported-media-type", "This body's media type is not accepted here",
                      f"Send {' or '.join(ACCEPTED[kind])}, not {sent or 'no Content-Type'}.",
                      accepted=list(ACCEPTED[kind]))
    if sent == "application/json" and nested_deeper_than(body, MAX_JSON_DEPTH):
        raise problem(400, "too-deeply-nested", "The JSON body is nested too deeply",
                      f"No request of this API nests more than {MAX_JSON_DEPTH} levels.")
