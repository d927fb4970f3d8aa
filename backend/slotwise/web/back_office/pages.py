"""The back office's pages at /admin: sign-in and out, passwords, the day, a resource's week and the list
(a booking's panel, opened from them, is ``booking_panel.py``).

Every page that needs a person takes ``admin`` (``session.provide_admin``):
the session turned into a Caller; then ``services.access`` decides the site
and the action, exactly as for an API key. Writes go through the same
services as the admin API, with the account as actor. Errors a service
raises on purpose become pages in one place (``_service_error``, registered
on the router by ``back_office_router``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from markupsafe import Markup

from slotwise.clock import Clock
from slotwise.domain.access import Action
from slotwise.domain.model import Site
from slotwise.i18n import Formatter, negotiate, template_gettext
from slotwise.services import access, accounts, booking_lists
from slotwise.services import catalog as catalog_service
from slotwise.services import availability as availability_service
from slotwise.services.config import ServiceConfig
from slotwise.services.day_sheet import DaySheet, day_sheets, shown_day
from slotwise.services.errors import (
    ActionRefused,
    Forbidden,
    InvalidInput,
    LinkInvalid,
    NotFound,
    ServiceError,
    SignInFailed,
    SignInThrottled,
    SlotUnavailable,
)
from slotwise.settings import Settings
from slotwise.web.back_office import integrations, present, widget_messages
from slotwise.web.back_office.session import (
    CSRF_FIELD,
    SESSION_COOKIE,
    Admin,
    NotSignedIn,
    cleared_session_cookie,
    csrf_guard,
    current_admin,
    pre_session,
    provide_admin,
    session_cookie,
)
from slotwise.web.booking.assets import HTMX_CONFIG
from slotwise.web.clients import client_of
from slotwise.web.security import page_csp

PAGE_HEADERS = {"Cache-Control": "no-store", "Content-Security-Policy": page_csp(())}
POLL_SECONDS = 30
GRID_ROW_SECONDS = present.ROW_MINUTES * 60


def _locale(request: Request) -> str:
    return negotiate(request.query_params.get("locale"), request.headers.get("accept-language"), None)


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-history-restore-request") != "true"


def _page(request: Request, template: str, context: Mapping[str, Any], *, status: int = 200,
          cookies: list[Cookie] | None = None, headers: Mapping[str, str] | None = None) -> Template:
    locale = _locale(request)
    return Template(template_name=f"admin/{template}", context={
        "lang": locale, "fmt": Formatter(locale), "htmx_config": HTMX_CONFIG, "csrf_field": CSRF_FIELD,
        **template_gettext(locale), **context,
    }, status_code=status, headers={**PAGE_HEADERS, **(headers or {})}, cookies=cookies or [],
        media_type="text/html")


def _go(url: str, request: Request, cookies: list[Cookie] | None = None) -> Response:
    """After a write: the next page (htmx follows HX-Redirect; a plain form, the 303)."""
    if _is_htmx(request):
        return Response(content=b"", status_code=204, headers={**PAGE_HEADERS, "HX-Redirect": url},
                        cookies=cookies or [])
    return Redirect(url, status_code=HTTP_303_SEE_OTHER, headers=PAGE_HEADERS, cookies=cookies or [])


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _anonymous(request: Request, settings: Settings, template: str, context: Mapping[str, Any],
               status: int = 200) -> Template:
    """A page for someone not signed in: its forms carry the pre-session CSRF token."""
    token, cookie = pre_session(request, settings)
    return _page(request, template, {"csrf": token, "admin": None, **context}, status=status,
                 cookies=[cookie] if cookie else None)


def _safe_next(value: str | None) -> str:
    """Only a path of ours: an open redirect must not start at our sign-in page."""
    if value and value.startswith("/admin") and not value.startswith("//") and "\\" not in value:
        return value
    return "/admin"


# --- signing in and out -----------------------------------------------------------------


@get("/login", name="admin-login")
async def login_page(request: Request, settings: NamedDependency[Settings], clock: NamedDependency[Clock]) -> Response:
    if await current_admin(request, settings, clock()):
        return _go(_safe_next(request.query_params.get("next")), request)
    return _anonymous(request, settings, "login.html", {
        "next": _safe_next(request.query_params.get("next")), "notice": request.query_params.get("notice")})


@post("/login")
async def login(request: Request, settings: NamedDependency[Settings], clock: NamedDependency[Clock]) -> Response:
    form = await _form(request)
    email, next_url = form.get("email", ""), _safe_next(form.get("next"))
    try:
        signed = await accounts.sign_in(email, form.get("password", ""),
                                        client_address=client_of(request, settings.trusted_proxies),
                                        user_agent=request.headers.get("user-agent", ""), now=clock())
    except SignInFailed:
        return _anonymous(request, settings, "login.html", {"next": next_url, "email": email, "error": "failed"},
                          status=400)
    except SignInThrottled as exc:
        return _anonymous(request, settings, "login.html", {
            "next": next_url, "email": email, "error": "throttled", "minutes": -(-exc.retry_after // 60)},
            status=429)
    return _go(next_url, request, [session_cookie(settings, signed.token)])


@post("/logout")
async def logout(request: Request, settings: NamedDependency[Settings], clock: NamedDependency[Clock],
                 admin: NamedDependency[Admin]) -> Response:
    await accounts.sign_out(request.cookies.get(SESSION_COOKIE, ""), now=clock())
    return _go("/admin/login?notice=signed-out", request, [cleared_session_cookie(settings)])


@post("/logout-everywhere")
async def logout_everywhere(request: Request, settings: NamedDependency[Settings],
                            clock: NamedDependency[Clock], admin: NamedDependency[Admin]) -> Response:
    await accounts.sign_out_everywhere(admin.account.public_id, actor=admin.account.actor, now=clock())
    return _go("/admin/login?notice=signed-out-everywhere", request, [cleared_session_cookie(settings)])


@get("/reset")
async def reset_page(request: Request, settings: NamedDependency[Settings]) -> Template:
    return _anonymous(request, settings, "reset.html", {})


@post("/reset")
async def reset(request: Request, settings: NamedDependency[Settings], clock: NamedDependency[Clock],
                config: NamedDependency[ServiceConfig]) -> Template:
    form = await _form(request)
    email = form.get("email", "").strip()
    if email:
        await accounts.request_password_reset(email[:254], now=clock(), config=config)
    # The same answer for any address: whether an account exists is not told.
    return _anonymous(request, settings, "reset.html", {"sent": bool(email), "email": email,
                                                        "error": None if email else "required"},
                      status=200 if email else 400)


@get("/set-password/{token:str}")
async def set_password_page(request: Request, token: FromPath[str], settings: NamedDependency[Settings],
                            clock: NamedDependency[Clock]) -> Template:
    try:
        link = await accounts.check_link(token, now=clock())
    except LinkInvalid as exc:
        return _anonymous(request, settings, "set_password.html", {"invalid": exc.reason}, status=404)
    return _anonymous(request, settings, "set_password.html", {
        "email": link.account.email, "purpose": str(link.purpose), "token": token})


@post("/set-password/{token:str}")
async def set_password(request: Request, token: FromPath[str], settings: NamedDependency[Settings],
                       clock: NamedDependency[Clock]) -> Response:
    form = await _form(request)
    password, repeated = form.get("password", ""), form.get("repeat", "")
    try:
        link = await accounts.check_link(token, now=clock())
    except LinkInvalid as exc:
        return _anonymous(request, settings, "set_password.html", {"invalid": exc.reason}, status=404)
    context = {"email": link.account.email, "purpose": str(link.purpose), "token": token}
    if password != repeated:
        return _anonymous(request, settings, "set_password.html", {**context, "error": "mismatch"}, status=422)
    try:
        await accounts.set_password(token, password, now=clock())
    except InvalidInput as exc:
        return _anonymous(request, settings, "set_password.html",
                          {**context, "error": exc.problems[0].code, "limit": accounts.PASSWORD_MIN_LENGTH},
                          status=422)
    except LinkInvalid as exc:
        return _anonymous(request, settings, "set_password.html", {"invalid": exc.reason}, status=404)
    return _go("/admin/login?notice=password-set", request)


# --- sites --------------------------------------------------------------------------------


@get("/")
async def home(request: Request, admin: NamedDependency[Admin]) -> Response:
    """The first site's day view; with no site at all, a page that says so."""
    if admin.memberships:
        return _go(f"/admin/sites/{admin.memberships[0].site_slug}", request)
    return _page(request, "no_sites.html", {"admin": admin, "csrf": admin.csrf, "site": None})


