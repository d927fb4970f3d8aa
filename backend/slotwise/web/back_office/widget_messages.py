"""The back office's widget page (snippet generator, live preview, allowed origins) and messages pages
(template editor with live preview, test to oneself, delivery log with retry).

Thin handlers over the services the admin API uses: ``services.message_templates``
(listing, override, default again, preview), ``services.embedding`` (origins
through the site document), ``services.message_log`` (the site's outbox).
Access as everywhere: ``services.access`` with the session's Caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from slotwise.clock import Clock
from slotwise.domain.access import Action
from slotwise.domain.locales import SUPPORTED_LOCALES
from slotwise.domain.messages import MESSAGE_EVENTS
from slotwise.domain.model import Site
from slotwise.i18n import N_, Formatter, negotiate, template_gettext
from slotwise.services import access, embedding, message_log
from slotwise.services import availability as availability_service
from slotwise.services import catalog as catalog_service
from slotwise.services import message_templates as templates_service
from slotwise.services.config import ServiceConfig
from slotwise.services.errors import PROBLEM_TEXTS, FieldProblem, InvalidInput, PreconditionFailed
from slotwise.settings import Settings
from slotwise.web.back_office.session import CSRF_FIELD, Admin
from slotwise.web.booking.assets import HTMX_CONFIG, parse_accent
from slotwise.web.security import page_csp

PAGE_HEADERS = {"Cache-Control": "no-store", "Content-Security-Policy": page_csp(())}


def _locale(request: Request) -> str:
    return negotiate(request.query_params.get("locale"), request.headers.get("accept-language"), None)


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-history-restore-request") != "true"


def _page(request: Request, template: str, context: Mapping[str, Any], *, status: int = 200) -> Template:
    locale = _locale(request)
    return Template(template_name=f"admin/widget_messages/{template}", context={
        "lang": locale, "fmt": Formatter(locale), "htmx_config": HTMX_CONFIG, "csrf_field": CSRF_FIELD,
        **template_gettext(locale), **context,
    }, status_code=status, headers=PAGE_HEADERS, media_type="text/html")


async def _form(request: Request) -> dict[str, str]:
    """The form's text fields, line ends as stored (a browser sends a textarea's lines with CRLF)."""
    form = await request.form()
    return {key: value.replace("\r\n", "\n") for key, value in form.items() if isinstance(value, str)}


async def _site(admin: Admin, slug: str, *actions: Action) -> Site:
    site = await access.site_for(admin.caller, slug)
    for action in actions:
        access.authorize(admin.caller, action, site)
    return site


def _may(admin: Admin, site: Site, action: Action) -> bool:
    try:
        access.authorize(admin.caller, action, site)
    except Exception:  # Forbidden
        return False
    return True


def _text(problem: FieldProblem, fmt: Formatter) -> str:
    """A problem in the page's language (its params may be named ``message``, which gettext's own is)."""
    text = fmt.gettext(PROBLEM_TEXTS[problem.code])
    return text % dict(problem.params) if problem.params else text


def _problems(exc: InvalidInput, fmt: Formatter, prefix: str = "") -> dict[str, str]:
    return {p.field.removeprefix(prefix): _text(p, fmt) for p in exc.problems}


# --- the widget ---------------------------------------------------------------------------------


def _snippet(site: Site, settings: Settings, options: Mapping[str, str]) -> dict[str, Any]:
    """The one script tag and the preview's URL for the chosen options (each checked, or left out)."""
    base = settings.base_url.rstrip("/")
    attributes = [("data-site", site.slug)]
    query: dict[str, str] = {"embed": "1"}
    for name in ("service", "resource", "locale"):
        if options.get(name):
            attributes.append((f"data-{name}", options[name]))
            query[name] = options[name]
    accent = parse_accent(options.get("accent"))
    if accent:
        attributes.append(("data-accent", f"#{accent}"))
        query["accent"] = accent
    tag = f'<script async src="{base}/widget.js" ' + " ".join(f'{k}="{v}"' for k, v in attributes) + "></script>"
    # The fallback link is read by the site's visitors: in the widget's language, else the site's.
    visitors = options.get("locale") or (site.locale if site.locale in SUPPORTED_LOCALES else "en")
    link_text = Formatter(visitors).gettext(N_("Book an appointment"))
    noscript = f'<noscript><a href="{base}/book/{site.slug}">{escape(link_text)}</a></noscript>'
    return {"tag": tag, "noscript": noscript, "code": f"{tag}\n{noscript}",
            "preview_url": f"/book/{site.slug}?{urlencode(query)}", "accent": accent}


