"""``slotwise key create|list|revoke``: API keys for a site's admin API, from the command line.

``key create`` prints the new key alone as its last line; it is shown this
once and never again (only its SHA-256 is kept).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from datetime import timedelta

from slotwise.settings import Settings

_SPAN = re.compile(r"^(\d{1,5})([dh])$")


def add_key_commands(commands: argparse._SubParsersAction) -> None:
    key = commands.add_parser("key", help="create, list and revoke API keys", description=(
        "API keys give a program access to one site's admin API, within their scopes."))
    keys = key.add_subparsers(title="key commands", metavar="ACTION")

    create = keys.add_parser("create", help="create a key; prints it once, as the last line")
    create.add_argument("--site", required=True, help="the site's slug")
    create.add_argument("--name", required=True, help="what the key is for, e.g. 'Zapier'")
    create.add_argument("--scopes", required=True,
                        help="comma-separated, e.g. bookings:read,bookings:write")
    create.add_argument("--expires-in", help="e.g. 90d or 12h; default: no expiry")
    create.set_defaults(handler=_create)

    listing = keys.add_parser("list", help="the keys of a site (never the keys themselves)")
    listing.add_argument("--site", required=True, help="the site's slug")
    listing.set_defaults(handler=_list)

    revoke = keys.add_parser("revoke", help="revoke a key at once, in every process")
    revoke.add_argument("key_id", help="the key's id, key_…")
    revoke.set_defaults(handler=_revoke)


def _run(settings: Settings, work):
    from slotwise.persistence.engine import Database
    from slotwise.persistence.migrate import migrate

    async def run():
        async with Database(settings) as database:
            await migrate(database.engine)
            return await work()

    return asyncio.run(run())


def _create(args: argparse.Namespace, settings: Settings) -> int:
    from slotwise.clock import system_clock
    from slotwise.domain.actors import Actor
    from slotwise.services import keys
    from slotwise.services.errors import InvalidInput, NotFound

    now = system_clock()
    expires_at = None
    if args.expires_in:
        match = _SPAN.match(args.expires_in)
        if not match:
            print(f"slotwise: --expires-in must be like 90d or 12h, got {args.expires_in!r}", file=sys.stderr)
            return 2
        amount, unit = int(match.group(1)), match.group(2)
        expires_at = now + (timedelta(days=amount) if unit == "d" else timedelta(hours=amount))
    try:
        scopes = keys.parse_scopes(args.scopes.split(","))
        created = _run(settings, lambda: keys.create_key(
            args.site, name=args.name, scopes=scopes, expires_at=expires_at,
            actor=Actor.system("command"), now=now))
    except InvalidInput as exc:
        print(f"slotwise: {exc}", file=sys.stderr)
        return 2
    except NotFound:
        print(f"slotwise: there is no site {args.site!r}", file=sys.stderr)
        return 1
    key = created.key
    print(f"created {key.public_id} {key.name!r} for site {args.site} with {', '.join(sorted(key.scopes))}"
          + (f", expiring {key.expires_at.isoformat()}" if key.expires_at else ""))
    print("The key is shown only now; keep it secret:")
    print(created.secret)
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    from slotwise.services import keys
    from slotwise.services.errors import NotFound

    try:
        found = _run(settings, lambda: keys.keys_of(args.site))
    except NotFound:
        print(f"slotwise: there is no site {args.site!r}", file=sys.stderr)
        return 1
    for key in found:
        state = "revoked" if key.revoked_at else ("expires " + key.expires_at.isoformat() if key.expires_at
                                                  else "active")
        used = key.last_used_at.isoformat() if key.last_used_at else "never used"
        print(f"{key.public_id}  {key.hint}…  {key.name!r}  {','.join(sorted(key.scopes))}  {state}  {used}")
    return 0


def _revoke(args: argparse.Namespace, settings: Settings) -> int:
    from slotwise.clock import system_clock
    from slotwise.domain.actors import Actor
    from slotwise.services import keys
    from slotwise.services.errors import NotFound

    try:
        key = _run(settings, lambda: keys.revoke_key(args.key_id, actor=Actor.system("command"),
                                                     now=system_clock()))
    except NotFound:
        print(f"slotwise: there is no key {args.key_id!r}", file=sys.stderr)
        return 1
    print(f"revoked {key.public_id} {key.name!r} at {key.revoked_at.isoformat()}")
    return 0
