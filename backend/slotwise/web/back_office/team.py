"""The back office's team and API keys (owners only), and the catalog's CSV import and the bookings' export.

- Team: the site's members (email, name, role, resource for staff; an
  invitation not yet accepted shows as pending), invite by email
  (``accounts.add_member``: the invitation goes through the outbox), change a
  role, remove with a confirm step. The last owner can be neither demoted nor
  removed (``accounts.LastOwner``).
- Keys: the site's keys, create (the secret shown once, on a ``no-store``
  page, with a copy button), revoke with a confirm step (``services.keys``).
- Import: upload a CSV → the dry run's report per row and column → apply the
  same sheet (``services.catalog_import``, all or nothing, idempotent per preview).
- Export: a date range → the streamed CSV of ``services.booking_export``.

Authorization is ``services.access`` over the session's Caller, as for every page.
"""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Stream, Template

from slotwise.clock import Clock
from slotwise.domain.access import Action, Role, Scope
from slotwise.domain.model import ResourceKind, Site
from slotwise.i18n import Formatter
from slotwise.services import access, accounts, booking_export, catalog_import
from slotwise.services import catalog as catalog_service
from slotwise.services import keys as key_service
from slotwise.services.config import ServiceConfig
from slotwise.services.errors import InvalidInput, MembershipRefused, NotFound
from slotwise.web.back_office.pages import PAGE_HEADERS, _form, _go, _locale, _page, _site
from slotwise.web.back_office.session import Admin

IMPORT_MAX_BYTES = 2_000_000  # as the admin API's import
KINDS = ("resources", "services")


def _when(fmt: Formatter, instant: datetime | None, zone: ZoneInfo) -> str:
    if instant is None:
        return ""
    local = instant.astimezone(zone)
    return f"{fmt.day(local)}, {fmt.time(local)}"


# --- team --------------------------------------------------------------------------------------


def _name(value: Any, locale: str) -> str:
    if isinstance(value, dict):
        return value.get(locale) or next(iter(value.values()), "")
    return str(value or "")


async def _people(site: Site, locale: str = "en") -> list[tuple[str, str]]:
    """The person resources staff can be bound to: (key, name)."""
    return [(r.table["key"], _name(r.table.get("name"), locale) or r.table["key"])
            for r in await catalog_service.list_resources(site)
            if r.active and r.table.get("kind") == ResourceKind.PERSON]


async def _team_page(request: Request, admin: Admin, site: Site, *, status: int = 200,
                     form: dict[str, str] | None = None, problems: dict[str, str] | None = None,
                     notice: str | None = None, refused: str | None = None) -> Template:
    members = await accounts.list_members(site.slug)
    rows = []
    for member in members:
        membership = next(m for m in member.memberships if m.site_id == site.id)
        rows.append({"id": member.account.public_id, "email": member.account.email, "name": member.account.name,
                     "role": str(membership.role), "resource": membership.resource or "",
                     "pending": not member.account.has_password, "me": member.account.id == admin.account.id})
    return _page(request, "team/team.html", {
        "admin": admin, "csrf": admin.csrf, "site": site, "nav": "team", "members": rows,
        "roles": [str(role) for role in Role], "people": await _people(site, _locale(request)), "form": form or {"role": "staff"},
        "problems": problems or {}, "notice": notice or request.query_params.get("notice"), "refused": refused,
    }, status=status)


@get("/sites/{site:str}/team")
async def team(request: Request, site: FromPath[str], admin: NamedDependency[Admin]) -> Template:
    found = await _site(admin, site, Action.MEMBERS_MANAGE)
    return await _team_page(request, admin, found)


