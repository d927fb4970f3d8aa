"""Apply a site file: create or update one site, its resources and its services, in one transaction.

Applying the same file twice changes nothing; resources and services that
disappear from the file are deactivated, never deleted (see persistence.catalog).
A change takes effect for accepting bookings at once in this process, and
within ``OFFER_CACHE_SECONDS`` in every other.
"""

from __future__ import annotations

from datetime import datetime

from slotwise.domain.actors import Actor
from slotwise.persistence import catalog
from slotwise.persistence.catalog import ApplyReport
from slotwise.persistence.engine import current_engine, write_transaction
from slotwise.services.availability import forget_offers
from slotwise.sitefile import SiteSpec

__all__ = ["ApplyReport", "apply_site"]


async def apply_site(spec: SiteSpec, *, actor: Actor, now: datetime) -> ApplyReport:
    """Create or update the site described by ``spec``.

    ``actor`` is who applied it (the command, and with the admin API an
    account or key); the audit log of configuration changes will record it.
    """
    async with write_transaction(current_engine()):
        report = await catalog.write_site(spec, now=now)
    forget_offers()
    return report
