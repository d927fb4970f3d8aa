"""The back office's catalog: services and resources as forms, the site file (read-only, downloadable)
and the site's audit log (read-only).

Every write goes through ``services/catalog.py``, exactly as the admin API's
(``web/admin_catalog.py``): a form becomes a site-file table (a PATCH body for
an edit), the site file's parser checks it, and its messages come back with
paths (``hours.mon[0]``, ``name.de``) that :func:`catalog_forms.field_errors` pins to the
form field they belong to. An edit form carries the object's ETag; saving it
sends it as ``if_match``, so a form edited while someone else saved answers
"changed meanwhile, reload" (the API's 412) instead of overwriting their change.
Reading needs ``catalog:read`` (staff and viewers too), writing ``catalog:write``
(owners and managers), the audit log ``audit:read`` (owners and managers).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from slotwise.clock import Clock
from slotwise.domain.access import Action
from slotwise.domain.locales import SUPPORTED_LOCALES
from slotwise.domain.model import ResourceKind, Site
from slotwise.i18n import Formatter
from slotwise.services import access
from slotwise.services import audit as audit_service
from slotwise.services import catalog as catalog_service
from slotwise.services import sites as site_service
from slotwise.services.errors import Forbidden, InUse, InvalidInput, PreconditionFailed
from slotwise.sitefile.schema import PHONE_MODES, QUESTION_TYPES, WEEKDAYS
from slotwise.web.back_office import pages
from slotwise.web.back_office.catalog_forms import (
    RESOURCE_FIELDS,
    SERVICE_FIELDS,
    SERVICE_NUMBERS,
    SERVICE_TIMES,
    _pin_plain,
    _service_problems,
    field_errors,
    form_price,
    posted_questions,
    resource_body,
    resource_form,
    service_body,
    service_form,
    shown_price,
    typed_price,
)
from slotwise.web.back_office.session import Admin

VIA = "back-office"  # how the audit log names this way in
NOTICES = frozenset({"service-saved", "service-created", "service-disabled", "service-enabled",
                     "resource-saved", "resource-created", "resource-retired", "resource-restored"})


# --- helpers ------------------------------------------------------------------------------------


def _can(admin: Admin, action: Action, site: Site) -> bool:
    try:
        access.authorize(admin.caller, action, site)
    except Forbidden:
        return False
    return True


def _context(admin: Admin, site: Site, **extra: Any) -> dict[str, Any]:
    return {"admin": admin, "csrf": admin.csrf, "site": site, "nav": "catalog", "memberships": admin.memberships,
            "can_write": _can(admin, Action.CATALOG_WRITE, site), "can_audit": _can(admin, Action.AUDIT_READ, site),
            **extra}


def _base(site: Site) -> str:
    return f"/admin/sites/{quote(site.slug)}/catalog"


# --- the list -------------------------------------------------------------------------------------


@get("/sites/{site:str}/catalog")
async def catalog_page(request: Request, site: FromPath[str], admin: NamedDependency[Admin]) -> Template:
    """Services and resources, disabled and retired ones too, each with its edit link and its switch."""
    found = await pages._site(admin, site, Action.CATALOG_READ)
    return await _catalog(request, admin, found)


async def _catalog(request: Request, admin: Admin, site: Site, *, error: str | None = None,
                   status: int = 200) -> Template:
    locale = pages._locale(request)
    fmt = Formatter(locale)
    services = [{"id": s.id, "slug": s.table["slug"], "name": _text_in(s.table["name"], locale),
                 "duration": fmt.duration(s.table["duration"]), "price": shown_price(s.table.get("price"), fmt),
                 "enabled": s.table["enabled"],
                 "etag": s.etag} for s in await catalog_service.list_services(site)]
    resources = [{"id": r.id, "key": r.table["key"], "name": _text_in(r.table["name"], locale),
                  "kind": r.table["kind"], "active": r.active, "etag": r.etag}
                 for r in await catalog_service.list_resources(site)]
    notice = request.query_params.get("notice")
    return pages._page(request, "catalog/index.html", _context(
        admin, site, services=services, resources=resources, fmt=fmt, error=error,
        notice=notice if notice in NOTICES else None, kinds=_kind_labels(fmt)), status=status)


def _text_in(value: Any, locale: str) -> str:
    if isinstance(value, str):
        return value
    return value.get(locale) or next(iter(value.values()), "")


def _kind_labels(fmt: Formatter) -> dict[str, str]:
    return {"person": fmt.gettext("A person"), "room": fmt.gettext("Room"), "court": fmt.gettext("Court"),
            "table": fmt.gettext("Table"), "equipment": fmt.gettext("Equipment"),
            "vehicle": fmt.gettext("Vehicle"), "other": fmt.gettext("Something else")}


# --- services ---------------------------------------------------------------------------------------


async def _service_page(request: Request, admin: Admin, site: Site, *, form: dict[str, Any], ref: str | None,
                        etag: str | None, errors: dict[str, list[str]] | None = None,
                        loose: list[str] | None = None, stale: bool = False, status: int = 200) -> Template:
    locale = pages._locale(request)
    fmt = Formatter(locale)
    resources = [(r.table["key"], _text_in(r.table["name"], locale))
                 for r in await catalog_service.list_resources(site) if r.active]
    return pages._page(request, "catalog/service.html", _context(
        admin, site, form=form, ref=ref, etag=etag, errors=errors or {}, loose=loose or [], stale=stale,
        resources=resources, languages=SUPPORTED_LOCALES, phone_modes=PHONE_MODES, times=SERVICE_TIMES,
        question_types=QUESTION_TYPES, new_question=max((q["n"] for q in form["questions"]), default=-1) + 1,
        fmt=fmt, base=_base(site)), status=status)


def _chosen_groups(form_items: list[tuple[str, str]]) -> dict[int, list[str]]:
    chosen: dict[int, list[str]] = {}
    for key, value in form_items:
        found = re.fullmatch(r"group-(\d{1,2})", key)
        if found:
            chosen.setdefault(int(found.group(1)), []).append(value)
    return chosen


async def _form_items(request: Request) -> tuple[dict[str, str], list[tuple[str, str]]]:
    form = await request.form()
    items = [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
    return {key: value for key, value in items}, items


def _priced(form: dict[str, str], request: Request) -> dict[str, str]:
    """The form with its price in the site file's terms, read as the page's language writes prices.

    The page names its language in the form (``price_locale``): the price field
    was filled in that language's way (``form_price``), whichever language the
    request that sends it back negotiates.
    """
    written_in = form.get("price_locale", "")
    locale = written_in if written_in in SUPPORTED_LOCALES else pages._locale(request)
    return {**form, "price": typed_price(form.get("price", ""), locale)}


def _posted_service(form: dict[str, str], chosen: dict[int, list[str]], locale: str, groups: int) -> dict[str, Any]:
    """What the person typed, to show it again next to the problems."""
    shown = service_form({}, locale)
    shown.update({
        "slug": form.get("slug", ""),
        **{f: {lang: form.get(f"{f}.{lang}", "") for lang in SUPPORTED_LOCALES}
           for f in ("name", "description", "category")},
        **{f: form.get(f, "") for f in SERVICE_NUMBERS + SERVICE_TIMES + ("price", "reminders")},
        "enabled": form.get("enabled") == "1", "ask_address": form.get("ask_address") == "1",
        "phone": form.get("phone", "optional"),
        "groups": [chosen.get(index, []) for index in range(max(groups, 1))],
        "questions": posted_questions(form), "metadata": form.get("metadata", ""),
    })
    return shown


@get("/sites/{site:str}/catalog/services/new")
async def new_service_page(request: Request, site: FromPath[str], admin: NamedDependency[Admin]) -> Template:
    found = await pages._site(admin, site, Action.CATALOG_WRITE)
    form = service_form({"duration": 30, "seats": 1}, found.locale)
    return await _service_page(request, admin, found, form=form, ref=None, etag=None)


@post("/sites/{site:str}/catalog/services/new")
async def create_service(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                         clock: NamedDependency[Clock]) -> Response:
    found = await pages._site(admin, site, Action.CATALOG_WRITE)
    form, items = await _form_items(request)
    chosen = _chosen_groups(items)
    form["groups"] = "1"
    try:
        await catalog_service.create_service(found, service_body(_priced(form, request), chosen, found.locale,
                                                                 creating=True),
                                             actor=admin.account.actor, via=VIA, now=clock())
    except InvalidInput as exc:
        errors, loose = field_errors(_service_problems(exc.problems, form, found.locale), SERVICE_FIELDS)
        return await _service_page(request, admin, found, form=_posted_service(form, chosen, found.locale, 1),
                                   ref=None, etag=None, errors=errors, loose=loose, status=422)
    return pages._go(f"{_base(found)}?notice=service-created", request)


@get("/sites/{site:str}/catalog/services/{ref:str}")
async def service_page(request: Request, site: FromPath[str], ref: FromPath[str],
                       admin: NamedDependency[Admin]) -> Template:
    found = await pages._site(admin, site, Action.CATALOG_WRITE)
    service = await catalog_service.get_service(found, ref)
    form = service_form(service.table, found.locale)
    form["price"] = form_price(form["price"], pages._locale(request))  # as the reader's language writes it
    return await _service_page(request, admin, found, form=form, ref=service.id, etag=service.etag)


@post("/sites/{site:str}/catalog/services/{ref:str}")
async def save_service(request: Request, site: FromPath[str], ref: FromPath[str], admin: NamedDependency[Admin],
                       clock: NamedDependency[Clock]) -> Response:
    found = await pages._site(admin, site, Action.CATALOG_WRITE)
    current = await catalog_service.get_service(found, ref)
    form, items = await _form_items(request)
    chosen = _chosen_groups(items)
    shown = {**_posted_service(form, chosen, found.locale, len(current.table["resources"])),
             "slug": current.table["slug"]}
    try:
        await catalog_service.update_service(found, current.id, service_body(_priced(form, request), chosen,
                                                                             found.locale, creating=False),
                                             if_match=form.get("etag") or "", actor=admin.account.actor, via=VIA,
                                             now=clock())
    except PreconditionFailed:
        return await _service_page(request, admin, found, form=shown, ref=current.id, etag=form.get("etag"),
                                   stale=True, status=409)
    except InvalidInput as exc:
        errors, loose = field_errors(_service_problems(exc.problems, form, found.locale), SERVICE_FIELDS)
        return await _service_page(request, admin, found, form=shown, ref=current.id, etag=form.get("etag"),
                                   errors=errors, loose=loose, status=422)
    return pages._go(f"{_base(found)}?notice=service-saved", request)


@post("/sites/{site:str}/catalog/services/{ref:str}/enabled")
async def switch_service(request: Request, site: FromPath[str], ref: FromPath[str], admin: NamedDependency[Admin],
                         clock: NamedDependency[Clock]) -> Response:
    """Disable (no longer bookable, kept for its bookings) or enable again, from the list."""
    found = await pages._site(admin, site, Action.CATALOG_WRITE)
    form = await pages._form(request)
    try:
        if form.get("enabled") == "1":
            await catalog_service.update_service(found, ref, {"enabled": True}, if_match=form.get("etag") or "",
                                                 actor=admin.account.actor, via=VIA, now=clock())
            notice = "service-enabled"
        else:
            await catalog_service.disable_service(found, ref, if_match=form.get("etag") or "",
                                                  actor=admin.account.actor, via=VIA, now=clock())
            notice = "service-disabled"
    except PreconditionFailed:
        return await _catalog(request, admin, found, error="stale", status=409)
    except InvalidInput as exc:
        return await _catalog(request, admin, found, error="; ".join(
            str(p.params.get("message", p.code)) for p in exc.problems), status=422)
    return pages._go(f"{_base(found)}?notice={notice}", request)


# --- resources --------------------------------------------------------------------------------------


async def _resource_page(request: Request, admin: Admin, site: Site, *, form: dict[str, Any], ref: str | None,
                         etag: str | None, errors: dict[str, list[str]] | None = None,
                         loose: list[str] | None = None, stale: bool = False, status: int = 200) -> Template:
    locale = pages._locale(request)
    fmt = Formatter(locale)
    day_names = dict(zip(WEEKDAYS, (fmt.gettext("Monday"), fmt.gettext("Tuesday"), fmt.gettext("Wednesday"),
                                    fmt.gettext("Thursday"), fmt.gettext("Friday"), fmt.gettext("Saturday"),
                                    fmt.gettext("Sunday")), strict=True))
    return pages._page(request, "catalog/resource.html", _context(
        admin, site, form=form, ref=ref, etag=etag, errors=errors or {}, loose=loose or [], stale=stale,
        languages=SUPPORTED_LOCALES, kinds=_kind_labels(fmt), kind_values=[str(k) for k in ResourceKind],
        weekdays=WEEKDAYS, day_names=day_names, fmt=fmt, base=_base(site)), status=status)


def _posted_resource(form: dict[str, str], locale: str) -> dict[str, Any]:
    return {
        "key": form.get("key", ""), "name": {lang: form.get(f"name.{lang}", "") for lang in SUPPORTED_LOCALES},
        "kind": form.get("kind", ""), "own_hours": form.get("own_hours") == "1",
        "hours": {day: form.get(f"hours.{day}", "") for day in WEEKDAYS}, "closed": form.get("closed", ""),
        "timezone": form.get("timezone", ""), "extra_open": form.get("extra_open", ""),
        "metadata": form.get("metadata", ""),
    }


async def _site_hours(site: Site) -> dict[str, list[str]]:
    return (await site_service.site_document(site)).document.get("site", {}).get("hours") or {}


@get("/sites/{site:str}/catalog/resources/new")
async def new_resource_page(request: Request, site: FromPath[str], admin: NamedDependency[Admin]) -> Template:
    found = await pages._site(admin, site, Action.CATALOG_WRITE)
    return await _resource_page(request, admin, found, form=resource_form({}, found.locale, await _site_hours(found)),
                                ref=None, etag=None)


@post("/sites/{site:str}/catalog/resources/new")
async def create_resource(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                          clock: NamedDependency[Clock]) -> Response:
    found = await pages._site(admin, site, Action.CATALOG_WRITE)
    form = await pages._form(request)
    try:
        await catalog_service.create_resource(found, resource_body(form, found.locale, creating=True),
                                              actor=admin.account.actor, via=VIA, now=clock())
    except InvalidInput as exc:
        errors, loose = field_errors(_pin_plain(exc.problems, found.locale), RESOURCE_FIELDS)
        return await _resource_page(request, admin, found, form=_posted_resource(form, found.locale), ref=None,
                                    etag=None, errors=errors, loose=loose, status=422)
    return pages._go(f"{_base(found)}?notice=resource-created", request)


@get("/sites/{site:str}/catalog/resources/{ref:str}")
async def resource_page(request: Request, site: FromPath[str], ref: FromPath[str],
                        admin: NamedDependency[Admin]) -> Template:
    found = await pages._site(admin, site, Action.CATALOG_WRITE)
    resource = await catalog_service.get_resource(found, ref)
    return await _resource_page(request, admin, found,
                                form=resource_form(resource.table, found.locale, await _site_hours(found)),
                                ref=resource.id, etag=resource.etag)


@post("/sites/{site:str}/catalog/resources/{ref:str}")
async def save_resource(request: Request, site: FromPath[str], ref: FromPath[str], admin: NamedDependency[Admin],
                        clock: NamedDependency[Clock]) -> Response:
    found = await pages._site(admin, site, Action.CATALOG_WRITE)
    current = await catalog_service.get_resource(found, ref)
    form = await pages._form(request)
    shown = {**_posted_resource(form, found.locale), "key": current.table["key"]}
    try:
        await catalog_service.update_resource(found, current.id, resource_body(form, found.locale, creating=False),
                                              if_match=form.get("etag") or "", actor=admin.account.actor, via=VIA,
                                              now=clock())
    except PreconditionFailed:
        return await _resource_page(request, admin, found, form=shown, ref=current.id, etag=form.get("etag"),
                                    stale=True, status=409)
    except InvalidInput as exc:
        errors, loose = field_errors(_pin_plain(exc.problems, found.locale), RESOURCE_FIELDS)
        return await _resource_page(request, admin, found, form=shown, ref=current.id, etag=form.get("etag"),
                                    errors=errors, loose=loose, status=422)
    return pages._go(f"{_base(found)}?notice=resource-saved", request)


@post("/sites/{site:str}/catalog/resources/{ref:str}/active")
async def switch_resource(request: Request, site: FromPath[str], ref: FromPath[str], admin: NamedDependency[Admin],
                          clock: NamedDependency[Clock]) -> Response:
    """Retire (refused while an enabled service offers it) or bring back, from the list."""
    found = await pages._site(admin, site, Action.CATALOG_WRITE)
    form = await pages._form(request)
    try:
        if form.get("active") == "1":
            await catalog_service.update_resource(found, ref, {"active": True}, if_match=form.get("etag") or "",
                                                  actor=admin.account.actor, via=VIA, now=clock())
            notice = "resource-restored"
        else:
            await catalog_service.retire_resource(found, ref, if_match=form.get("etag") or "",
                                                  actor=admin.account.actor, via=VIA, now=clock())
            notice = "resource-retired"
    except PreconditionFailed:
        return await _catalog(request, admin, found, error="stale", status=409)
    except InUse as exc:
        return await _catalog(request, admin, found, error="in-use:" + ", ".join(exc.used_by), status=409)
    except InvalidInput as exc:
        return await _catalog(request, admin, found, error="; ".join(
            str(p.params.get("message", p.code)) for p in exc.problems), status=422)
    return pages._go(f"{_base(found)}?notice={notice}", request)


# --- the site file and the audit log ------------------------------------------------------------------


@get("/sites/{site:str}/site-file")
async def site_file_page(request: Request, site: FromPath[str], admin: NamedDependency[Admin]) -> Template:
    """The whole site as the site file the API exports (read-only), with a download link."""
    found = await pages._site(admin, site, Action.SITE_READ)
    current = await site_service.site_document(found)
    return pages._page(request, "catalog/site_file.html", _context(
        admin, found, nav="site-file", toml=site_service.document_as_toml(current.document)))


@get("/sites/{site:str}/site-file.toml")
async def site_file_download(site: FromPath[str], admin: NamedDependency[Admin]) -> Response:
    found = await pages._site(admin, site, Action.SITE_READ)
    current = await site_service.site_document(found)
    return Response(site_service.document_as_toml(current.document), media_type="application/toml",
                    headers={**pages.PAGE_HEADERS, "ETag": current.etag,
                             "Content-Disposition": f'attachment; filename="{found.slug}.toml"'})


@get("/sites/{site:str}/audit")
async def audit_page(request: Request, site: FromPath[str], admin: NamedDependency[Admin]) -> Template:
    """Who changed what in the site's configuration, newest first, 50 a page (owners and managers)."""
    found = await pages._site(admin, site, Action.AUDIT_READ)
    locale = pages._locale(request)
    fmt = Formatter(locale)
    cursor = request.query_params.get("cursor")
    problems = False
    entries, next_cursor = [], None
    try:
        page = await audit_service.list_entries(found, {"cursor": cursor, "limit": "50"})
        entries, next_cursor = page.entries, page.next_cursor
    except InvalidInput:
        problems = True
    zone = ZoneInfo(found.timezone)
    actions = {"created": fmt.gettext("created"), "changed": fmt.gettext("changed"), "retired": fmt.gettext("retired"),
               "restored": fmt.gettext("brought back"), "removed": fmt.gettext("removed"),
               "revoked": fmt.gettext("revoked")}
    objects = {"site": fmt.gettext("Site"), "resource": fmt.gettext("Resource"), "service": fmt.gettext("Service"),
               "time_off": fmt.gettext("Time off"), "key": fmt.gettext("API key"),
               "membership": fmt.gettext("Team member")}
    rows = [{"at": fmt.moment(entry.at.astimezone(zone)), "actor": entry.actor.label or entry.actor.ref,
             "via": entry.via, "action": actions.get(str(entry.action), str(entry.action)),
             "object": objects.get(entry.object_kind, entry.object_kind), "ref": entry.object_ref,
             "changes": [str(change) for change in entry.changes]} for entry in entries]
    return pages._page(request, "catalog/audit.html", _context(
        admin, found, nav="audit", rows=rows, problems=problems,
        next_url=f"/admin/sites/{quote(found.slug)}/audit?cursor={quote(next_cursor)}" if next_cursor else None))


ROUTES = [catalog_page, new_service_page, create_service, service_page, save_service, switch_service,
          new_resource_page, create_resource, resource_page, save_resource, switch_resource, site_file_page,
          site_file_download, audit_page]