@post("/sites/{site:str}/team")
async def invite(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                 clock: NamedDependency[Clock], config: NamedDependency[ServiceConfig]) -> Response:
    found = await _site(admin, site, Action.MEMBERS_MANAGE)
    form = await _form(request)
    email, name = form.get("email", "").strip(), form.get("name", "").strip()
    role, resource = form.get("role", ""), form.get("resource", "") or None
    problems: dict[str, str] = {}
    if not email:
        problems["email"] = "required"
    if role not in {str(r) for r in Role}:
        problems["role"] = "unknown"
    elif role == Role.STAFF and resource not in {key for key, _ in await _people(found)}:
        problems["resource"] = "required"
    if not problems:
        try:
            await accounts.add_member(email[:254], site_slug=found.slug, role=role,
                                      resource=resource if role == Role.STAFF else None, name=name[:200] or None,
                                      actor=admin.account.actor, now=clock(), config=config)
        except InvalidInput as exc:
            problems = {p.field if p.field in ("email", "name") else "email": "invalid" for p in exc.problems}
        except MembershipRefused:
            problems["resource"] = "required"
    if problems:
        return await _team_page(request, admin, found, status=422, form=form, problems=problems)
    return _go(f"/admin/sites/{found.slug}/team?notice=invited", request)


@post("/sites/{site:str}/team/{member:str}/role")
async def change_role(request: Request, site: FromPath[str], member: FromPath[str], admin: NamedDependency[Admin],
                      clock: NamedDependency[Clock]) -> Response:
    found = await _site(admin, site, Action.MEMBERS_MANAGE)
    form = await _form(request)
    role, resource = form.get("role", ""), form.get("resource", "") or None
    if role not in {str(r) for r in Role} or (role == Role.STAFF and resource not in
                                              {key for key, _ in await _people(found)}):
        return await _team_page(request, admin, found, status=422, refused="role-needs-resource")
    try:
        await accounts.change_member(found.slug, member, role=role, resource=resource, actor=admin.account.actor,
                                     now=clock())
    except accounts.LastOwner:
        return await _team_page(request, admin, found, status=409, refused="last-owner")
    except MembershipRefused:
        return await _team_page(request, admin, found, status=422, refused="role-needs-resource")
    if member == admin.account.public_id and role != Role.OWNER:
        return _go(f"/admin/sites/{found.slug}", request)  # no team page for them any more
    return _go(f"/admin/sites/{found.slug}/team?notice=changed", request)


async def _member_of(site: Site, public_id: str) -> dict[str, Any]:
    for member in await accounts.list_members(site.slug):
        if member.account.public_id == public_id:
            return {"id": public_id, "email": member.account.email, "name": member.account.name}
    raise NotFound("member", public_id)


@get("/sites/{site:str}/team/{member:str}/remove")
async def remove_page(request: Request, site: FromPath[str], member: FromPath[str],
                      admin: NamedDependency[Admin]) -> Template:
    found = await _site(admin, site, Action.MEMBERS_MANAGE)
    return _page(request, "team/remove.html", {"admin": admin, "csrf": admin.csrf, "site": found, "nav": "team",
                                               "member": await _member_of(found, member)})


@post("/sites/{site:str}/team/{member:str}/remove")
async def remove(request: Request, site: FromPath[str], member: FromPath[str], admin: NamedDependency[Admin],
                 clock: NamedDependency[Clock]) -> Response:
    found = await _site(admin, site, Action.MEMBERS_MANAGE)
    try:
        await accounts.remove_member(found.slug, member, actor=admin.account.actor, now=clock())
    except accounts.LastOwner:
        return await _team_page(request, admin, found, status=409, refused="last-owner")
    if member == admin.account.public_id:
        return _go("/admin", request)  # they left this site
    return _go(f"/admin/sites/{found.slug}/team?notice=removed", request)


# --- keys --------------------------------------------------------------------------------------


async def _keys_page(request: Request, admin: Admin, site: Site, now: datetime, *, status: int = 200,
                     form: dict[str, Any] | None = None, problems: dict[str, str] | None = None,
                     created: key_service.CreatedKey | None = None) -> Template:
    fmt, zone = Formatter(_locale(request)), ZoneInfo(site.timezone)
    rows = [{"id": k.public_id, "name": k.name, "scopes": sorted(str(s) for s in k.scopes), "hint": k.hint,
             "created": _when(fmt, k.created_at, zone), "expires": _when(fmt, k.expires_at, zone),
             "last_used": _when(fmt, k.last_used_at, zone), "revoked": _when(fmt, k.revoked_at, zone),
             "expired": k.revoked_at is None and not k.usable(now)}
            for k in sorted(await key_service.keys_of(site.slug), key=lambda k: k.created_at, reverse=True)]
    return _page(request, "team/keys.html", {
        "admin": admin, "csrf": admin.csrf, "site": site, "nav": "keys", "keys": rows,
        "scopes": [str(s) for s in Scope], "form": form or {"scopes": []}, "problems": problems or {},
        "created": created, "notice": request.query_params.get("notice"),
        "min_day": (now.astimezone(zone).date() + timedelta(days=1)).isoformat(),
    }, status=status)


