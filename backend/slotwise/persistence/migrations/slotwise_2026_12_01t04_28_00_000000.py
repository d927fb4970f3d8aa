"""Bookings made before ``booking.resource_ids`` existed learn it from their allocations.

A confirmed booking's allocations name its resources; a booking cancelled
before this migration has none left, and keeps an empty list.
"""

import json
from collections import defaultdict

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T04:28:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "fill booking.resource_ids from the allocations"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="slotwise", description=DESCRIPTION)

    async def run():
        from slotwise.persistence.tables import Booking

        assigned: dict[int, list[int]] = defaultdict(list)
        rows = await Booking.raw(
            "SELECT booking, resource FROM allocation WHERE booking IS NOT NULL ORDER BY id"
        )
        for row in rows:
            assigned[row["booking"]].append(row["resource"])
        for booking_id, resource_ids in assigned.items():
            await Booking.raw(
                "UPDATE booking SET resource_ids = {} WHERE id = {}", json.dumps(resource_ids), booking_id
            )

    manager.add_raw(run)
    return manager
