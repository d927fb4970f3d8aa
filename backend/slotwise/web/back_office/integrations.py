"""The back office's integrations: webhook endpoints and their delivery log, calendar feed URLs, connected calendars.

Same services as the admin API (``services/webhooks.py``, ``services/feeds.py``,
``services/calendars.py``), with the signed-in account as actor, judged by
``services.access``: webhooks need ``Action.WEBHOOKS_WRITE`` (owners), feeds
``Action.FEEDS_MANAGE`` (a resource's feed: its staff member too; the site's:
not staff), connected calendars ``Action.CATALOG_READ`` to look and
``Action.CATALOG_WRITE`` to change. Pages that show a secret (a webhook's
``whsec_…``, a feed URL) are answers to the POST that made it, never a page
one can come back to, and carry ``Cache-Control: no-store`` like every page
here. Writes answer 303 to the page they changed (post/redirect/get) with a
``notice`` the page announces in a live region.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from slotwise.clock import Clock
from slotwise.domain import webhooks as webhook_rules
from slotwise.domain.access import Action
from slotwise.domain.model import Site
from slotwise.i18n import Formatter
from slotwise.services import access
from slotwise.services import calendars as calendar_service
from slotwise.services import catalog as catalog_service
from slotwise.services import feeds as feed_service
from slotwise.services import webhooks as webhook_service
from slotwise.services.calendars import Outbound, shown_url
from slotwise.services.errors import Forbidden, InvalidInput, NotFound
from slotwise.settings import Settings
from slotwise.web.back_office import pages
from slotwise.web.back_office.session import Admin

DELIVERY_PAGE = "50"
IDEM_FIELD = "idem"  # a form's one-time key: a double submit answers the first outcome (Idempotency-Key)
MAX_IDEM = 64


def _new_key() -> str:
    return secrets.token_urlsafe(18)


def _key_of(form: dict[str, str]) -> str | None:
    key = form.get(IDEM_FIELD, "")
    return key if 0 < len(key) <= MAX_IDEM else None
WEBHOOK_NOTICES = {"saved", "enabled", "disabled", "test-queued", "retried", "retried-all"}
CALENDAR_NOTICES = {"connected", "synced", "disconnected"}


def _problems(exc: InvalidInput, fmt: Formatter) -> dict[str, str]:
    """The first problem of each field (``events[2]`` counts as ``events``), in the page's language."""
    shown: dict[str, str] = {}
    for problem in exc.problems:
        shown.setdefault(problem.field.split("[", 1)[0], problem.text(fmt.gettext))
    return shown


def _when(value: datetime | None, zone: ZoneInfo, fmt: Formatter) -> str | None:
    return fmt.moment(value.astimezone(zone)) if value else None


# --- webhooks --------------------------------------------------------------------------------


def _webhooks_url(site: Site, endpoint_id: str | None = None, notice: str | None = None) -> str:
    url = f"/admin/sites/{site.slug}/webhooks" + (f"/{quote(endpoint_id)}" if endpoint_id else "")
    return url + (f"?notice={notice}" if notice else "")


async def _endpoint_list_page(request: Request, admin: Admin, site: Site, now: datetime, *,
                              form: dict[str, Any] | None = None, problems: dict[str, str] | None = None,
                              status: int = 200) -> Template:
    fmt = Formatter(pages._locale(request))
    zone = ZoneInfo(site.timezone)
    endpoints = [{"id": e.id, "url": e.url, "events": e.events, "description": e.description, "enabled": e.enabled,
                  "disabled_reason": e.disabled_reason, "last_success": _when(e.last_success_at, zone, fmt)}
                 for e in await webhook_service.list_endpoints(site, now=now)]
    notice = request.query_params.get("notice")
    return pages._page(request, "integrations/webhooks.html", {
        "admin": admin, "csrf": admin.csrf, "site": site, "nav": "webhooks", "endpoints": endpoints,
        "event_types": webhook_rules.EVENT_TYPES, "form": form or {"events": list(webhook_rules.EVENT_TYPES)},
        "problems": problems or {}, "notice": notice if notice == "deleted" else None, "idem": _new_key()},
        status=status)


