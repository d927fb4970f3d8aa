"""Writing a site, its resources and its services, from a site file's specs.

Rows are compared first and only what changed is written, so writing the same
specs twice changes nothing (not even ``updated_at``). Resources and services
that disappear are deactivated, never deleted: bookings keep pointing at them.
Callers run :func:`write_site` inside ``write_transaction``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from piccolo.table import Table

from slotwise.domain.model import ResourceKind
from slotwise.persistence import codec
from slotwise.persistence.tables import Resource, Service, Site
from slotwise.sitefile import ResourceSpec, ServiceSpec, SiteSpec


@dataclass
class ApplyReport:
    """What an apply changed, as ``kind key`` strings (``resource anna``)."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deactivated)


def _site_values(spec: SiteSpec) -> dict[str, Any]:
    return {
        "slug": spec.slug,
        "name": spec.name,
        "timezone": spec.timezone,
        "locale": spec.locale,
        "allowed_origins": list(spec.allowed_origins),
        "accent": spec.accent,
        "contact_email": spec.contact_email,
        "contact_phone": spec.contact_phone,
        "address": spec.address,
        "notify_email": spec.notify_email,
        "hours": codec.encode_weekly(spec.hours),
        "closed": codec.encode_dates(spec.closed),
        "hold_minutes": spec.hold_minutes,
        "max_reschedules": spec.max_reschedules,
        "sms_enabled": spec.sms_enabled,
        "sandbox": spec.sandbox,
        "feed_customer_names": spec.feed_customer_names,
        "message_templates": {"email": dict(spec.email_templates), "sms": dict(spec.sms_templates)},
    }


def _resource_values(spec: ResourceSpec, position: int) -> dict[str, Any]:
    return {
        "key": spec.key,
        "name": spec.name,
        "kind": str(spec.kind),
        "timezone": spec.timezone,
        "hours": None if spec.hours is None else codec.encode_weekly(spec.hours),
        "closed": codec.encode_dates(spec.closed),
        "extra_open": codec.encode_dated_ranges(dict(spec.extra_open)),
        "texts": _texts(spec.texts),
        "metadata": dict(spec.metadata),
        "position": position,
        "active": True,
    }


def _service_values(spec: ServiceSpec, position: int) -> dict[str, Any]:
    return {
        "slug": spec.slug,
        "name": spec.name,
        "description": spec.description,
        "duration_minutes": spec.duration,
        "step_minutes": spec.step,
        "buffer_before_minutes": spec.buffer_before,
        "buffer_after_minutes": spec.buffer_after,
        "min_notice_minutes": spec.min_notice,
        "max_advance_minutes": spec.max_advance,
        "seats": spec.seats,
        "price_minor": spec.price_minor,
        "currency": spec.currency,
        "cancel_until_minutes": spec.cancel_until,
        "reschedule_until_minutes": spec.reschedule_until,
        "phone": spec.phone,
        "reminders": list(spec.reminders),
        "questions": [codec.encode_question(q) for q in spec.questions],
        "resource_groups": [list(group) for group in spec.resource_groups],
        "position": position,
        "enabled": spec.enabled,
        "texts": _texts(spec.texts),
        "metadata": dict(spec.metadata),
        "category": spec.category,
        "listed_duration_minutes": spec.listed_duration,
        "ask_address": spec.ask_address,
    }


def _texts(texts: Any) -> dict[str, dict[str, str]]:
    return {name: dict(table) for name, table in texts.items()}


def _read_texts(stored: Any) -> MappingProxyType:
    return MappingProxyType({name: MappingProxyType(dict(table)) for name, table in (stored or {}).items()})


async def _upsert(
    table: type[Table],
    existing: dict[str, Any] | None,
    values: dict[str, Any],
    now: datetime,
) -> tuple[int, str | None]:
    """Insert or update one row; returns its id and "created"/"updated"/None."""
    if existing is None:
        rows = await table.insert(table(**values, created_at=now, updated_at=now))
        return rows[0]["id"], "created"
    changed = {name: value for name, value in values.items() if existing.get(name) != value}
    if not changed:
        return existing["id"], None
    await table.update({**changed, "updated_at": now}).where(table.id == existing["id"])
    return existing["id"], "updated"


async def write_site(spec: SiteSpec, *, now: datetime) -> ApplyReport:
    """Create or update the site described by ``spec`` and its children."""
    report = ApplyReport()
    site_row = await Site.select().where(Site.slug == spec.slug).first().output(load_json=True)
    site_id, outcome = await _upsert(Site, site_row, _site_values(spec), now)
    _record(report, outcome, "site", spec.slug)
    await _apply_children(
        report,
        table=Resource,
        kind="resource",
        site_id=site_id,
        key_column="key",
        wanted={r.key: _resource_values(r, i) for i, r in enumerate(spec.resources)},
        retire={"active": False},
        now=now,
    )
    await _apply_children(
        report,
        table=Service,
        kind="service",
        site_id=site_id,
        key_column="slug",
        wanted={s.slug: _service_values(s, i) for i, s in enumerate(spec.services)},
        retire={"enabled": False},
        now=now,
    )
    if report.changed:
        await bump_config_version(site_id)
    return report


