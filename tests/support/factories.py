"""Rows the booking flow will write, inserted directly.

Until the booking service exists these let the availability tests put busy
time in the database the way a booking or a hold occupies it.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from slotwise.persistence.change_feed import forget_all
from slotwise.persistence.tables import Allocation, Booking, Hold, Resource, Service, Site


async def _ids(site_slug: str, service_slug: str, resource_keys: list[str]):
    site = await Site.select(Site.id).where(Site.slug == site_slug).first()
    service = await Service.select().where(
        (Service.site == site["id"]) & (Service.slug == service_slug)
    ).first()
    resources = await Resource.select(Resource.id, Resource.key).where(
        (Resource.site == site["id"]) & Resource.key.is_in(resource_keys)
    )
    by_key = {row["key"]: row["id"] for row in resources}
    return site["id"], service, [by_key[key] for key in resource_keys]


def _allocations(service, resource_ids, start, *, booking=None, hold=None, expires_at=None):
    end = start + timedelta(minutes=service["duration_minutes"])
    return [
        Allocation(
            resource=resource_id,
            service=service["id"],
            booking=booking,
            hold=hold,
            start_at=start,
            end_at=end,
            blocked_from=start - timedelta(minutes=service["buffer_before_minutes"]),
            blocked_until=end + timedelta(minutes=service["buffer_after_minutes"]),
            seats=1,
            expires_at=expires_at,
        )
        for resource_id in resource_ids
    ]


async def add_booking(site_slug: str, service_slug: str, resource_keys: list[str], start: datetime) -> int:
    site_id, service, resource_ids = await _ids(site_slug, service_slug, resource_keys)
    end = start + timedelta(minutes=service["duration_minutes"])
    rows = await Booking.insert(
        Booking(
            uid=uuid.uuid4(),
            site=site_id,
            service=service["id"],
            start_at=start,
            end_at=end,
            customer_name="Test Customer",
            customer_email="customer@example.com",
            timezone="Europe/Berlin",
            created_at=start,
            updated_at=start,
        )
    )
    booking_id = rows[0]["id"]
    await Allocation.insert(*_allocations(service, resource_ids, start, booking=booking_id))
    forget_all()  # written outside write_transaction: forget at once, as it would
    return booking_id


async def add_hold(site_slug: str, service_slug: str, resource_keys: list[str], start: datetime,
                   *, expires_at: datetime) -> int:
    site_id, service, resource_ids = await _ids(site_slug, service_slug, resource_keys)
    rows = await Hold.insert(
        Hold(
            site=site_id,
            service=service["id"],
            token_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
            start_at=start,
            end_at=start + timedelta(minutes=service["duration_minutes"]),
            expires_at=expires_at,
            created_at=start,
        )
    )
    hold_id = rows[0]["id"]
    await Allocation.insert(
        *_allocations(service, resource_ids, start, hold=hold_id, expires_at=expires_at)
    )
    forget_all()  # written outside write_transaction: forget at once, as it would
    return hold_id
