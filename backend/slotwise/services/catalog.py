"""Resources and services one at a time (the admin API), in the site file's own terms.

Bodies are the site file's tables (``sitefile.parse_resource`` and
``parse_service``: the same fields, formats, checks and messages); answers are
the same tables (``sitefile.writing``) with an ``id`` and an ``etag``.
Every write is one transaction that raises the site's configuration version,
so every process stops using its cached copy at once (see
``services/availability.fresh_offer``).

- Ids are ``res_`` / ``svc_`` and the row's id in hex: stable for the row's
  life, never reused, and never taken for a key (keys have no ``_``). A path
  may name an object by its id or by its key/slug.
- An ETag is a hash of the object as it is answered; ``if_match`` (the
  ``If-Match`` header) must name the current one, or ``*``; None: no check.
- A PATCH body is merged over the stored table, field by field (a field sent
  replaces the whole field, ``null`` puts back its default, as if the file
  left it out), and the merged table is checked as a whole. Keys and slugs
  never change: other tables and bookings name them.
- A create honours an idempotency key: the same key and body answer the
  object it created (as it is now), another body with it is a conflict.
- Retiring a resource sets ``active = false`` and disabling a service
  ``enabled = false``; rows are never deleted (bookings keep pointing at them).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slotwise.domain.actors import Actor
from slotwise.domain.model import Site
from slotwise.persistence import catalog as store
from slotwise.persistence.engine import current_engine, read_transaction, write_transaction
from slotwise.services import audit
from slotwise.services.availability import forget_offers
from slotwise.services.errors import FieldProblem, InUse, InvalidInput, NotFound, PreconditionFailed
from slotwise.services.idempotency import IdempotentWrite, fingerprint, scope
from slotwise.sitefile import SiteFileError, parse_resource, parse_service
from slotwise.sitefile import jsonschema as table_schemas  # noqa: F401  (for web/: the bodies' schemas)
from slotwise.sitefile.writing import resource_table, service_table

RESOURCE_PREFIX = "res_"
SERVICE_PREFIX = "svc_"
VIA = "admin-api"  # how the audit log names this way in (the back office passes its own ``via``)


@dataclass(frozen=True, slots=True)
class CatalogResource:
    id: str  # res_…
    table: dict[str, Any]  # as in a site file: key, name, kind, timezone, hours, closed, extra_open
    active: bool  # false once retired
    etag: str  # quoted, as the ETag header carries it


@dataclass(frozen=True, slots=True)
class CatalogService:
    id: str  # svc_…
    table: dict[str, Any]  # as in a site file, ``enabled`` included
    etag: str


def _etag(content: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f'"{digest[:32]}"'


def _resource(stored: store.StoredResource) -> CatalogResource:
    public_id, table = f"{RESOURCE_PREFIX}{stored.id:x}", resource_table(stored.spec)
    return CatalogResource(public_id, table, stored.active,
                           _etag({"id": public_id, **table, "active": stored.active}))


def _service(stored: store.StoredService) -> CatalogService:
    public_id, table = f"{SERVICE_PREFIX}{stored.id:x}", service_table(stored.spec)
    return CatalogService(public_id, table, _etag({"id": public_id, **table}))


def _row_id(ref: str, prefix: str) -> int | None:
    if not ref.startswith(prefix):
        return None
    try:
        return int(ref[len(prefix):], 16)
    except ValueError:
        return None


def _check_if_match(if_match: str | None, etag: str, what: str, key: str) -> None:
    """``If-Match``: absent, ``*`` or a list naming the current ETag (``W/`` ignored)."""
    if if_match is None:
        return
    tags = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if "*" not in tags and etag not in tags:
        raise PreconditionFailed(what, key)


def _invalid(error: SiteFileError) -> InvalidInput:
    return InvalidInput([FieldProblem(problem.path or "body", "site-file-rule", {"message": problem.message})
                         for problem in error.problems])


def _rule(field: str, message: str) -> InvalidInput:
    return InvalidInput([FieldProblem(field, "site-file-rule", {"message": message})])


def _without_nulls(body: dict[str, Any]) -> dict[str, Any]:
    """``null`` is the field's default: as if the site file left the key out."""
    return {name: value for name, value in body.items() if value is not None}


def _merged(current: dict[str, Any], body: dict[str, Any], *, key_field: str, public_id: str,
            what: str) -> dict[str, Any]:
    """The stored table with the body's fields over it; the key and id cannot change."""
    body = dict(body)
    if "id" in body:
        if body.pop("id") != public_id:
            raise _rule("id", f"is the {what}'s id ({public_id}) and cannot be changed")
    if key_field in body and body[key_field] != current[key_field]:
        raise _rule(key_field, f"cannot be changed (bookings and other tables name {json.dumps(current[key_field])});"
                               f" create a new {what} and retire this one")
    return _without_nulls({**current, **body})


