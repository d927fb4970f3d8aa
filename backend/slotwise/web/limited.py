"""The answer to a client past its rate limit: a page for people, problem details for programs.

The booking and manage pages answer a readable page in the customer's
language (``?locale=`` or the form's ``locale``, else the browser's) with
``Retry-After``; an htmx request gets the step alone, swapped in place of the
current step. Everything else (the JSON API) answers RFC 9457 problem details
with ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.response import Template

from slotwise.i18n import negotiate, template_gettext
from slotwise.services import availability as availability_service
from slotwise.services.errors import NotFound
from slotwise.settings import Settings
from slotwise.web.booking.assets import DEFAULT_ACCENT, theme_url
from slotwise.web.booking.render import is_htmx
from slotwise.web.booking.state import frame_ancestors
from slotwise.web.problems import PROBLEM_BASE
from slotwise.web.rate_limit import RateLimited
from slotwise.web.security import page_csp

PAGE_PREFIXES = ("/book/", "/manage/")


# A refused request is read only this far for its form's language: past its
# budget, a client must not make us parse large bodies.
FORM_READ_LIMIT = 16_384


async def _locale(request: Request) -> str:
    asked = request.query_params.get("locale")
    length = request.headers.get("content-length", "")
    if (asked is None and request.method == "POST" and length.isdigit() and int(length) <= FORM_READ_LIMIT
            and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")):
        try:
            asked = (await request.form()).get("locale")
        except Exception:  # an unreadable body: the browser's language will do
            asked = None
    return negotiate(asked if isinstance(asked, str) else None, request.headers.get("accept-language"), None)


async def _framers(request: Request, settings: Settings) -> list[str]:
    """Who may frame the page: the site's origins for a booking page (it lives in the widget)."""
    parts = request.url.path.split("/")
    if parts[1] != "book" or len(parts) < 3:
        return []
    try:
        return frame_ancestors(await availability_service.get_site(parts[2]), settings)
    except NotFound:
        return []


def rate_limited_handler(request: Request, exc: RateLimited) -> Response:
    """The JSON API's answer: problem details with ``Retry-After``."""
    return ProblemDetailsException(
        status_code=429, type_=PROBLEM_BASE + "rate-limited", title="Too many requests",
        detail=f"This client sent too many requests; try again in {exc.retry_after} seconds.",
        extra={"retry_after": exc.retry_after}, headers=dict(exc.headers or {}),
    ).to_response(request)


def page_answer(settings: Settings) -> Callable[[Request, RateLimited], Awaitable[Response | None]]:
    """The booking and manage pages' answer (None for any other path)."""

    async def answer(request: Request, exc: RateLimited) -> Response | None:
        if not request.url.path.startswith(PAGE_PREFIXES):
            return None
        return await _page(request, exc, settings)

    return answer


async def _page(request: Request, exc: RateLimited, settings: Settings) -> Response:
    headers = dict(exc.headers or {})
    locale = await _locale(request)
    slug = request.url.path.split("/")[2] if request.url.path.startswith("/book/") else "x"
    # Try the same page again: a GET as it was, a form's POST as the page it came from
    # (/book/{site}/hold → /book/{site}). Never a Referer: anyone can send one.
    if request.method == "GET":
        again = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        again = f"{request.url.path.rstrip('/').rsplit('/', 1)[0]}?{urlencode({'locale': locale})}"
    htmx = is_htmx(request)
    if htmx:
        headers.update({"HX-Retarget": "#sw-step", "HX-Reswap": "outerHTML", "HX-Push-Url": "false"})
    return Template(
        template_name="limited/_limited.html" if htmx else "limited/page.html",
        context={"lang": locale, "retry_after": exc.retry_after, "again_url": again,
                 "theme_url": theme_url(slug, DEFAULT_ACCENT),
                 "embed": request.query_params.get("embed") == "1", **template_gettext(locale)},
        status_code=429, media_type="text/html",
        headers={**headers, "Cache-Control": "no-store",
                 # A fragment is never framed on its own: no site to read for it.
                 "Content-Security-Policy": page_csp([] if htmx else await _framers(request, settings))},
    )
