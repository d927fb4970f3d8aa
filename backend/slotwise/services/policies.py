"""The change policy of a site's service, as the pure domain takes it."""

from __future__ import annotations

from datetime import timedelta

from slotwise.domain.policy import ChangePolicy
from slotwise.persistence.queries import ServiceInfo, SiteInfo


def change_policy(site: SiteInfo, service: ServiceInfo) -> ChangePolicy:
    """Cut-offs come from the service, the cap on moves from the site."""
    return ChangePolicy(
        cancel_until=timedelta(minutes=service.cancel_until_minutes),
        reschedule_until=timedelta(minutes=service.reschedule_until_minutes),
        max_reschedules=site.max_reschedules,
    )
