"""Import resources or services from a CSV sheet: checked whole, then written in one transaction, or not at all.

Each row is a site file's ``[[resources]]``/``[[services]]`` table
(``sitefile.csv_tables`` reads the cells) and is checked by the file's own
``parse_resource``/``parse_service``. A row whose key/slug exists updates
that object (the columns the sheet has; a retired resource listed comes back,
as ``slotwise apply`` does), a new key creates one after the others. The
report says per row: ``created``, ``updated``, ``unchanged`` or ``error``
with the problems by column.

A dry run reports and writes nothing. Otherwise one write transaction either
writes every row or, when any row has a problem, nothing
(:class:`ImportRejected`, 422, with the same report). Each object written is
recorded in the audit log (``via = "csv-import"``) in that transaction, and
the site's configuration version is raised once. An ``Idempotency-Key``
replays the first import's report.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from slotwise.domain.actors import Actor
from slotwise.domain.model import Site
from slotwise.persistence import catalog as store
from slotwise.persistence.engine import current_engine, read_transaction, write_transaction
from slotwise.services import audit
from slotwise.services.availability import forget_offers
from slotwise.services.errors import FieldProblem, InvalidInput
from slotwise.services.idempotency import IdempotentWrite, fingerprint, scope
from slotwise.sitefile import SiteFileError, parse_resource, parse_service
from slotwise.sitefile.csv_tables import KEY_COLUMN, Kind, Sheet, column_of, read_sheet, row_table
from slotwise.sitefile.writing import resource_table, service_table

VIA = "csv-import"
Outcome = Literal["created", "updated", "unchanged", "error"]


@dataclass(frozen=True, slots=True)
class RowError:
    column: str | None  # as the header writes it; None: the whole row
    path: str  # the site file's path inside the row's table ("hours.mon[0]"), or the column
    code: str  # csv-rule: the sheet or a cell's syntax; site-file-rule: the site file's check
    detail: str


@dataclass(frozen=True, slots=True)
class RowReport:
    row: int  # as the spreadsheet shows it: the header is row 1
    key: str | None  # the key or slug the row names
    outcome: Outcome
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ImportReport:
    kind: Kind
    dry_run: bool
    applied: bool  # true only when every row was written
    rows: list[RowReport]  # row 1 holds the header's problems, if any

    @property
    def counts(self) -> dict[str, int]:
        counts = {"created": 0, "updated": 0, "unchanged": 0, "error": 0}
        for row in self.rows:
            counts[row.outcome] += 1
        return counts

    @property
    def valid(self) -> bool:
        return not any(row.outcome == "error" for row in self.rows)

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "dry_run": self.dry_run, "applied": self.applied,
                "rows": [asdict(row) for row in self.rows]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportReport:
        rows = [RowReport(row["row"], row["key"], row["outcome"], [RowError(**e) for e in row["errors"]])
                for row in data["rows"]]
        return cls(data["kind"], data["dry_run"], data["applied"], rows)


class ImportRejected(InvalidInput):
    """An import with a problem in some row: nothing was written (422); ``report`` says where."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__([FieldProblem(_field_name(row.row, error.column), error.code, {"message": error.detail})
                          for row in report.rows for error in row.errors])
        self.report = report


def _field_name(row: int, column: str | None) -> str:
    return f"row {row}, column {column}" if column else f"row {row}"


@dataclass(slots=True)
class _Planned:
    report: RowReport
    spec: Any = None
    stored: Any = None  # the existing StoredResource / StoredService, if any


async def import_catalog(site: Site, kind: Kind, body: bytes, *, dry_run: bool, actor: Actor, now: datetime,
                         idempotency_key: str | None = None) -> ImportReport:
    """Check every row of ``body`` (CSV), then write them all, or (dry run, or any problem) none.

    Raises :class:`ImportRejected` when not a dry run and any row has a problem.
    """
    sheet = read_sheet(body, kind)
    if dry_run:
        async with read_transaction(current_engine()):
            plans = await _plan(site, kind, sheet)
        return ImportReport(kind, True, False, [plan.report for plan in plans])
    write = IdempotentWrite(scope(f"site:{site.id}", f"import-{kind}", actor), idempotency_key,
                            fingerprint(body=hashlib.sha256(body).hexdigest()))
    async with write_transaction(current_engine()):
        previous = await write.replay(now)
        if previous is not None:
            return ImportReport.from_json(previous)
        plans = await _plan(site, kind, sheet)
        report = ImportReport(kind, False, True, [plan.report for plan in plans])
        if not report.valid:
            raise ImportRejected(ImportReport(kind, False, False, report.rows))
        if await _write(site, kind, plans, actor=actor, now=now):
            await store.bump_config_version(site.id)
        await write.remember(report.as_json(), now)
    forget_offers()
    return report


