"""The app factory: the one place that wires settings, clock, routes and error handling."""

from __future__ import annotations

from litestar import Litestar
from litestar.di import Provide
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig

from slotwise.clock import Clock, system_clock
from slotwise.persistence.engine import Database
from slotwise.services.config import ServiceConfig
from slotwise.services.delivery import OutboxWorker
from slotwise.settings import Settings, load_settings
from slotwise.web.admin_api import AdminBookingsApi
from slotwise.web.admin_audit import AdminAuditApi
from slotwise.web.admin_calendars import AdminCalendarsApi
from slotwise.web.admin_catalog import AdminCatalogApi
from slotwise.web.admin_customers import AdminCustomersApi
from slotwise.web.admin_import import AdminImportApi
from slotwise.web.admin_messages import AdminMessagesApi
from slotwise.web.admin_webhooks import AdminWebhooksApi
from slotwise.web.api import PingApi, SitesApi
from slotwise.web.api_docs import render_plugins
from slotwise.web.bodies import TypedBodies
from slotwise.web.back_office import back_office_router
from slotwise.web.booking import BookingPages
from slotwise.web.booking_api import BookingApi
from slotwise.web.compression import compression_config
from slotwise.web.dev_messages import DevMessages
from slotwise.web.examples import with_examples
from slotwise.web.feeds import AdminFeedsApi, calendar_feed
from slotwise.web.health import healthz
from slotwise.web.manage_api import ManageApi
from slotwise.web.manage_pages import ManagePages
from slotwise.web.problems import internal_error_handler, problem_details_plugin
from slotwise.web.limited import page_answer, rate_limited_handler
from slotwise.web.rate_limit import STORE_NAME, RateLimited, budgets, rate_limit_config, rate_limit_store
from slotwise.web.request_limits import MAX_BODY_BYTES, check_body
from slotwise.web.security import security_headers_hook
from slotwise.web.static import static_files_router
from slotwise.web.templating import template_config
from slotwise.web.widget_routes import demo_page, widget_js


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    clock: Clock = system_clock,
    run_worker: bool = False,
) -> Litestar:
    """The app; with ``run_worker`` it also delivers the outbox in the background.

    The database is built from ``settings`` unless one is given, and opened on
    startup (binding the tables to it) and closed on shutdown. Tests that
    drive the app without its lifespan open their ``Database`` themselves.
    """
    settings = settings or load_settings()
    config = ServiceConfig.from_settings(settings)
    database = database or Database(settings)
    worker = OutboxWorker(settings, clock) if run_worker else None

    app = Litestar(
        route_handlers=[healthz, SitesApi, BookingApi, ManageApi, AdminBookingsApi, PingApi, widget_js,
                        demo_page, AdminCatalogApi, AdminCalendarsApi, AdminCustomersApi, AdminAuditApi,
                        AdminImportApi, AdminMessagesApi, AdminWebhooksApi, AdminFeedsApi, calendar_feed,
                        BookingPages, ManagePages, static_files_router(), back_office_router(settings),
                        *([DevMessages] if settings.dev_outbox else [])],
        template_config=template_config(),
        dependencies={
            "settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False),
            "clock": Provide(lambda: clock, use_cache=True, sync_to_thread=False),
            "config": Provide(lambda: config, use_cache=True, sync_to_thread=False),
        },
        plugins=[problem_details_plugin(), TypedBodies()],
        request_max_body_size=MAX_BODY_BYTES,
        exception_handlers={Exception: internal_error_handler, RateLimited: rate_limited_handler},
        before_request=check_body,
        before_send=[security_headers_hook(schema_path="/schema")],
        # gzip over 500 bytes; the admin API and the back office at a faster level than the widget's answers.
        compression_config=compression_config(),
        middleware=[rate_limit_config(budget, settings.trusted_proxies, page_answer=page_answer(settings)).middleware
                    for budget in budgets(settings.rate_limit_per_minute, settings.read_rate_limit_per_minute)],
        stores={STORE_NAME: rate_limit_store(settings.redis_url, settings.database_url)},
        on_startup=[database.open, *([worker.start] if worker else [])],
        on_shutdown=[*([worker.stop] if worker else []), database.close],
        openapi_config=OpenAPIConfig(title="Slotwise", version="1", path="/schema", render_plugins=render_plugins()),
        logging_config=LoggingConfig(configure_root_logger=False, log_exceptions="never"),
    )
    with_examples(app.openapi_schema)  # built now, so a broken document fails at start-up
    return app