@get("/switch")
async def switch(request: Request, admin: NamedDependency[Admin]) -> Response:
    """The site picker's target (a GET form: nothing changes but the page shown)."""
    wanted = request.query_params.get("site", "")
    slugs = {m.site_slug for m in admin.memberships}
    return _go(f"/admin/sites/{quote(wanted)}" if wanted in slugs else "/admin", request)


def _parse_day(raw: str | None, today: date) -> date:
    try:
        return date.fromisoformat(raw) if raw else today
    except ValueError:
        return today


async def _site(admin: Admin, slug: str, action: Action) -> Site:
    return await access.site_allowing(admin.caller, slug, action)


async def _day_context(request: Request, admin: Admin, site: Site, day: date, now: datetime) -> dict[str, Any]:
    locale = _locale(request)
    fmt = Formatter(locale)
    visible = access.visible_to(admin.caller, site)
    try:  # whether the day's time off offers "Remove" (and the head "Book"/"Block time"): not for viewers
        access.authorize(admin.caller, Action.TIME_OFF_WRITE, site, visible)
        can_block = True
    except Forbidden:
        can_block = False
    # The grid's line for now moves a row every five minutes: until then the
    # drawn grid is the same, and may be kept (services.day_sheet.shown_day).
    row_now = datetime.fromtimestamp(now.timestamp() // GRID_ROW_SECONDS * GRID_ROW_SECONDS, now.tzinfo)

    def draw(sheet: DaySheet) -> tuple[present.Grid, Markup]:
        grid = present.grid(sheet, fmt, row_now, texts={
            "closed": fmt.gettext("Closed"), "off": fmt.gettext("Time off"), "held": fmt.gettext("Being booked")})
        html = request.app.template_engine.engine.get_template("admin/_grid.html").render({
            **template_gettext(locale), "grid": grid, "site": site, "can_block": can_block, "nav": "day"})
        return grid, Markup(html)

    grid, grid_html = await shown_day(site, day, visible=visible, now=now, variant=(locale, can_block, row_now),
                                      show=draw)
    before, after = present.neighbours(day)
    today = now.astimezone(ZoneInfo(site.timezone)).date()
    return {"admin": admin, "csrf": admin.csrf, "site": site, "grid": grid, "grid_html": grid_html, "day": day,
            "before": before, "can_block": can_block,
            "after": after, "today": today, "day_label": fmt.full_day(day), "poll_seconds": POLL_SECONDS, "nav": "day",
            "memberships": admin.memberships}


@get("/sites/{site:str}")
async def day_view(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                   clock: NamedDependency[Clock]) -> Template:
    found = await _site(admin, site, Action.BOOKINGS_READ)
    now = clock()
    day = _parse_day(request.query_params.get("day"), now.astimezone(ZoneInfo(found.timezone)).date())
    context = await _day_context(request, admin, found, day, now)
    if _is_htmx(request) and request.headers.get("hx-target") == "day":
        return _page(request, "_day.html", context)
    return _page(request, "day.html", {**context, "panel": None})


# --- a resource's week ----------------------------------------------------------------------


@get("/sites/{site:str}/week")
async def week_view(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                    clock: NamedDependency[Clock]) -> Template:
    """One resource's week (Monday to Sunday), a column per day; staff: their own resource."""
    found = await _site(admin, site, Action.BOOKINGS_READ)
    now = clock()
    locale = _locale(request)
    fmt = Formatter(locale)
    zone = ZoneInfo(found.timezone)
    day = _parse_day(request.query_params.get("day"), now.astimezone(zone).date())
    monday = day - timedelta(days=day.weekday())
    visible = access.visible_to(admin.caller, found)
    resources = [r.table for r in await catalog_service.list_resources(found)
                 if r.active and (visible is None or r.table["key"] in visible)]
    keys = [r["key"] for r in resources]
    wanted = request.query_params.get("resource") or (keys[0] if keys else "")
    if wanted not in keys:
        raise NotFound("resource", wanted)
    texts = {"closed": fmt.gettext("Closed"), "off": fmt.gettext("Time off"), "held": fmt.gettext("Being booked")}
    sheets = await day_sheets(found, monday, days=7, visible=frozenset({wanted}), now=now)
    week = present.week_grid(sheets, wanted, fmt, now, texts=texts)
    return _page(request, "week.html", {
        "admin": admin, "csrf": admin.csrf, "site": found, "nav": "week", "grid": week, "resources": resources,
        "resource": wanted, "monday": monday, "before": monday - timedelta(days=7),
        "after": monday + timedelta(days=7),
        "title": fmt.gettext("Week of %(day)s", day=fmt.full_day(monday))})


# --- the list ---------------------------------------------------------------------------------

LIST_FILTERS = ("from", "to", "resource", "service", "status", "q")


@get("/sites/{site:str}/bookings")
async def booking_list(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                       clock: NamedDependency[Clock]) -> Template:
    """The bookings in a date range (default: the coming week), filtered, in pages of 50."""
    found = await _site(admin, site, Action.BOOKINGS_READ)
    locale = _locale(request)
    fmt = Formatter(locale)
    zone = ZoneInfo(found.timezone)
    today = clock().astimezone(zone).date()
    params = {name: (request.query_params.get(name) or "").strip() for name in LIST_FILTERS}
    params["from"] = params["from"] or today.isoformat()
    params["to"] = params["to"] or (today + timedelta(days=6)).isoformat()
    visible = access.visible_to(admin.caller, found)
    problems: dict[str, str] = {}
    bookings, next_cursor = [], None
    try:
        page = await booking_lists.list_bookings(found, {**{k: v or None for k, v in params.items()},
                                                         "cursor": request.query_params.get("cursor"),
                                                         "limit": "50"}, visible=visible)
        bookings, next_cursor = page.bookings, page.next_cursor
    except InvalidInput as exc:
        problems = {problem.field: problem.code for problem in exc.problems}
    resources = [r.table for r in await catalog_service.list_resources(found)
                 if r.active and (visible is None or r.table["key"] in visible)]
    services = (await availability_service.list_services(found.slug))[1]
    rows = [{
        "id": b.public_id, "customer": b.customer.name, "email": b.customer.email,
        "when": f"{fmt.day(b.start.astimezone(zone))}, {fmt.time(b.start.astimezone(zone))}",
        "service": b.service.name_in(locale), "with": ", ".join(r.name_in(locale) for r in b.resources),
        "cancelled": b.cancelled,
    } for b in bookings]
    query = {k: v for k, v in params.items() if v}
    return _page(request, "list.html", {
        "admin": admin, "csrf": admin.csrf, "site": found, "params": params, "problems": problems, "nav": "list",
        "rows": rows, "resources": resources, "services": [(s.slug, s.name_in(locale)) for s in services],
        "next_url": (f"/admin/sites/{found.slug}/bookings?" + urlencode({**query, "cursor": next_cursor}))
        if next_cursor else None,
        "today": today})


# --- errors, and the router ---------------------------------------------------------------


def _error_page(request: Request, status: int, kind: str) -> Response:
    locale = _locale(request)
    return Template(template_name="admin/error.html", context={
        "lang": locale, "fmt": Formatter(locale), "htmx_config": HTMX_CONFIG, "admin": None, "site": None,
        "kind": kind, "status": status, **template_gettext(locale)},
        status_code=status, headers=PAGE_HEADERS, media_type="text/html")


def _not_signed_in(request: Request, _: Exception) -> Response:
    target = "/admin/login?next=" + quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    if _is_htmx(request):
        return Response(content=b"", status_code=401, headers={**PAGE_HEADERS, "HX-Redirect": target})
    return Redirect(target, status_code=HTTP_303_SEE_OTHER, headers=PAGE_HEADERS)


def _service_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, NotFound):
        return _error_page(request, 404, "not-found")
    if isinstance(exc, Forbidden):
        return _error_page(request, 403, "forbidden")
    if isinstance(exc, InvalidInput):
        return _error_page(request, 422, "invalid")
    return _error_page(request, 409, "refused")