@get("/sites/{site:str}/keys")
async def keys_list(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                    clock: NamedDependency[Clock]) -> Template:
    found = await _site(admin, site, Action.KEYS_MANAGE)
    return await _keys_page(request, admin, found, clock())


@post("/sites/{site:str}/keys")
async def create_key(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                     clock: NamedDependency[Clock]) -> Template:
    found = await _site(admin, site, Action.KEYS_MANAGE)
    now = clock()
    raw = await request.form()
    name = raw.get("name") if isinstance(raw.get("name"), str) else ""
    wanted = [value for value in raw.getall("scopes") if isinstance(value, str)] if "scopes" in raw else []
    expires = raw.get("expires") if isinstance(raw.get("expires"), str) else ""
    form = {"name": name, "scopes": wanted, "expires": expires}
    problems: dict[str, str] = {}
    scopes: frozenset[Scope] = frozenset()
    try:
        scopes = key_service.parse_scopes(wanted)
    except InvalidInput:
        problems["scopes"] = "required"
    expires_at = None
    if expires:
        try:
            # Until the end of the chosen day in the site's zone.
            day = datetime.fromisoformat(expires).date()
            expires_at = datetime.combine(day + timedelta(days=1), time(), ZoneInfo(found.timezone))
        except ValueError:
            problems["expires"] = "invalid"
    if not problems:
        try:
            created = await key_service.create_key(found.slug, name=name, scopes=scopes, expires_at=expires_at,
                                                   actor=admin.account.actor, now=now)
        except InvalidInput as exc:
            problems = {("expires" if p.field == "expires_at" else p.field): p.code for p in exc.problems}
        else:
            return await _keys_page(request, admin, found, now, status=201, created=created)
    return await _keys_page(request, admin, found, now, status=422, form=form, problems=problems)


async def _key_of(site: Site, public_id: str):
    for key in await key_service.keys_of(site.slug):
        if key.public_id == public_id:
            return key
    raise NotFound("key", public_id)


@get("/sites/{site:str}/keys/{key:str}/revoke")
async def revoke_page(request: Request, site: FromPath[str], key: FromPath[str],
                      admin: NamedDependency[Admin]) -> Template:
    found = await _site(admin, site, Action.KEYS_MANAGE)
    return _page(request, "team/revoke.html", {"admin": admin, "csrf": admin.csrf, "site": found, "nav": "keys",
                                               "key": await _key_of(found, key)})


@post("/sites/{site:str}/keys/{key:str}/revoke")
async def revoke(request: Request, site: FromPath[str], key: FromPath[str], admin: NamedDependency[Admin],
                 clock: NamedDependency[Clock]) -> Response:
    found = await _site(admin, site, Action.KEYS_MANAGE)
    await _key_of(found, key)  # another site's key: 404
    await key_service.revoke_key(key, actor=admin.account.actor, now=clock())
    return _go(f"/admin/sites/{found.slug}/keys?notice=revoked", request)


# --- import ------------------------------------------------------------------------------------


def _import_page(request: Request, admin: Admin, site: Site, context: dict[str, Any], status: int = 200) -> Template:
    return _page(request, "team/import.html", {"admin": admin, "csrf": admin.csrf, "site": site, "nav": "import",
                                               "kinds": KINDS, "kind": "resources", **context}, status=status)


@get("/sites/{site:str}/import")
async def import_page(request: Request, site: FromPath[str], admin: NamedDependency[Admin]) -> Template:
    found = await _site(admin, site, Action.CATALOG_WRITE)
    return _import_page(request, admin, found, {"notice": request.query_params.get("notice"),
                                                "applied_created": request.query_params.get("created", "0"),
                                                "applied_updated": request.query_params.get("updated", "0")})