async def _widget_context(request: Request, admin: Admin, site: Site, settings: Settings,
                          options: Mapping[str, str]) -> dict[str, Any]:
    locale = _locale(request)
    services = [(s.slug, s.name_in(locale)) for s in (await availability_service.list_services(site.slug))[1]]
    resources = [(r.table["key"], r.table["name"]) for r in await catalog_service.list_resources(site)
                 if r.active]
    # Only what exists: a typed ?service=nope is left out rather than put into a snippet.
    chosen = {
        "service": options.get("service") if options.get("service") in {s for s, _ in services} else "",
        "resource": options.get("resource") if options.get("resource") in {r for r, _ in resources} else "",
        "locale": options.get("lang") if options.get("lang") in SUPPORTED_LOCALES else "",
        "accent": options.get("accent") or "",
    }
    snippet = _snippet(site, settings, {**chosen, "locale": chosen["locale"]})
    document = await embedding.site_document(site)
    return {"admin": admin, "csrf": admin.csrf, "site": site, "nav": "widget", "services": services,
            "resources": resources, "chosen": chosen, "snippet": snippet, "locales": SUPPORTED_LOCALES,
            "origins": list(site.allowed_origins), "origins_etag": document.etag,
            "can_edit_origins": _may(admin, site, Action.SITE_WRITE)}


@get("/sites/{site:str}/widget")
async def widget_page(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                      settings: NamedDependency[Settings]) -> Template:
    found = await _site(admin, site, Action.SITE_READ)
    options = {k: (request.query_params.get(k) or "").strip() for k in ("service", "resource", "lang", "accent")}
    context = await _widget_context(request, admin, found, settings, options)
    context["notice"] = request.query_params.get("notice")
    if _htmx(request) and request.headers.get("hx-target") == "snippet":
        return _page(request, "_snippet.html", context)
    return _page(request, "widget.html", context)


@post("/sites/{site:str}/widget/origins")
async def save_origins(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                       settings: NamedDependency[Settings], clock: NamedDependency[Clock]) -> Response:
    found = await _site(admin, site, Action.SITE_READ, Action.SITE_WRITE)
    form = await _form(request)
    lines = form.get("origins", "").splitlines()
    fmt = Formatter(_locale(request))
    try:
        await embedding.set_allowed_origins(found, lines, if_match=form.get("etag") or None,
                                            actor=admin.account.actor, now=clock())
    except (InvalidInput, PreconditionFailed) as exc:
        context = await _widget_context(request, admin, found, settings, {})
        problems = _problems(exc, fmt) if isinstance(exc, InvalidInput) else {"stale": "1"}
        return _page(request, "widget.html", {**context, "origins_text": form.get("origins", ""),
                                              "origin_problems": problems},
                     status=422 if isinstance(exc, InvalidInput) else 412)
    return Redirect(f"/admin/sites/{found.slug}/widget?notice=origins-saved", status_code=HTTP_303_SEE_OTHER,
                    headers=PAGE_HEADERS)


# --- message templates -------------------------------------------------------------------------

CHANNELS = templates_service.CHANNELS


def _choice(raw: str | None, choices: tuple[str, ...], default: str) -> str:
    return raw if raw in choices else default