# --- resources ----------------------------------------------------------------------------


def _find_resource(resources: list[store.StoredResource], ref: str) -> store.StoredResource:
    row_id = _row_id(ref, RESOURCE_PREFIX)
    for stored in resources:
        if stored.id == row_id or stored.spec.key == ref:
            return stored
    raise NotFound("resource", ref)


async def list_resources(site: Site) -> list[CatalogResource]:
    """Every resource, retired ones too (``active`` false), in site-file order."""
    async with read_transaction(current_engine()):
        return [_resource(stored) for stored in await store.resources_of(site.id)]


async def get_resource(site: Site, ref: str) -> CatalogResource:
    async with read_transaction(current_engine()):
        return _resource(_find_resource(await store.resources_of(site.id), ref))


async def create_resource(site: Site, body: dict[str, Any], *, actor: Actor, now: datetime,
                          idempotency_key: str | None = None, via: str = VIA) -> CatalogResource:
    """A new resource after the others. ``actor``: who (the audit log records it)."""
    try:
        spec = parse_resource(_without_nulls(body), locale=site.locale)
    except SiteFileError as error:
        raise _invalid(error) from None
    write = IdempotentWrite(scope(f"site:{site.id}", "resource", actor), idempotency_key, fingerprint(body=body))
    async with write_transaction(current_engine()):
        resources = await store.resources_of(site.id)
        previous = await write.replay(now)
        if previous is not None:
            return _resource(_find_resource(resources, f"{RESOURCE_PREFIX}{previous['resource']:x}"))
        for stored in resources:
            if stored.spec.key == spec.key:
                hint = "" if stored.active else ' by a retired resource; PATCH it with "active": true to bring it back'
                raise _rule("key", f"duplicate resource key {json.dumps(spec.key)} (already used{hint})")
        row_id = await store.add_resource(site.id, spec, now=now)
        await store.bump_config_version(site.id)
        await audit.record(site.id, actor=actor, now=now, via=via, kind="resource", ref=spec.key, before=None,
                           after=audit.resource_state(spec, True))
        await write.remember({"resource": row_id}, now)
    forget_offers()
    return _resource(store.StoredResource(row_id, spec, True))


async def update_resource(site: Site, ref: str, body: dict[str, Any], *, if_match: str | None, actor: Actor,
                          now: datetime, via: str = VIA) -> CatalogResource:
    """Change the fields sent; ``"active": true`` brings a retired resource back, ``false`` retires it."""
    body = dict(body)
    active = body.pop("active", None)
    if active is not None and not isinstance(active, bool):
        raise _rule("active", f"must be true or false, got {json.dumps(active)}")
    async with write_transaction(current_engine()):
        resources = await store.resources_of(site.id)
        current = _find_resource(resources, ref)
        _check_if_match(if_match, _resource(current).etag, "resource", current.spec.key)
        table = _merged(resource_table(current.spec), body, key_field="key",
                        public_id=_resource(current).id, what="resource")
        try:
            spec = parse_resource(table, locale=site.locale)
        except SiteFileError as error:
            raise _invalid(error) from None
        active = current.active if active is None else active
        if current.active and not active:
            await _refuse_if_named(site, current.spec.key)
        if await store.change_resource(current.id, spec, active=active, now=now):
            await store.bump_config_version(site.id)
            await audit.record(site.id, actor=actor, now=now, via=via, kind="resource", ref=spec.key,
                               before=audit.resource_state(current.spec, current.active),
                               after=audit.resource_state(spec, active), flag="active")
    forget_offers()
    return _resource(store.StoredResource(current.id, spec, active))


async def retire_resource(site: Site, ref: str, *, if_match: str | None, actor: Actor, now: datetime,
                          via: str = VIA) -> None:
    """No longer offered; kept for the bookings that name it. Refused while an enabled service names it."""
    async with write_transaction(current_engine()):
        current = _find_resource(await store.resources_of(site.id), ref)
        _check_if_match(if_match, _resource(current).etag, "resource", current.spec.key)
        if not current.active:
            return
        await _refuse_if_named(site, current.spec.key)
        await store.change_resource(current.id, current.spec, active=False, now=now)
        await store.bump_config_version(site.id)
        await audit.record(site.id, actor=actor, now=now, via=via, kind="resource", ref=current.spec.key,
                           before=audit.resource_state(current.spec, True),
                           after=audit.resource_state(current.spec, False), flag="active")
    forget_offers()


