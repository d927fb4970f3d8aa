"""The ``slotwise`` command: serve, migrate, apply, demo, worker, account."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from dataclasses import replace
from pathlib import Path

from slotwise.assets import DEMO_SITE_FILE
from slotwise.cli_keys import add_key_commands
from slotwise.settings import Settings, SettingsError, load_settings

# How the demo site file is named in output: where it lives in the repository
# (an installed copy sits deep in site-packages).
DEMO_SITE_NAME = Path("examples") / DEMO_SITE_FILE.name


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"slotwise: {exc}", file=sys.stderr)
        return 2
    from slotwise.persistence.migrate import MigrationError

    try:
        return args.handler(args, settings)
    except MigrationError as exc:
        print(f"slotwise: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="slotwise",
        description="Slotwise booking backend. Configuration comes from SLOTWISE_* environment variables.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="migrate, then serve HTTP", description=(
        "Bring the schema up to date, then serve the widget, pages and API."))
    _add_server_options(serve)
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date",
                                  description="Run every pending migration (safe to repeat).")
    migrate.set_defaults(handler=_migrate)

    apply = commands.add_parser("apply", help="create or update a site from a site file",
                                description="Validate a TOML site file and apply it in one transaction.")
    apply.add_argument("file", type=Path, help="the site file (TOML)")
    apply.add_argument("--check", action="store_true", help="validate only; change nothing")
    apply.set_defaults(handler=_apply)

    worker = commands.add_parser("worker", help="deliver queued email, SMS and webhooks, sync calendars (no HTTP)", description=(
        "Run the outbox worker on its own, e.g. to scale it out; `serve` already runs one inside."))
    worker.set_defaults(handler=_worker)

    account = commands.add_parser("account", help="add and list the people who run sites",
                                  description="Owner accounts and their memberships of sites.")
    account_commands = account.add_subparsers(title="account commands", metavar="ACTION")
    account.set_defaults(handler=lambda args, settings: _usage(account))
    add = account_commands.add_parser("add", help="add an account to a site; prints a set-password link",
                                      description=(
        "Create the account if needed and its membership of the site (a second run changes the "
        "role). Prints a one-time set-password URL (valid 7 days) as its last line."))
    add.add_argument("email", help="the person's email address (their sign-in name)")
    add.add_argument("--site", required=True, help="the site's slug")
    add.add_argument("--role", required=True, choices=["owner", "manager", "staff", "viewer"],
                     help="owner, manager, staff or viewer")
    add.add_argument("--resource", help="staff only: the key of the person resource they are")
    add.add_argument("--name", help="the person's name, as history shows it")
    add.set_defaults(handler=_account_add)
    listing = account_commands.add_parser("list", help="list accounts and their memberships",
                                          description="List accounts with their sites and roles.")
    listing.add_argument("--site", help="only the accounts of this site (its slug)")
    listing.set_defaults(handler=_account_list)

    demo = commands.add_parser("demo", help="apply the demo site, print its snippet, serve", description=(
        f"Migrate, apply {DEMO_SITE_NAME}, print the snippet and URLs, then serve."))
    _add_server_options(demo)
    demo.add_argument("--no-serve", action="store_true", help="apply and print, then exit")
    demo.set_defaults(handler=_demo)

    add_key_commands(commands)
    return parser


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port (default %(default)s)")


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(_migrate_database(settings, report=print))
    return 0


async def _migrate_database(settings: Settings, report=None) -> None:
    """Open the database of ``settings`` in this event loop, migrate it, close it."""
    from slotwise.persistence.engine import Database
    from slotwise.persistence.migrate import migrate

    async with Database(settings) as database:
        await migrate(database.engine, report=report)


def _apply(args: argparse.Namespace, settings: Settings) -> int:
    from slotwise.sitefile import SiteFileError, load_site_file

    try:
        spec = load_site_file(args.file)
    except SiteFileError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.check:
        print(f"{args.file}: ok — site {spec.slug!r}, {len(spec.resources)} resources, "
              f"{len(spec.services)} services")
        return 0
    report = asyncio.run(_migrate_and_apply(settings, spec))
    _print_report(args.file, report)
    return 0


async def _migrate_and_apply(settings: Settings, spec):
    from slotwise.clock import system_clock
    from slotwise.domain.actors import Actor
    from slotwise.persistence.engine import Database
    from slotwise.persistence.migrate import migrate
    from slotwise.services.sites import apply_site

    async with Database(settings) as database:
        await migrate(database.engine)
        return await apply_site(spec, actor=Actor.system("command"), now=system_clock())


def _print_report(path: Path, report) -> None:
    if not report.changed:
        print(f"{path}: applied, nothing changed")
        return
    for label, items in (("created", report.created), ("updated", report.updated),
                         ("deactivated", report.deactivated)):
        for item in items:
            print(f"{label:>11}  {item}")
    print(f"{path}: applied")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _account_add(args: argparse.Namespace, settings: Settings) -> int:
    from slotwise.clock import system_clock
    from slotwise.domain.actors import Actor
    from slotwise.services.accounts import add_member
    from slotwise.services.config import ServiceConfig

    async def add():
        return await add_member(
            args.email, site_slug=args.site, role=args.role, resource=args.resource, name=args.name,
            actor=Actor.system("command"), now=system_clock(),
            config=ServiceConfig.from_settings(settings), send_invitation=False)

    added = _run_account_command(settings, add)
    if added is None:
        return 1
    account, membership = added.account, added.membership
    print(f"account {account.public_id} {account.email}: {'created' if added.account_created else 'exists'}")
    resource = f" (resource {membership.resource})" if membership.resource else ""
    print(f"membership of {membership.site_slug}: {membership.role}{resource}, {added.membership_change}")
    print("one-time link to set the password (valid 7 days):")
    print(added.link_url)
    return 0


def _account_list(args: argparse.Namespace, settings: Settings) -> int:
    from slotwise.services.accounts import list_members

    members = _run_account_command(settings, lambda: list_members(args.site))
    if members is None:
        return 1
    if not members:
        print("no accounts" + (f" on {args.site}" if args.site else ""))
    for member in members:
        account = member.account
        state = "disabled" if account.disabled else ("active" if account.has_password else "invited")
        name = f" ({account.name})" if account.name else ""
        print(f"{account.public_id}  {account.email}{name}  {state}")
        for m in member.memberships:
            resource = f" (resource {m.resource})" if m.resource else ""
            print(f"    {m.site_slug}: {m.role}{resource}")
    return 0


def _run_account_command(settings: Settings, work):
    """Migrate, then run ``work`` (a service call); a refused call prints why and gives None."""
    from slotwise.persistence.engine import Database
    from slotwise.persistence.migrate import migrate
    from slotwise.services.errors import InvalidInput, MembershipRefused, NotFound

    async def run():
        async with Database(settings) as database:
            await migrate(database.engine)
            return await work()

    try:
        return asyncio.run(run())
    except (NotFound, MembershipRefused, InvalidInput) as exc:
        print(f"slotwise account: {exc}", file=sys.stderr)
        return None


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from slotwise.web.app import create_app

    # Its own event loop: the server's pool is opened by the app, in uvicorn's loop.
    asyncio.run(_migrate_database(settings))
    settings = settings.serving_at(args.host, args.port)
    # proxy_headers=False: uvicorn would otherwise take the client from
    # X-Forwarded-For of any loopback peer; who to believe is web/clients.py's call.
    uvicorn.run(create_app(settings, run_worker=True), host=args.host, port=args.port, log_level="info",
                proxy_headers=False)
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from slotwise.clock import system_clock
    from slotwise.persistence.engine import Database
    from slotwise.persistence.migrate import migrate
    from slotwise.services.delivery import OutboxWorker

    async def run() -> None:
        async with Database(settings) as database:
            await migrate(database.engine)
            worker = OutboxWorker(settings, system_clock)
            stopped = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signal_number in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signal_number, stopped.set)
            await worker.start()
            print("slotwise worker: delivering the outbox and webhooks, syncing calendars (Ctrl-C to stop)", flush=True)
            await stopped.wait()
            await worker.stop()

    asyncio.run(run())
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from slotwise.sitefile import load_site_file

    # The demo shows its messages at /dev/messages instead of needing a provider.
    settings = replace(settings, dev_outbox=True)

    spec = load_site_file(DEMO_SITE_FILE)
    report = asyncio.run(_migrate_and_apply(settings, spec))
    _print_report(DEMO_SITE_NAME, report)
    base = settings.serving_at(args.host, args.port).base_url
    key = asyncio.run(_demo_access(replace(settings, base_url=base), spec.slug))
    first = spec.services[0].slug if spec.services else ""
    print(f"""