@post("/sites/{site:str}/import", request_max_body_size=IMPORT_MAX_BYTES + 100_000)
async def import_preview(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                         clock: NamedDependency[Clock]) -> Template:
    """Step 2: the dry run's report; when every row is fine, a form that applies the very same sheet."""
    found = await _site(admin, site, Action.CATALOG_WRITE)
    raw = await request.form()
    kind = raw.get("kind") if raw.get("kind") in KINDS else None
    upload = raw.get("file")
    body = await upload.read() if isinstance(upload, UploadFile) else b""
    problems = {}
    if kind is None:
        problems["kind"] = "required"
    if not body.strip():
        problems["file"] = "required"
    elif len(body) > IMPORT_MAX_BYTES:
        problems["file"] = "too-large"
    if problems:
        return _import_page(request, admin, found, {"problems": problems, "kind": kind or "resources"}, status=422)
    report = await catalog_import.import_catalog(found, kind, body, dry_run=True, actor=admin.account.actor,
                                                 now=clock())
    return _import_page(request, admin, found, {
        "kind": kind, "report": report, "sheet": body.decode("utf-8", errors="replace"),
        "attempt": secrets.token_urlsafe(16)}, status=200 if report.valid else 422)


@post("/sites/{site:str}/import/apply", request_max_body_size=3 * IMPORT_MAX_BYTES)
async def import_apply(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                       clock: NamedDependency[Clock]) -> Response:
    """Step 3: write the previewed sheet, all or nothing (a sheet changed meanwhile shows its report again)."""
    found = await _site(admin, site, Action.CATALOG_WRITE)
    form = await _form(request)
    kind = form.get("kind")
    if kind not in KINDS:
        return _import_page(request, admin, found, {"problems": {"kind": "required"}}, status=422)
    body = form.get("sheet", "").encode()
    try:
        report = await catalog_import.import_catalog(found, kind, body, dry_run=False, actor=admin.account.actor,
                                                     now=clock(), idempotency_key=form.get("attempt") or None)
    except catalog_import.ImportRejected as exc:
        return _import_page(request, admin, found, {
            "kind": kind, "report": exc.report, "sheet": form.get("sheet", "")}, status=422)
    counts = report.counts
    return _go(f"/admin/sites/{found.slug}/import?notice=applied&created={counts['created']}"
               f"&updated={counts['updated']}", request)


# --- export ------------------------------------------------------------------------------------


@get("/sites/{site:str}/export")
async def export_page(request: Request, site: FromPath[str], admin: NamedDependency[Admin],
                      clock: NamedDependency[Clock]) -> Template:
    found = await _site(admin, site, Action.BOOKINGS_READ)
    today = clock().astimezone(ZoneInfo(found.timezone)).date()
    return _page(request, "team/export.html", {
        "admin": admin, "csrf": admin.csrf, "site": found, "nav": "export", "problems": {},
        "params": {"from": (today - timedelta(days=30)).isoformat(), "to": today.isoformat()}})


@get("/sites/{site:str}/export/bookings.csv")
async def export_csv(request: Request, site: FromPath[str], admin: NamedDependency[Admin]) -> Response:
    """The bookings of the range as CSV (staff: their own resource's); bad dates → the form with the error."""
    found = await _site(admin, site, Action.BOOKINGS_READ)
    params = {name: (request.query_params.get(name) or "").strip() for name in ("from", "to")}
    problems = {name: "required" for name, value in params.items() if not value}
    if not problems:
        try:
            chunks = await booking_export.bookings_csv(found, dict(params), visible=access.visible_to(
                admin.caller, found))
        except InvalidInput as exc:
            problems = {p.field if p.field in params else "from": p.code for p in exc.problems}
        else:
            return Stream(chunks, media_type="text/csv; charset=utf-8", headers={
                **PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{booking_export.filename(found)}"'})
    return _page(request, "team/export.html", {"admin": admin, "csrf": admin.csrf, "site": found, "nav": "export",
                                               "problems": problems, "params": params}, status=422)


ROUTES = [team, invite, change_role, remove_page, remove, keys_list, create_key, revoke_page, revoke, import_page,
          import_preview, import_apply, export_page, export_csv]