def _forbidden(request: Request, _: Exception) -> Response:
    return _error_page(request, 403, "csrf")


def back_office_router(settings: Settings) -> Router:
    """Everything under /admin, behind the CSRF guard, with HTML error pages."""
    # These modules use this one's helpers, so they are imported once it exists.
    from slotwise.web.back_office import catalog as catalog_pages  # noqa: PLC0415
    from slotwise.web.back_office import booking_panel, desk, team  # noqa: PLC0415
    handlers: dict[Any, Any] = {cls: _service_error for cls in (
        ServiceError, NotFound, Forbidden, InvalidInput, SlotUnavailable, ActionRefused)}
    return Router(
        path="/admin",
        route_handlers=[login_page, login, logout, logout_everywhere, reset_page, reset, set_password_page,
                        set_password, home, switch, *desk.ROUTES, day_view, week_view, booking_list,
                        *booking_panel.ROUTES,
                        *widget_messages.ROUTES, *integrations.ROUTES, *team.ROUTES, *catalog_pages.ROUTES],
        guards=[csrf_guard(settings)],
        dependencies={"admin": Provide(provide_admin)},
        exception_handlers={**handlers, NotSignedIn: _not_signed_in, PermissionDeniedException: _forbidden},
        include_in_schema=False,
    )