Slotwise demo — {spec.name}

  Demo page:     {base}/demo   (a business page with the widget embedded)
  Booking page:  {base}/book/{spec.slug}
  Snippet:       <script async src="{base}/widget.js" data-site="{spec.slug}"></script>
  Services:      {base}/api/v1/sites/{spec.slug}/services
  Availability:  {base}/api/v1/sites/{spec.slug}/availability?service={first}&start=YYYY-MM-DD&end=YYYY-MM-DD
  Health:        {base}/healthz
  API schema:    {base}/schema
  Messages:      {base}/dev/messages   (emails and SMS as customers get them)

  Back office:   {base}/admin   (sign in as the demo owner)
  Demo owner:    {DEMO_OWNER} / {DEMO_PASSWORD}
  Admin API key: {key}
                 (a new one each start; the previous demo key is revoked)
  Try:           curl -H "Authorization: Bearer {key}" {base}/api/v1/admin/sites/{spec.slug}/bookings
""", flush=True)
    if args.no_serve:
        return 0
    return _serve(args, settings)


# The demo's owner and password: a local demo only, printed on every start.
DEMO_OWNER = "owner@harbour-physio.example"
DEMO_PASSWORD = "demo-owner-2026"


async def _demo_access(settings: Settings, site_slug: str) -> str:
    """The demo owner (with a known password) and a fresh admin API key with every scope."""
    from slotwise.clock import system_clock
    from slotwise.domain.access import Role, Scope
    from slotwise.domain.actors import Actor
    from slotwise.persistence.engine import Database
    from slotwise.services import accounts, keys
    from slotwise.services.config import ServiceConfig

    demo = Actor.system("demo")
    now = system_clock()
    async with Database(settings):
        added = await accounts.add_member(DEMO_OWNER, site_slug=site_slug, role=Role.OWNER, name="Demo Owner",
                                          actor=demo, now=now, config=ServiceConfig.from_settings(settings),
                                          send_invitation=False)
        await accounts.set_password(added.link_url.rsplit("/", 1)[1], DEMO_PASSWORD, now=now)
        for old in await keys.keys_of(site_slug):
            if old.name == "Demo" and old.revoked_at is None:
                await keys.revoke_key(old.public_id, actor=demo, now=now)
        created = await keys.create_key(site_slug, name="Demo", scopes=list(Scope), expires_at=None,
                                        actor=demo, now=now)
        await _demo_bookings(site_slug, now=now, config=ServiceConfig.from_settings(settings))
    return created.secret


# Customers of the demo's bookings: a .example domain, so no message can reach anyone.
DEMO_CUSTOMERS = [
    ("Lena Fischer", "+49 40 1234 5601"), ("Jonas Weber", "+49 40 1234 5602"),
    ("Mia Schneider", "+49 40 1234 5603"), ("Paul Wagner", "+49 40 1234 5604"),
    ("Emma Becker", "+49 40 1234 5605"), ("Noah Hoffmann", "+49 40 1234 5606"),
    ("Clara Schulz", "+49 40 1234 5607"), ("Felix Koch", "+49 40 1234 5608"),
]


async def _demo_bookings(site_slug: str, *, now, config) -> int:
    """A few bookings on each of the next days (today included), so the back office's day view is not empty.

    Taken at free times of the engine, as a customer would; skipped when the
    demo already has bookings ahead (a restarted demo keeps its data).
    """
    from datetime import timedelta

    from slotwise.domain.actors import Actor
    from slotwise.services import availability, booking_lists
    from slotwise.services import bookings as booking_service
    from slotwise.services.availability import AvailabilityQuery
    from slotwise.services.errors import ServiceError

    site, services = await availability.list_services(site_slug)
    page = await booking_lists.list_bookings(site, {"from": now.isoformat(), "status": "confirmed", "limit": "1"},
                                             visible=None)
    if page.bookings:
        return 0
    from zoneinfo import ZoneInfo

    today = now.astimezone(ZoneInfo(site.timezone)).date()
    made, customer = 0, 0
    for offset in range(7):
        day = today + timedelta(days=offset)
        for service in services:
            found = await availability.get_availability(site_slug, AvailabilityQuery(
                service=service.slug, start=day, end=day, zone=None), now=now)
            slots = found.slots
            # Spread over the day: the first free time, one near the middle, one late.
            picks = {slots[i].start: slots[i] for i in {0, len(slots) // 2, (3 * len(slots)) // 4} if slots}
            for slot in list(picks.values())[: 2 if service.seats == 1 else 1]:
                seats = 3 if service.seats > 1 else 1
                for _ in range(seats):
                    name, phone = DEMO_CUSTOMERS[customer % len(DEMO_CUSTOMERS)]
                    customer += 1
                    email = name.lower().replace(" ", ".") + "@customer.example"
                    try:
                        await booking_service.create_booking(site_slug, booking_service.BookingRequest(
                            service=service.slug, start=slot.start,
                            customer={"name": name, "email": email, "phone": phone}),
                            actor=Actor.system("demo"), now=now, config=config, notify=False)
                        made += 1
                    except ServiceError:
                        continue  # taken meanwhile by another demo booking sharing a room: skip it
    return made


if __name__ == "__main__":
    raise SystemExit(main())