async def _editor_context(request: Request, admin: Admin, site: Site, event: str, channel: str,
                          lang: str) -> dict[str, Any]:
    listing, etag = await templates_service.site_templates(site)
    current = next(t for t in listing if (t.event, t.channel, t.locale) == (event, channel, lang))
    return {"admin": admin, "csrf": admin.csrf, "site": site, "nav": "messages", "events": MESSAGE_EVENTS,
            "channels": CHANNELS, "locales": SUPPORTED_LOCALES, "event": event, "channel": channel,
            "template_lang": lang, "set": current, "etag": etag,
            "overridden": any(p.origin == "site" for p in current.parts.values()),
            "sources": {name: part.source for name, part in current.parts.items()},
            "can_write": _may(admin, site, Action.TEMPLATES_WRITE), "problems": {}, "preview": None}


def _which(values: Mapping[str, str], page_lang: str) -> tuple[str, str, str]:
    """The template set named, else the confirmation email in the page's language: a German page opened
    on the English set showed its owner English text first."""
    return (_choice(values.get("event"), MESSAGE_EVENTS, "confirmed"), _choice(values.get("channel"), CHANNELS, "email"),
            _choice(values.get("template_lang"), SUPPORTED_LOCALES, page_lang))


async def _render_preview(site: Site, event: str, channel: str, lang: str, sources: Mapping[str, str],
                          fmt: Formatter, clock: Clock, config: ServiceConfig) -> tuple[Any, dict[str, str]]:
    body = {"event": event, "channel": channel, "locale": lang,
            "source": {k: v for k, v in sources.items() if k in templates_service.parts_of(channel)}}
    try:
        return await templates_service.preview(site, body, now=clock(), config=config), {}
    except InvalidInput as exc:
        return None, _problems(exc, fmt, "source.")


@get("/sites/{site:str}/messages")
async def messages_page(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                        clock: NamedDependency[Clock], config: NamedDependency[ServiceConfig]) -> Template:
    found = await _site(admin, site, Action.CATALOG_READ)
    event, channel, lang = _which(request.query_params, _locale(request))
    context = await _editor_context(request, admin, found, event, channel, lang)
    preview, problems = await _render_preview(found, event, channel, lang, context["sources"],
                                              Formatter(_locale(request)), clock, config)
    notice = request.query_params.get("notice")
    return _page(request, "messages.html", {**context, "preview": preview, "problems": problems,
                                            "notice": notice if notice in {"saved", "reset", "test-sent"} else None})


@post("/sites/{site:str}/messages/preview")
async def messages_preview(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                           clock: NamedDependency[Clock], config: NamedDependency[ServiceConfig]) -> Template:
    """The preview pane for the sources being typed (htmx, debounced): rendered, or the errors by part and line."""
    found = await _site(admin, site, Action.CATALOG_READ)
    form = await _form(request)
    event, channel, lang = _which(form, _locale(request))
    preview, problems = await _render_preview(found, event, channel, lang, form, Formatter(_locale(request)),
                                              clock, config)
    return _page(request, "_preview.html", {"preview": preview, "problems": problems, "channel": channel},
                 status=200)