@get("/sites/{site:str}/webhooks")
async def webhooks_page(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                        clock: NamedDependency[Clock]) -> Template:
    found = await pages._site(admin, site, Action.WEBHOOKS_WRITE)
    return await _endpoint_list_page(request, admin, found, clock())


async def _events(request: Request) -> list[str]:
    """The ticked event checkboxes (none ticked: the field is absent)."""
    form = await request.form()
    return [e for e in form.getall("events", []) if isinstance(e, str)]


def _endpoint_form(form: dict[str, str], events: list[str]) -> dict[str, Any]:
    return {"url": form.get("url", ""), "events": events, "description": form.get("description", "")}


def _secret_page(request: Request, admin: Admin, site: Site, endpoint: webhook_service.Endpoint,
                 *, rotated: bool) -> Template:
    fmt = Formatter(pages._locale(request))
    return pages._page(request, "integrations/secret.html", {
        "admin": admin, "csrf": admin.csrf, "site": site, "nav": "webhooks", "endpoint": endpoint,
        "rotated": rotated, "until": _when(endpoint.rotating_until, ZoneInfo(site.timezone), fmt)},
        status=201 if not rotated else 200)


@post("/sites/{site:str}/webhooks")
async def create_webhook(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                         clock: NamedDependency[Clock], settings: NamedDependency[Settings]) -> Response:
    found = await pages._site(admin, site, Action.WEBHOOKS_WRITE)
    form = await pages._form(request)
    fields = _endpoint_form(form, await _events(request))
    now = clock()
    try:
        created = await webhook_service.create_endpoint(
            found, {**fields, "description": fields["description"] or None}, actor=admin.account.actor, now=now,
            secret_key=settings.secret_key, allow_private=settings.allow_private_targets,
            idempotency_key=_key_of(form))
    except InvalidInput as exc:
        return await _endpoint_list_page(request, admin, found, now, form=fields,
                                         problems=_problems(exc, Formatter(pages._locale(request))), status=422)
    return _secret_page(request, admin, found, created, rotated=False)


async def _endpoint_page(request: Request, admin: Admin, site: Site, endpoint_id: str, now: datetime, *,
                         view: str = "detail", form: dict[str, Any] | None = None,
                         problems: dict[str, str] | None = None, status: int = 200) -> Template:
    fmt = Formatter(pages._locale(request))
    zone = ZoneInfo(site.timezone)
    endpoint = await webhook_service.get_endpoint(site, endpoint_id, now=now)
    cursor = request.query_params.get("cursor")
    try:
        log = await webhook_service.deliveries(site, endpoint_id, limit=DELIVERY_PAGE, cursor=cursor)
    except InvalidInput:
        log = await webhook_service.deliveries(site, endpoint_id, limit=DELIVERY_PAGE, cursor=None)
    rows = []
    for row in log.deliveries:
        attempts = row.get("attempts_log", [])
        last = attempts[-1] if attempts else None
        rows.append({
            "id": row["public_id"], "webhook_id": row["message_id"], "type": row["event_type"],
            "status": row["status"], "attempts": row["attempts"],
            "at": _when(last["attempted_at"] if last else row["created_at"], zone, fmt),
            "code": last["status_code"] if last else None,
            "duration": last["duration_ms"] if last else None,
            "excerpt": (last["response_excerpt"] or last["error"] or "") if last else "",
            # Failed for good, held while the endpoint is disabled, or waiting for its next try after a failure.
            "retryable": row["status"] in {"failed", "paused"} or (row["status"] == "queued" and row["attempts"] > 0),
        })
    notice = request.query_params.get("notice")
    return pages._page(request, "integrations/webhook.html", {
        "admin": admin, "csrf": admin.csrf, "site": site, "nav": "webhooks", "endpoint": endpoint, "view": view,
        "event_types": webhook_rules.EVENT_TYPES,
        "form": form or {"url": endpoint.url, "events": endpoint.events, "description": endpoint.description},
        "problems": problems or {}, "deliveries": rows, "any_failed": any(r["status"] == "failed" for r in rows),
        "last_success": _when(endpoint.last_success_at, zone, fmt),
        "next_url": f"{_webhooks_url(site, endpoint.id)}?cursor={log.next_cursor}" if log.next_cursor else None,
        "notice": notice if notice in WEBHOOK_NOTICES else None,
        "count": request.query_params.get("n", "")[:6], "idem": _new_key()}, status=status)