async def _plan(site: Site, kind: Kind, sheet: Sheet) -> list[_Planned]:
    """Each row checked against the stored catalog: what it would do, or what is wrong with it."""
    plans: list[_Planned] = []
    header_errors = [RowError(p.column, p.column or "", "csv-rule", p.message) for p in sheet.problems
                     if p.row == 1]
    if header_errors:
        plans.append(_Planned(RowReport(1, None, "error", header_errors)))
    row_problems: dict[int, list[RowError]] = {}
    for problem in sheet.problems:
        if problem.row != 1:
            row_problems.setdefault(problem.row, []).append(
                RowError(problem.column, problem.column or "", "csv-rule", problem.message))
    if kind == "resources":
        stored_items: list[Any] = await store.resources_of(site.id)
        existing = {item.spec.key: item for item in stored_items}
        active = []
    else:
        stored_items = await store.services_of(site.id)
        existing = {item.spec.slug: item for item in stored_items}
        active = [item.spec.key for item in await store.resources_of(site.id) if item.active]
    key_column = KEY_COLUMN[kind]
    seen: dict[str, int] = {}
    rows = {row.number: row for row in sheet.rows}
    for number in sorted({*rows, *row_problems}):
        row = rows.get(number)
        if row is None:  # a row the sheet could not read at all
            plans.append(_Planned(RowReport(number, None, "error", row_problems[number])))
            continue
        plans.append(_plan_row(sheet, kind, row, existing, active, seen, key_column))
    return plans


def _plan_row(sheet: Sheet, kind: Kind, row: Any, existing: dict[str, Any], active: list[str],
              seen: dict[str, int], key_column: str) -> _Planned:
    table, cell_problems = row_table(row, kind)
    errors = [RowError(sheet.header_of(column), column, "csv-rule", message)
              for column, message in cell_problems.items()]
    key = table.get(key_column)
    key = key if isinstance(key, str) else None
    if key is not None and key in seen:
        errors.append(RowError(sheet.header_of(key_column), key_column, "csv-rule",
                               f'"{key}" is already imported by row {seen[key]}'))
    elif key is not None:
        seen[key] = row.number
    stored = existing.get(key) if key else None
    if errors:
        return _Planned(RowReport(row.number, key, "error", errors))
    if stored is not None:  # the columns the sheet has, over what is stored
        current = resource_table(stored.spec) if kind == "resources" else service_table(stored.spec)
        table = {**current, **table}
    table = {name: value for name, value in table.items() if value is not None}
    try:
        spec = parse_resource(table) if kind == "resources" else parse_service(table, resources=active)
    except SiteFileError as error:
        return _Planned(RowReport(row.number, key, "error", [
            RowError(sheet.header_of(column_of(p.path)) if p.path else None, p.path, "site-file-rule", p.message)
            for p in error.problems]))
    if stored is None:
        outcome: Outcome = "created"
    elif kind == "resources":
        outcome = "unchanged" if (resource_table(spec), True) == (resource_table(stored.spec), stored.active) \
            else "updated"
    else:
        outcome = "unchanged" if service_table(spec) == service_table(stored.spec) else "updated"
    return _Planned(RowReport(row.number, key, outcome), spec, stored)


async def _write(site: Site, kind: Kind, plans: list[_Planned], *, actor: Actor, now: datetime) -> bool:
    """Write the rows that create or change something: new ones in one INSERT, changed ones one by one,
    their audit entries in one INSERT. False when nothing was to be written. A changed resource is
    active afterwards: a retired one that a sheet lists comes back, as with ``slotwise apply``."""
    created = [plan.spec for plan in plans if plan.report.outcome == "created"]
    changed = [plan for plan in plans if plan.report.outcome == "updated"]
    if kind == "resources":
        await store.add_resources(site.id, created, now=now)
        await store.change_resources([(plan.stored.id, plan.spec) for plan in changed], now=now)
        entries = [audit.entry(kind="resource", ref=plan.spec.key, flag="active",
                               before=None if plan.stored is None else audit.resource_state(plan.stored.spec,
                                                                                            plan.stored.active),
                               after=audit.resource_state(plan.spec, True))
                   for plan in plans if plan.report.outcome in ("created", "updated")]
    else:
        await store.add_services(site.id, created, now=now)
        await store.change_services([(plan.stored.id, plan.spec) for plan in changed], now=now)
        entries = [audit.entry(kind="service", ref=plan.spec.slug, flag="enabled",
                               before=None if plan.stored is None else audit.service_state(plan.stored.spec),
                               after=audit.service_state(plan.spec))
                   for plan in plans if plan.report.outcome in ("created", "updated")]
    await audit.record_all(site.id, entries, actor=actor, now=now, via=VIA)
    return bool(entries)
