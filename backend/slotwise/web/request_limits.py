"""Bodies refused before they are parsed: JSON nested deeper than any request of ours needs.

The JSON decoder recurses per level of nesting; a body of 100,000 ``[``
exhausts Python's stack (a RecursionError, a 500). Our deepest body (a
booking's customer object, an answer) is three levels; 32 leaves room for any
future one and answers anything deeper with a 400 before decoding.
"""

from __future__ import annotations

from litestar import Request

from slotwise.web.problems import problem

MAX_JSON_DEPTH = 32
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


async def refuse_deep_json(request: Request) -> None:
    """A ``before_request`` hook: 400 for a JSON body nested deeper than MAX_JSON_DEPTH."""
    if request.method not in {"POST", "PUT", "PATCH"}:
        return
    if "json" not in request.headers.get("content-type", "").lower():
        return
    if nested_deeper_than(await request.body(), MAX_JSON_DEPTH):
        raise problem(400, "too-deeply-nested", "The JSON body is nested too deeply",
                      f"No request of this API nests more than {MAX_JSON_DEPTH} levels.")