@get("/sites/{site:str}/webhooks/{webhook:str}")
async def webhook_page(request: Request, site: FromPath[str], webhook: FromPath[str], admin: NamedDependency[Admin],
                       clock: NamedDependency[Clock]) -> Template:
    found = await pages._site(admin, site, Action.WEBHOOKS_WRITE)
    return await _endpoint_page(request, admin, found, webhook, clock())


@post("/sites/{site:str}/webhooks/{webhook:str}")
async def edit_webhook(request: Request, site: FromPath[str], webhook: FromPath[str], admin: NamedDependency[Admin],
                       clock: NamedDependency[Clock], settings: NamedDependency[Settings]) -> Response:
    found = await pages._site(admin, site, Action.WEBHOOKS_WRITE)
    form = await pages._form(request)
    fields = _endpoint_form(form, await _events(request))
    now = clock()
    try:
        await webhook_service.update_endpoint(found, webhook, fields, if_match=None, now=now,
                                              allow_private=settings.allow_private_targets)
    except InvalidInput as exc:
        return await _endpoint_page(request, admin, found, webhook, now, form=fields,
                                    problems=_problems(exc, Formatter(pages._locale(request))), status=422)
    return pages._go(_webhooks_url(found, webhook, "saved"), request)


@post("/sites/{site:str}/webhooks/{webhook:str}/enabled")
async def toggle_webhook(request: Request, site: FromPath[str], webhook: FromPath[str],
                         admin: NamedDependency[Admin], clock: NamedDependency[Clock],
                         settings: NamedDependency[Settings]) -> Response:
    found = await pages._site(admin, site, Action.WEBHOOKS_WRITE)
    enabled = (await pages._form(request)).get("enabled") == "1"
    await webhook_service.update_endpoint(found, webhook, {"enabled": enabled}, if_match=None, now=clock(),
                                          allow_private=settings.allow_private_targets)
    return pages._go(_webhooks_url(found, webhook, "enabled" if enabled else "disabled"), request)


@get("/sites/{site:str}/webhooks/{webhook:str}/delete")
async def delete_webhook_page(request: Request, site: FromPath[str], webhook: FromPath[str],
                              admin: NamedDependency[Admin], clock: NamedDependency[Clock]) -> Template:
    found = await pages._site(admin, site, Action.WEBHOOKS_WRITE)
    return await _endpoint_page(request, admin, found, webhook, clock(), view="confirm-delete")


@post("/sites/{site:str}/webhooks/{webhook:str}/delete")
async def delete_webhook(request: Request, site: FromPath[str], webhook: FromPath[str],
                         admin: NamedDependency[Admin]) -> Response:
    found = await pages._site(admin, site, Action.WEBHOOKS_WRITE)
    await webhook_service.delete_endpoint(found, webhook, if_match=None)
    return pages._go(_webhooks_url(found, notice="deleted"), request)


@get("/sites/{site:str}/webhooks/{webhook:str}/rotate")
async def rotate_page(request: Request, site: FromPath[str], webhook: FromPath[str], admin: NamedDependency[Admin],
                      clock: NamedDependency[Clock]) -> Template:
    found = await pages._site(admin, site, Action.WEBHOOKS_WRITE)
    return await _endpoint_page(request, admin, found, webhook, clock(), view="confirm-rotate")


