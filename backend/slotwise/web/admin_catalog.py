"""The admin API's catalog: a site's resources and services, read and written in the site file's terms.

Bodies take the fields of a ``[[resources]]`` or ``[[services]]`` table, with
the same formats, checks and messages (paths like ``hours.mon[0]``); answers
are the same tables with an ``id`` (``res_…``, ``svc_…``). One object answers
an ``ETag``; PATCH and DELETE honour ``If-Match`` (412). A path names an
object by its key/slug or its id; POSTs honour ``Idempotency-Key``. See
``services/catalog.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from slotwise.clock import Clock
from slotwise.domain.access import Action
from slotwise.services import access
from slotwise.services import catalog as catalog_service
from slotwise.services.access import Caller
from slotwise.services.catalog import CatalogResource, CatalogService
from slotwise.web.admin_api import provide_caller
from slotwise.web.bodies import SiteFileBody
from slotwise.web.booking_api import idempotency_key

# Bodies are site-file tables, checked by the site file's parser (its messages, its paths).
_schemas = catalog_service.table_schemas
ResourceTable = Annotated[dict[str, Any], SiteFileBody(_schemas.resource_schema)]
ResourcePatch = Annotated[dict[str, Any], SiteFileBody(_schemas.resource_patch_schema)]
ServiceTable = Annotated[dict[str, Any], SiteFileBody(_schemas.service_schema)]
ServicePatch = Annotated[dict[str, Any], SiteFileBody(_schemas.service_patch_schema)]


@dataclass(frozen=True)
class CatalogResourceOut:
    id: str  # res_…
    key: str
    name: str | dict[str, str]  # a plain string (the site's language) or {"en": …, "de": …}
    kind: str
    timezone: str | None  # null: the site's
    hours: dict[str, list[str]] | None  # {"mon": ["09:00-12:00"]}; null: the site's
    closed: list[str]  # "2026-12-24", "2026-12-24..2027-01-01"
    extra_open: dict[str, list[str]]  # {"2026-12-19": ["10:00-14:00"]}
    active: bool  # false once retired
    metadata: dict[str, str | int | float | bool] | None = None  # the owner's own keys


@dataclass(frozen=True)
class CatalogServiceOut:
    id: str  # svc_…
    slug: str
    name: str | dict[str, str]  # a plain string (the site's language) or {"en": …, "de": …}
    description: str | dict[str, str]
    duration: int  # minutes, as every duration here
    step: int
    buffer_before: int
    buffer_after: int
    min_notice: int
    max_advance: int
    cancel_until: int
    reschedule_until: int
    seats: int
    price: str | None  # "60.00 EUR"; null: free
    phone: str  # required | optional | hidden
    reminders: list[int]
    questions: list[dict[str, Any]]
    resources: list[list[str]]  # one resource from each group
    enabled: bool
    category: str | dict[str, str] | None = None  # the widget groups its list by it
    listed_duration: int | None = None  # minutes customers are told; null: the duration
    ask_address: bool = False  # the booking form asks for the customer's postal address
    metadata: dict[str, str | int | float | bool] | None = None  # the owner's own keys


@dataclass(frozen=True)
class ResourceListOut:
    data: list[CatalogResourceOut]
    next_cursor: str | None = None


@dataclass(frozen=True)
class ServiceListOut:
    data: list[CatalogServiceOut]
    next_cursor: str | None = None


def _resource_out(resource: CatalogResource) -> CatalogResourceOut:
    return CatalogResourceOut(id=resource.id, active=resource.active, **resource.table)


def _service_out(service: CatalogService) -> CatalogServiceOut:
    return CatalogServiceOut(id=service.id, **service.table)


def _with_etag(content: Any, etag: str, status_code: int = 200) -> Response[Any]:
    return Response(content, status_code=status_code, headers={"ETag": etag})


class AdminCatalogApi(Controller):
    path = "/api/v1/admin/sites/{site:str}"
    tags = ["admin"]
    dependencies = {"caller": Provide(provide_caller)}

    # --- resources ---

    @get("/resources", summary="The site's resources, retired ones too, in site-file order (catalog:read)")
    async def resources(self, site: FromPath[str], caller: NamedDependency[Caller]) -> ResourceListOut:
        found = await access.site_allowing(caller, site, Action.CATALOG_READ)
        return ResourceListOut(data=[_resource_out(r) for r in await catalog_service.list_resources(found)])

    @post("/resources", status_code=HTTP_201_CREATED, summary="Add a resource: a site file's [[resources]] table")
    async def create_resource(self, request: Request, site: FromPath[str], data: JSONBody[ResourceTable],
                              caller: NamedDependency[Caller],
                              clock: NamedDependency[Clock]) -> Response[CatalogResourceOut]:
        found = await access.site_allowing(caller, site, Action.CATALOG_WRITE)
        created = await catalog_service.create_resource(found, data, actor=caller.actor, now=clock(),
                                                      idempotency_key=idempotency_key(request))
        return _with_etag(_resource_out(created), created.etag, HTTP_201_CREATED)

    @get("/resources/{resource:str}", summary="One resource, by key or id, with its ETag")
    async def resource(self, site: FromPath[str], resource: FromPath[str],
                       caller: NamedDependency[Caller]) -> Response[CatalogResourceOut]:
        found = await access.site_allowing(caller, site, Action.CATALOG_READ)
        stored = await catalog_service.get_resource(found, resource)
        return _with_etag(_resource_out(stored), stored.etag)

    @patch("/resources/{resource:str}", summary="Change the fields sent (If-Match honoured)")
    async def update_resource(self, request: Request, site: FromPath[str], resource: FromPath[str],
                              data: JSONBody[ResourcePatch], caller: NamedDependency[Caller],
                              clock: NamedDependency[Clock]) -> Response[CatalogResourceOut]:
        found = await access.site_allowing(caller, site, Action.CATALOG_WRITE)
        changed = await catalog_service.update_resource(
            found, resource, data, if_match=request.headers.get("if-match"), actor=caller.actor, now=clock())
        return _with_etag(_resource_out(changed), changed.etag)

    @delete("/resources/{resource:str}", summary="Retire: no longer offered, kept for history (If-Match honoured)")
    async def retire_resource(self, request: Request, site: FromPath[str], resource: FromPath[str],
                              caller: NamedDependency[Caller], clock: NamedDependency[Clock]) -> None:
        found = await access.site_allowing(caller, site, Action.CATALOG_WRITE)
        await catalog_service.retire_resource(found, resource, if_match=request.headers.get("if-match"),
                                              actor=caller.actor, now=clock())

    # --- services ---

    @get("/services", summary="The site's services, disabled ones too, in site-file order (catalog:read)")
    async def services(self, site: FromPath[str], caller: NamedDependency[Caller]) -> ServiceListOut:
        found = await access.site_allowing(caller, site, Action.CATALOG_READ)
        return ServiceListOut(data=[_service_out(s) for s in await catalog_service.list_services(found)])

    @post("/services", status_code=HTTP_201_CREATED, summary="Add a service: a site file's [[services]] table")
    async def create_service(self, request: Request, site: FromPath[str], data: JSONBody[ServiceTable],
                             caller: NamedDependency[Caller],
                             clock: NamedDependency[Clock]) -> Response[CatalogServiceOut]:
        found = await access.site_allowing(caller, site, Action.CATALOG_WRITE)
        created = await catalog_service.create_service(found, data, actor=caller.actor, now=clock(),
                                                      idempotency_key=idempotency_key(request))
        return _with_etag(_service_out(created), created.etag, HTTP_201_CREATED)

    @get("/services/{service:str}", summary="One service, by slug or id, with its ETag")
    async def service(self, site: FromPath[str], service: FromPath[str],
                      caller: NamedDependency[Caller]) -> Response[CatalogServiceOut]:
        found = await access.site_allowing(caller, site, Action.CATALOG_READ)
        stored = await catalog_service.get_service(found, service)
        return _with_etag(_service_out(stored), stored.etag)

    @patch("/services/{service:str}", summary="Change the fields sent (If-Match honoured)")
    async def update_service(self, request: Request, site: FromPath[str], service: FromPath[str],
                             data: JSONBody[ServicePatch], caller: NamedDependency[Caller],
                             clock: NamedDependency[Clock]) -> Response[CatalogServiceOut]:
        found = await access.site_allowing(caller, site, Action.CATALOG_WRITE)
        changed = await catalog_service.update_service(
            found, service, data, if_match=request.headers.get("if-match"), actor=caller.actor, now=clock())
        return _with_etag(_service_out(changed), changed.etag)

    @delete("/services/{service:str}", summary="Disable: no longer bookable, kept for history (If-Match honoured)")
    async def disable_service(self, request: Request, site: FromPath[str], service: FromPath[str],
                              caller: NamedDependency[Caller], clock: NamedDependency[Clock]) -> None:
        found = await access.site_allowing(caller, site, Action.CATALOG_WRITE)
        await catalog_service.disable_service(found, service, if_match=request.headers.get("if-match"),
                                              actor=caller.actor, now=clock())
