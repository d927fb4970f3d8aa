"""Security headers of Slotwise's own pages. Small and pure where it can be: values in, header values out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from slotwise.domain.origins import is_origin

# The policy of any response that does not bring its own: nothing may load,
# nothing may frame it. Pages that render HTML set their own (see page_csp).
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


BASELINE = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    # Our pages never need a window.opener relationship with another origin.
    "Cross-Origin-Opener-Policy": "same-origin",
}


def page_csp(frame_ancestors: Iterable[str]) -> str:
    """The Content-Security-Policy of a page we render.

    Scripts, styles and requests only from our own origin (no inline script or
    style, no eval). ``frame_ancestors`` are the origins allowed to embed the
    page in a frame; none → ``'none'``, the page cannot be framed at all.
    """
    # Only well-formed origins: a stray ";" must never start a directive of its own.
    origins = (a for a in frame_ancestors if is_origin(a))
    ancestors = " ".join(dict.fromkeys(origins)) or "'none'"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
        f"frame-ancestors {ancestors}"
    )


def security_headers_hook(*, schema_path: str) -> Callable[[Message, Scope], Awaitable[None]]:
    """A ``before_send`` hook adding the baseline headers to every HTTP response.

    Headers a handler set itself win (a booking page's CSP with its
    ``frame-ancestors``). The OpenAPI viewer under ``schema_path`` is a page
    of ours (its files come from our origin, web/api_docs.py): it gets the page
    policy without framers.
    """

    async def hook(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in BASELINE.items():
            if name not in headers:
                headers[name] = value
        path = scope.get("path", "")
        under_schema = path == schema_path or path.startswith(schema_path.rstrip("/") + "/")
        if "Content-Security-Policy" not in headers:
            headers["Content-Security-Policy"] = page_csp(()) if under_schema else DEFAULT_CSP
        csp = headers.get("Content-Security-Policy", "")
        # Old browsers without frame-ancestors: deny framing unless the page allows some framer.
        if "X-Frame-Options" not in headers and ("frame-ancestors 'none'" in csp or not csp):
            headers["X-Frame-Options"] = "DENY"

    return hook