@post("/sites/{site:str}/webhooks/{webhook:str}/rotate")
async def rotate(request: Request, site: FromPath[str], webhook: FromPath[str], admin: NamedDependency[Admin],
                 clock: NamedDependency[Clock], settings: NamedDependency[Settings]) -> Template:
    found = await pages._site(admin, site, Action.WEBHOOKS_WRITE)
    rotated = await webhook_service.rotate_secret(found, webhook, actor=admin.account.actor, now=clock(),
                                                  secret_key=settings.secret_key,
                                                  idempotency_key=_key_of(await pages._form(request)))
    return _secret_page(request, admin, found, rotated, rotated=True)


@post("/sites/{site:str}/webhooks/{webhook:str}/test")
async def test_ping(request: Request, site: FromPath[str], webhook: FromPath[str], admin: NamedDependency[Admin],
                    clock: NamedDependency[Clock]) -> Response:
    found = await pages._site(admin, site, Action.WEBHOOKS_WRITE)
    await webhook_service.send_test(found, webhook, actor=admin.account.actor, now=clock())
    return pages._go(_webhooks_url(found, webhook, "test-queued"), request)


@post("/sites/{site:str}/webhooks/{webhook:str}/deliveries/{delivery:str}/retry")
async def retry_one(request: Request, site: FromPath[str], webhook: FromPath[str], delivery: FromPath[str],
                    admin: NamedDependency[Admin], clock: NamedDependency[Clock]) -> Response:
    found = await pages._site(admin, site, Action.WEBHOOKS_WRITE)
    await webhook_service.retry_delivery(found, webhook, delivery, now=clock())
    return pages._go(_webhooks_url(found, webhook, "retried"), request)


@post("/sites/{site:str}/webhooks/{webhook:str}/retry-failed")
async def retry_all(request: Request, site: FromPath[str], webhook: FromPath[str], admin: NamedDependency[Admin],
                    clock: NamedDependency[Clock]) -> Response:
    found = await pages._site(admin, site, Action.WEBHOOKS_WRITE)
    count = await webhook_service.redeliver_failed(found, webhook, now=clock())
    return pages._go(_webhooks_url(found, webhook, "retried-all") + f"&n={count}", request)


# --- calendar feeds --------------------------------------------------------------------------

SITE_TARGET = "site"


def _allowed(admin: Admin, action: Action, site: Site, resources: list[str] | None) -> bool:
    try:
        access.authorize(admin.caller, action, site, resources)
    except Forbidden:
        return False
    return True


async def _feed_targets(admin: Admin, site: Site, fmt: Formatter) -> list[dict[str, Any]]:
    """The feeds this person may make URLs for: the site's (not staff), then each active resource's they may."""
    zone = ZoneInfo(site.timezone)
    targets = []
    if _allowed(admin, Action.FEEDS_MANAGE, site, None):
        targets.append({"key": SITE_TARGET, "name": fmt.gettext("The whole site"),
                        "issued": _when(await feed_service.feed_issued_at(site, None), zone, fmt)})
    for resource in await catalog_service.list_resources(site):
        key = resource.table["key"]
        if resource.active and _allowed(admin, Action.FEEDS_MANAGE, site, [key]):
            targets.append({"key": key, "name": resource.table["name"],
                            "issued": _when(await feed_service.feed_issued_at(site, key), zone, fmt)})
    return targets


@get("/sites/{site:str}/feeds")
async def feeds_page(request: Request, site: FromPath[str], admin: NamedDependency[Admin]) -> Template:
    found = await access.site_for(admin.caller, site)
    fmt = Formatter(pages._locale(request))
    targets = await _feed_targets(admin, found, fmt)
    if not targets:
        raise Forbidden(Action.FEEDS_MANAGE)
    return pages._page(request, "integrations/feeds.html", {
        "admin": admin, "csrf": admin.csrf, "site": found, "nav": "feeds", "targets": targets, "view": "list",
        "idem": _new_key()})


