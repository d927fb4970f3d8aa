"""The admin API's catalog import: resources or services from a spreadsheet saved as CSV.

``POST /api/v1/admin/sites/{site}/import/resources`` and ``…/import/services``
take a ``text/csv`` body (at most :data:`MAX_BODY_BYTES`; more is a 413), need
``catalog:write`` and honour ``Idempotency-Key``. ``?dry_run=1`` checks every
row and writes nothing (200 with the report, problems included); otherwise the
rows are written in one transaction, or, when any row has a problem, none
(422 with the same report). See ``services/catalog_import.py`` and ``docs/csv.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Controller, Request, post
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, Parameter
from litestar.status_codes import HTTP_200_OK

from slotwise.clock import Clock
from slotwise.domain.access import Action
from slotwise.services import access
from slotwise.services import catalog_import
from slotwise.services.access import Caller
from slotwise.services.catalog_import import ImportReport
from slotwise.services.errors import FieldProblem, InvalidInput
from slotwise.web.admin_api import provide_caller
from slotwise.web.booking_api import idempotency_key

# A catalog of 2,000 rows with long descriptions fits in 2 MB; a bigger body is a wrong file.
MAX_BODY_BYTES = 2_000_000
_YES, _NO = frozenset({"1", "true", "yes"}), frozenset({"", "0", "false", "no"})


@dataclass(frozen=True)
class ImportErrorOut:
    column: str | None  # as the sheet's header writes it; null: the whole row
    path: str  # inside the row's site-file table: "hours.mon[0]", "questions[1].type"
    code: str  # csv-rule (the sheet, a cell's syntax) | site-file-rule (the site file's checks)
    detail: str


@dataclass(frozen=True)
class ImportRowOut:
    row: int  # as the spreadsheet shows it: the header is row 1
    key: str | None  # the row's key or slug
    outcome: str  # created | updated | unchanged | error
    errors: list[ImportErrorOut]


@dataclass(frozen=True)
class ImportCountsOut:
    created: int
    updated: int
    unchanged: int
    error: int


@dataclass(frozen=True)
class ImportReportOut:
    kind: str  # resources | services
    dry_run: bool
    applied: bool  # true when the rows were written (never on a dry run)
    valid: bool  # no row has a problem
    counts: ImportCountsOut
    rows: list[ImportRowOut]


@dataclass
class _CsvBodyOperation(Operation):
    """The OpenAPI document shows the route's body: a CSV sheet (the handler reads the raw bytes)."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(required=True, content={"text/csv": OpenAPIMediaType(schema=Schema(
            type=OpenAPIType.STRING, description="a spreadsheet saved as CSV: UTF-8, ; or , (docs/csv.md)"))})


def _report_out(report: ImportReport) -> ImportReportOut:
    return ImportReportOut(
        kind=report.kind, dry_run=report.dry_run, applied=report.applied, valid=report.valid,
        counts=ImportCountsOut(**report.counts),
        rows=[ImportRowOut(row=row.row, key=row.key, outcome=row.outcome,
                           errors=[ImportErrorOut(e.column, e.path, e.code, e.detail) for e in row.errors])
              for row in report.rows])


def _dry_run(raw: str | None) -> bool:
    value = (raw or "").strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise InvalidInput([FieldProblem("dry_run", "boolean-expected")])


class AdminImportApi(Controller):
    path = "/api/v1/admin/sites/{site:str}/import"
    tags = ["admin"]
    dependencies = {"caller": Provide(provide_caller)}

    async def _import(self, request: Request, site: str, kind: catalog_import.Kind, dry_run: str | None,
                      caller: Caller, clock: Clock) -> ImportReportOut:
        found = await access.site_allowing(caller, site, Action.CATALOG_WRITE)
        report = await catalog_import.import_catalog(
            found, kind, await request.body(), dry_run=_dry_run(dry_run), actor=caller.actor, now=clock(),
            idempotency_key=idempotency_key(request))
        return _report_out(report)

    @post("/resources", status_code=HTTP_200_OK, opt={"body": "csv"}, request_max_body_size=MAX_BODY_BYTES,
          operation_class=_CsvBodyOperation,
          summary="Create or update resources from a CSV sheet, all or nothing (catalog:write)")
    async def resources(self, request: Request, site: FromPath[str], caller: NamedDependency[Caller],
                        clock: NamedDependency[Clock],
                        dry_run: str | None = Parameter(default=None, description="1: check only, write nothing"),
                        ) -> ImportReportOut:
        return await self._import(request, site, "resources", dry_run, caller, clock)

    @post("/services", status_code=HTTP_200_OK, opt={"body": "csv"}, request_max_body_size=MAX_BODY_BYTES,
          operation_class=_CsvBodyOperation,
          summary="Create or update services from a CSV sheet, all or nothing (catalog:write)")
    async def services(self, request: Request, site: FromPath[str], caller: NamedDependency[Caller],
                       clock: NamedDependency[Clock],
                       dry_run: str | None = Parameter(default=None, description="1: check only, write nothing"),
                       ) -> ImportReportOut:
        return await self._import(request, site, "services", dry_run, caller, clock)