async def _refuse_if_named(site: Site, key: str) -> None:
    """An enabled service must be able to take one resource of each of its groups."""
    naming = [stored.spec.slug for stored in await store.services_of(site.id)
              if stored.spec.enabled and any(key in group for group in stored.spec.resource_groups)]
    if naming:
        names = ", ".join(json.dumps(slug) for slug in naming)
        raise InUse(f"resource {json.dumps(key)} is still offered by service {names}; take it out of their "
                    "resources, or disable them, first", naming)


# --- services -----------------------------------------------------------------------------


def _find_service(services: list[store.StoredService], ref: str) -> store.StoredService:
    row_id = _row_id(ref, SERVICE_PREFIX)
    for stored in services:
        if stored.id == row_id or stored.spec.slug == ref:
            return stored
    raise NotFound("service", ref)


async def _active_keys(site: Site) -> list[str]:
    return [stored.spec.key for stored in await store.resources_of(site.id) if stored.active]


async def list_services(site: Site) -> list[CatalogService]:
    """Every service, disabled ones too (``enabled`` false), in site-file order."""
    async with read_transaction(current_engine()):
        return [_service(stored) for stored in await store.services_of(site.id)]


async def get_service(site: Site, ref: str) -> CatalogService:
    async with read_transaction(current_engine()):
        return _service(_find_service(await store.services_of(site.id), ref))


async def create_service(site: Site, body: dict[str, Any], *, actor: Actor, now: datetime,
                         idempotency_key: str | None = None, via: str = VIA) -> CatalogService:
    """A new service after the others; its ``resources`` must be active resources of the site."""
    write = IdempotentWrite(scope(f"site:{site.id}", "service", actor), idempotency_key, fingerprint(body=body))
    async with write_transaction(current_engine()):
        previous = await write.replay(now)
        if previous is not None:
            services = await store.services_of(site.id)
            return _service(_find_service(services, f"{SERVICE_PREFIX}{previous['service']:x}"))
        try:
            spec = parse_service(_without_nulls(body), resources=await _active_keys(site), locale=site.locale)
        except SiteFileError as error:
            raise _invalid(error) from None
        for stored in await store.services_of(site.id):
            if stored.spec.slug == spec.slug:
                hint = "" if stored.spec.enabled else ' by a disabled service; PATCH it with "enabled": true'
                raise _rule("slug", f"duplicate service slug {json.dumps(spec.slug)} (already used{hint})")
        row_id = await store.add_service(site.id, spec, now=now)
        await store.bump_config_version(site.id)
        await audit.record(site.id, actor=actor, now=now, via=via, kind="service", ref=spec.slug, before=None,
                           after=audit.service_state(spec))
        await write.remember({"service": row_id}, now)
    forget_offers()
    return _service(store.StoredService(row_id, spec))


async def update_service(site: Site, ref: str, body: dict[str, Any], *, if_match: str | None, actor: Actor,
                         now: datetime, via: str = VIA) -> CatalogService:
    """Change the fields sent; the merged service is checked whole (its resources must still be active)."""
    async with write_transaction(current_engine()):
        current = _find_service(await store.services_of(site.id), ref)
        _check_if_match(if_match, _service(current).etag, "service", current.spec.slug)
        table = _merged(service_table(current.spec), body, key_field="slug",
                        public_id=_service(current).id, what="service")
        try:
            spec = parse_service(table, resources=await _active_keys(site), locale=site.locale)
        except SiteFileError as error:
            raise _invalid(error) from None
        if await store.change_service(current.id, spec, now=now):
            await store.bump_config_version(site.id)
            await audit.record(site.id, actor=actor, now=now, via=via, kind="service", ref=spec.slug,
                               before=audit.service_state(current.spec), after=audit.service_state(spec),
                               flag="enabled")
    forget_offers()
    return _service(store.StoredService(current.id, spec))


async def disable_service(site: Site, ref: str, *, if_match: str | None, actor: Actor, now: datetime,
                          via: str = VIA) -> None:
    """No longer bookable; kept for the bookings that name it."""
    async with write_transaction(current_engine()):
        current = _find_service(await store.services_of(site.id), ref)
        _check_if_match(if_match, _service(current).etag, "service", current.spec.slug)
        disabled = dataclasses.replace(current.spec, enabled=False)
        if await store.change_service(current.id, disabled, now=now):
            await store.bump_config_version(site.id)
            await audit.record(site.id, actor=actor, now=now, via=via, kind="service", ref=current.spec.slug,
                               before=audit.service_state(current.spec), after=audit.service_state(disabled),
                               flag="enabled")
    forget_offers()