@post("/sites/{site:str}/feeds/{target:str}")
async def make_feed(request: Request, site: FromPath[str], target: FromPath[str], admin: NamedDependency[Admin],
                    clock: NamedDependency[Clock], settings: NamedDependency[Settings]) -> Template:
    """Make the feed's URL; when one exists, first a confirm step (the old URL stops working)."""
    found = await access.site_for(admin.caller, site)
    resource = None if target == SITE_TARGET else await feed_service.active_resource_key(found, target)
    access.authorize(admin.caller, Action.FEEDS_MANAGE, found, None if resource is None else [resource])
    fmt = Formatter(pages._locale(request))
    name = fmt.gettext("The whole site") if resource is None else (
        await catalog_service.get_resource(found, resource)).table["name"]
    context = {"admin": admin, "csrf": admin.csrf, "site": found, "nav": "feeds",
               "target": {"key": target if resource is None else resource, "name": name}}
    form = await pages._form(request)
    key = _key_of(form)
    issued = await feed_service.feed_issued_at(found, resource)
    if issued is not None and form.get("confirm") != "1":
        return pages._page(request, "integrations/feeds.html", {
            **context, "view": "confirm", "issued": _when(issued, ZoneInfo(found.timezone), fmt), "idem": _new_key()})
    token = await feed_service.issue_feed(found, resource, actor=admin.account.actor, now=clock(),
                                          secret_key=settings.secret_key, idempotency_key=key)
    return pages._page(request, "integrations/feeds.html", {
        **context, "view": "url", "url": feed_service.feed_url(settings.base_url, token)}, status=201)


# --- connected calendars ---------------------------------------------------------------------


async def _calendar_page(request: Request, admin: Admin, site: Site, resource: str | None, *,
                         form: dict[str, Any] | None = None, problems: dict[str, str] | None = None,
                         view: str = "list", confirm: str | None = None, status: int = 200) -> Template:
    fmt = Formatter(pages._locale(request))
    zone = ZoneInfo(site.timezone)
    visible = access.visible_to(admin.caller, site)
    resources = [{"key": r.table["key"], "name": r.table["name"]} for r in await catalog_service.list_resources(site)
                 if r.active and (visible is None or r.table["key"] in visible)]
    keys = [r["key"] for r in resources]
    resource = resource or (keys[0] if keys else None)
    if resource is not None and resource not in keys:
        raise NotFound("resource", resource)
    connections = []
    if resource is not None:
        access.authorize(admin.caller, Action.CATALOG_READ, site, [resource])
        connections = [{
            "id": c.public_id, "kind": c.kind, "url": shown_url(c.url), "username": c.username,
            "write_bookings": c.write_bookings, "state": c.state, "failures": c.failures,
            "last_synced": _when(c.last_synced_at, zone, fmt),
            "last_error": c.last_error if c.state == "error" else None,
        } for c in await calendar_service.calendars_of(site, resource)]
    notice = request.query_params.get("notice")
    return pages._page(request, "integrations/calendars.html", {
        "admin": admin, "csrf": admin.csrf, "site": site, "nav": "calendars", "resources": resources,
        "resource": resource, "connections": connections, "view": view, "confirm": confirm,
        "can_write": resource is not None and _allowed(admin, Action.CATALOG_WRITE, site, [resource]),
        "form": form or {"kind": "ics"}, "problems": problems or {},
        "notice": notice if notice in CALENDAR_NOTICES else None, "idem": _new_key()}, status=status)


def _calendars_url(site: Site, resource: str, notice: str | None = None) -> str:
    return f"/admin/sites/{site.slug}/calendars?resource={quote(resource)}" + (f"&notice={notice}" if notice else "")