async def bump_config_version(site_id: int) -> None:
    """Every process's copy of this site's configuration is now stale (see ``Site.config_version``).

    On PostgreSQL this UPDATE waits for bookings holding the site row's share
    lock (``bookings.site_config_version``) and makes bookings after it wait
    for this transaction: a booking is decided wholly before or wholly after
    a configuration change.
    """
    await Site.update({Site.config_version: Site.config_version + 1}).where(Site.id == site_id)


async def _apply_children(
    report: ApplyReport,
    *,
    table: type[Table],
    kind: str,
    site_id: int,
    key_column: str,
    wanted: dict[str, dict[str, Any]],
    retire: dict[str, Any],
    now: datetime,
) -> None:
    rows = await table.select().where(table.site == site_id).output(load_json=True)
    existing = {row[key_column]: row for row in rows}
    for key, values in wanted.items():
        _, outcome = await _upsert(table, existing.get(key), {**values, "site": site_id}, now)
        _record(report, outcome, kind, key)
    for key, row in existing.items():
        if key in wanted:
            continue
        if any(row[name] != value for name, value in retire.items()):
            await table.update({**retire, "updated_at": now}).where(table.id == row["id"])
            report.deactivated.append(f"{kind} {key}")


def _record(report: ApplyReport, outcome: str | None, kind: str, key: str) -> None:
    if outcome == "created":
        report.created.append(f"{kind} {key}")
    elif outcome == "updated":
        report.updated.append(f"{kind} {key}")


# --------------------------------------------------------------------------
# One resource or service at a time (the admin API), as specs
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredResource:
    id: int
    spec: ResourceSpec
    active: bool


@dataclass(frozen=True, slots=True)
class StoredService:
    id: int
    spec: ServiceSpec  # spec.enabled: whether it can be booked


def resource_spec(row: dict[str, Any]) -> ResourceSpec:
    return ResourceSpec(
        key=row["key"],
        name=row["name"],
        kind=ResourceKind(row["kind"]),
        timezone=row["timezone"],
        hours=None if row["hours"] is None else MappingProxyType(codec.decode_weekly(row["hours"])),
        closed=codec.decode_dates(row["closed"]),
        extra_open=MappingProxyType(codec.decode_dated_ranges(row["extra_open"])),
        texts=_read_texts(row["texts"]),
        metadata=MappingProxyType(dict(row["metadata"] or {})),
    )


def service_spec(row: dict[str, Any]) -> ServiceSpec:
    return ServiceSpec(
        slug=row["slug"],
        name=row["name"],
        description=row["description"],
        duration=row["duration_minutes"],
        step=row["step_minutes"],
        resource_groups=tuple(tuple(group) for group in row["resource_groups"]),
        buffer_before=row["buffer_before_minutes"],
        buffer_after=row["buffer_after_minutes"],
        min_notice=row["min_notice_minutes"],
        max_advance=row["max_advance_minutes"],
        cancel_until=row["cancel_until_minutes"],
        reschedule_until=row["reschedule_until_minutes"],
        seats=row["seats"],
        price_minor=row["price_minor"],
        currency=row["currency"],
        phone=row["phone"],
        reminders=tuple(row["reminders"]),
        questions=tuple(codec.decode_question(q) for q in row["questions"]),
        enabled=row["enabled"],
        texts=_read_texts(row["texts"]),
        metadata=MappingProxyType(dict(row["metadata"] or {})),
        category=row["category"],
        listed_duration=row["listed_duration_minutes"],
        ask_address=row["ask_address"],
    )


async def _rows(table: type[Table], site_id: int) -> list[dict[str, Any]]:
    """A site's rows in site-file order (a row added later comes last)."""
    return await table.select().where(table.site == site_id).order_by(
        table.position, table.id).output(load_json=True)


async def resources_of(site_id: int) -> list[StoredResource]:
    """Every resource of the site, retired ones too, in site-file order."""
    return [StoredResource(row["id"], resource_spec(row), row["active"])
            for row in await _rows(Resource, site_id)]


async def services_of(site_id: int) -> list[StoredService]:
    """Every service of the site, disabled ones too, in site-file order."""
    return [StoredService(row["id"], service_spec(row)) for row in await _rows(Service, site_id)]


async def _next_position(table: type[Table], site_id: int) -> int:
    rows = await table.select(table.position).where(table.site == site_id).order_by(
        table.position, ascending=False).limit(1)
    return rows[0]["position"] + 1 if rows else 0


async def add_resource(site_id: int, spec: ResourceSpec, *, now: datetime) -> int:
    """A new resource after the others; its row id."""
    values = _resource_values(spec, await _next_position(Resource, site_id))
    row_id, _ = await _upsert(Resource, None, {**values, "site": site_id}, now)
    return row_id