@post("/sites/{site:str}/messages/save")
async def messages_save(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                        clock: NamedDependency[Clock], config: NamedDependency[ServiceConfig]) -> Response:
    found = await _site(admin, site, Action.CATALOG_READ, Action.TEMPLATES_WRITE)
    form = await _form(request)
    event, channel, lang = _which(form, _locale(request))
    fmt = Formatter(_locale(request))
    parts = {k: form[k] for k in templates_service.parts_of(channel) if k in form}
    action = form.get("action", "save")
    try:
        if action == "reset":
            await templates_service.remove_override(found, event, channel, lang, if_match=form.get("etag") or None,
                                                    actor=admin.account.actor, now=clock())
        elif action == "test":
            if channel != "email":  # an account has an email address, no phone number
                raise InvalidInput([FieldProblem("channel", "choice-unknown", {"choices": "email"})])
            await message_log.send_test(found, event=event, locale=lang, source=parts, to=admin.account.email,
                                        now=clock(), config=config)
        else:
            await templates_service.set_override(found, event, channel, lang, parts,
                                                 if_match=form.get("etag") or None, actor=admin.account.actor,
                                                 now=clock())
    except (InvalidInput, PreconditionFailed) as exc:
        context = await _editor_context(request, admin, found, event, channel, lang)
        problems = _problems(exc, fmt, "source.") if isinstance(exc, InvalidInput) else {"stale": "1"}
        preview, _ = await _render_preview(found, event, channel, lang, parts, fmt, clock, config)
        return _page(request, "messages.html", {**context, "sources": {**context["sources"], **parts},
                                                "problems": problems, "preview": preview},
                     status=422 if isinstance(exc, InvalidInput) else 412)
    notice = {"reset": "reset", "test": "test-sent"}.get(action, "saved")
    query = urlencode({"event": event, "channel": channel, "template_lang": lang, "notice": notice})
    return Redirect(f"/admin/sites/{found.slug}/messages?{query}", status_code=HTTP_303_SEE_OTHER,
                    headers=PAGE_HEADERS)


# --- the delivery log ----------------------------------------------------------------------------


@get("/sites/{site:str}/messages/log")
async def delivery_log(request: Request, site: FromPath[str], admin: NamedDependency[Admin]) -> Template:
    """The site's messages, newest first, filtered; staff do not see the site's customers' messages."""
    found = await _site(admin, site, Action.CUSTOMERS_READ)
    fmt = Formatter(_locale(request))
    raw = {k: (request.query_params.get(k) or "").strip()
           for k in ("status", "channel", "event", "from", "to", "cursor")}
    problems: dict[str, str] = {}
    page = message_log.LogPage([], None)
    try:
        try:
            filters = message_log.read_filters(raw)
        except InvalidInput as exc:
            if any(problem.field != "cursor" for problem in exc.problems):
                raise
            raw["cursor"] = ""  # an edited or stale page link: the newest page, as the webhook log does
            filters = message_log.read_filters(raw)
        page = await message_log.site_messages(found, filters)
    except InvalidInput as exc:
        problems = _problems(exc, fmt)
    notice = request.query_params.get("notice")
    filters = {k: v for k, v in raw.items() if v and k != "cursor"}
    older = (f"/admin/sites/{found.slug}/messages/log?{urlencode({**filters, 'cursor': page.next_cursor})}"
             if page.next_cursor else None)
    newest = f"/admin/sites/{found.slug}/messages/log?{urlencode(filters)}" if raw["cursor"] else None
    return _page(request, "log.html", {
        "admin": admin, "csrf": admin.csrf, "site": found, "nav": "log", "rows": page.rows, "params": raw,
        "older": older, "newest": newest,
        "problems": problems, "statuses": message_log.STATUSES, "channels": message_log.CHANNELS,
        "events": message_log.EVENTS, "can_retry": _may(admin, found, Action.BOOKINGS_WRITE),
        "zone": ZoneInfo(found.timezone), "notice": notice if notice in {"retried", "not-failed"} else None},
        status=422 if problems else 200)


@post("/sites/{site:str}/messages/log/{uid:str}/retry")
async def retry(request: Request, site: FromPath[str], uid: FromPath[str], admin: NamedDependency[Admin],
                clock: NamedDependency[Clock]) -> Response:
    found = await _site(admin, site, Action.CUSTOMERS_READ, Action.BOOKINGS_WRITE)
    done = await message_log.retry_message(found, uid, actor=admin.account.actor, now=clock())
    return Redirect(f"/admin/sites/{found.slug}/messages/log?notice={'retried' if done else 'not-failed'}",
                    status_code=HTTP_303_SEE_OTHER, headers=PAGE_HEADERS)


ROUTES = [widget_page, save_origins, messages_page, messages_preview, messages_save, delivery_log, retry]