@get("/sites/{site:str}/calendars")
async def calendars_page(request: Request, site: FromPath[str], admin: NamedDependency[Admin]) -> Template:
    found = await pages._site(admin, site, Action.CATALOG_READ)
    return await _calendar_page(request, admin, found, request.query_params.get("resource") or None)


async def _resource_site(admin: Admin, site: str, resource: str, action: Action) -> Site:
    found = await access.site_for(admin.caller, site)
    visible = access.visible_to(admin.caller, found)
    if visible is not None and resource not in visible:
        raise NotFound("resource", resource)
    access.authorize(admin.caller, action, found, [resource])
    return found


@post("/sites/{site:str}/calendars/{resource:str}")
async def connect(request: Request, site: FromPath[str], resource: FromPath[str], admin: NamedDependency[Admin],
                  clock: NamedDependency[Clock], settings: NamedDependency[Settings]) -> Response:
    found = await _resource_site(admin, site, resource, Action.CATALOG_WRITE)
    form = await pages._form(request)
    kind = form.get("kind", "")
    caldav = kind == "caldav"
    try:
        await calendar_service.connect_calendar(
            found, resource, kind=kind, url=form.get("url", ""),
            username=(form.get("username") or None) if caldav else None,
            password=(form.get("password") or None) if caldav else None,
            write_bookings=caldav and form.get("write_bookings") == "1", actor=admin.account.actor, now=clock(),
            outbound=Outbound.from_settings(settings), idempotency_key=_key_of(form))
    except InvalidInput as exc:
        kept = {"kind": kind, "url": form.get("url", ""), "username": form.get("username", ""),
                "write_bookings": form.get("write_bookings") == "1"}  # never the password
        return await _calendar_page(request, admin, found, resource, form=kept,
                                    problems=_problems(exc, Formatter(pages._locale(request))), status=422)
    return pages._go(_calendars_url(found, resource, "connected"), request)


@post("/sites/{site:str}/calendars/{resource:str}/{calendar:str}/sync")
async def sync(request: Request, site: FromPath[str], resource: FromPath[str], calendar: FromPath[str],
               admin: NamedDependency[Admin], clock: NamedDependency[Clock],
               settings: NamedDependency[Settings]) -> Response:
    found = await _resource_site(admin, site, resource, Action.CATALOG_WRITE)
    await calendar_service.sync_now(found, resource, calendar, outbound=Outbound.from_settings(settings), clock=clock)
    return pages._go(_calendars_url(found, resource, "synced"), request)


@get("/sites/{site:str}/calendars/{resource:str}/{calendar:str}/disconnect")
async def disconnect_page(request: Request, site: FromPath[str], resource: FromPath[str], calendar: FromPath[str],
                          admin: NamedDependency[Admin]) -> Template:
    found = await _resource_site(admin, site, resource, Action.CATALOG_WRITE)
    page = await _calendar_page(request, admin, found, resource, view="confirm", confirm=calendar)
    if not any(c["id"] == calendar for c in page.context["connections"]):
        raise NotFound("calendar", calendar)
    return page


@post("/sites/{site:str}/calendars/{resource:str}/{calendar:str}/disconnect")
async def disconnect(request: Request, site: FromPath[str], resource: FromPath[str], calendar: FromPath[str],
                     admin: NamedDependency[Admin], clock: NamedDependency[Clock]) -> Response:
    found = await _resource_site(admin, site, resource, Action.CATALOG_WRITE)
    await calendar_service.disconnect_calendar(found, resource, calendar, actor=admin.account.actor, now=clock())
    return pages._go(_calendars_url(found, resource, "disconnected"), request)


ROUTES = [webhooks_page, create_webhook, webhook_page, edit_webhook, toggle_webhook, delete_webhook_page,
          delete_webhook, rotate_page, rotate, test_ping, retry_one, retry_all,
          feeds_page, make_feed,
          calendars_page, connect, sync, disconnect_page, disconnect]