async def add_resources(site_id: int, specs: list[ResourceSpec], *, now: datetime) -> None:
    """New resources after the others, in this order, in one statement (a CSV import)."""
    first = await _next_position(Resource, site_id)
    if specs:
        await Resource.insert(*[Resource(**_resource_values(spec, first + index), site=site_id, created_at=now,
                                         updated_at=now) for index, spec in enumerate(specs)])


async def change_resource(row_id: int, spec: ResourceSpec, *, active: bool, now: datetime) -> bool:
    """Write what differs (its place in the order stays); False when nothing did."""
    row = await Resource.select().where(Resource.id == row_id).first().output(load_json=True)
    values = {**_resource_values(spec, row["position"]), "active": active}
    _, outcome = await _upsert(Resource, row, values, now)
    return outcome is not None


async def add_service(site_id: int, spec: ServiceSpec, *, now: datetime) -> int:
    values = _service_values(spec, await _next_position(Service, site_id))
    row_id, _ = await _upsert(Service, None, {**values, "site": site_id}, now)
    return row_id


async def change_resources(changes: list[tuple[int, ResourceSpec]], *, now: datetime) -> None:
    """Several resources rewritten (and active), their rows read in one query (a CSV import)."""
    rows = await _rows_by_id(Resource, [row_id for row_id, _ in changes])
    for row_id, spec in changes:
        await _upsert(Resource, rows[row_id], _resource_values(spec, rows[row_id]["position"]), now)


async def _rows_by_id(table: type[Table], ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = await table.select().where(table.id.is_in(ids)).output(load_json=True)
    return {row["id"]: row for row in rows}


async def add_services(site_id: int, specs: list[ServiceSpec], *, now: datetime) -> None:
    """New services after the others, in this order, in one statement (a CSV import)."""
    first = await _next_position(Service, site_id)
    if specs:
        await Service.insert(*[Service(**_service_values(spec, first + index), site=site_id, created_at=now,
                                       updated_at=now) for index, spec in enumerate(specs)])


async def change_service(row_id: int, spec: ServiceSpec, *, now: datetime) -> bool:
    row = await Service.select().where(Service.id == row_id).first().output(load_json=True)
    _, outcome = await _upsert(Service, row, _service_values(spec, row["position"]), now)
    return outcome is not None


async def change_services(changes: list[tuple[int, ServiceSpec]], *, now: datetime) -> None:
    """Several services rewritten, their rows read in one query (a CSV import)."""
    rows = await _rows_by_id(Service, [row_id for row_id, _ in changes])
    for row_id, spec in changes:
        await _upsert(Service, rows[row_id], _service_values(spec, rows[row_id]["position"]), now)


async def read_site(site_id: int) -> SiteSpec:
    """The site as a site file would describe it: active resources, every service, the templates.

    Retired resources are left out (a site file cannot name one, and applying
    it retires what it leaves out, which they already are); disabled services
    are kept with ``enabled = false``.
    """
    row = await Site.select().where(Site.id == site_id).first().output(load_json=True)
    templates = row["message_templates"] or {}
    return SiteSpec(
        slug=row["slug"], name=row["name"], timezone=row["timezone"], locale=row["locale"],
        allowed_origins=tuple(row["allowed_origins"]), accent=row["accent"],
        contact_email=row["contact_email"], contact_phone=row["contact_phone"], address=row["address"],
        notify_email=row["notify_email"], hours=MappingProxyType(codec.decode_weekly(row["hours"])),
        closed=codec.decode_dates(row["closed"]), hold_minutes=row["hold_minutes"],
        max_reschedules=row["max_reschedules"], sms_enabled=row["sms_enabled"], sandbox=row["sandbox"],
        feed_customer_names=row["feed_customer_names"],
        resources=tuple(r.spec for r in await resources_of(site_id) if r.active),
        services=tuple(s.spec for s in await services_of(site_id)),
        email_templates=MappingProxyType(dict(templates.get("email", {}))),
        sms_templates=MappingProxyType(dict(templates.get("sms", {}))),
    )


async def message_templates(site_id: int) -> dict[str, dict[str, str]]:
    """The site's own templates: ``{"email": {name: source}, "sms": {name: source}}``."""
    row = await Site.select(Site.message_templates).where(Site.id == site_id).first().output(load_json=True)
    stored = (row or {}).get("message_templates") or {}
    return {"email": dict(stored.get("email", {})), "sms": dict(stored.get("sms", {}))}


async def set_message_templates(site_id: int, templates: dict[str, dict[str, str]], *, now: datetime) -> None:
    """Replace the site's own templates (callers check them first, as a site file's are)."""
    await Site.update({Site.message_templates: templates, Site.updated_at: now}).where(Site.id == site_id)
    await bump_config_version(site_id)
