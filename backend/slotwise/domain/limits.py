"""Limits and defaults that the domain and the database rely on, with their reasons.

The site-file parser enforces them; persistence and services may count on
them holding for every stored site (e.g. the busy-time query bounds its scan
by :data:`MAX_BLOCK_MINUTES`). All durations are whole minutes.
"""

from __future__ import annotations

from datetime import date, datetime

# Service lengths, steps and buffers sit on a 5-minute grid, so slot starts
# read like 09:05, never 09:07, and a typo such as 47 is caught early.
GRID_MINUTES = 5

# A week. Slots step through opening hours; bookings longer than that are
# rentals, which the slot engine is not built for.
MAX_SERVICE_MINUTES = 7 * 24 * 60

# The longest time one booking can block a resource: its duration plus a
# buffer before and one after, each at most MAX_SERVICE_MINUTES (3 weeks,
# 30240 minutes). The busy-time query bounds its range scan by it.
MAX_BLOCK_MINUTES = 3 * MAX_SERVICE_MINUTES

# Longest duration anywhere (max_advance, notice, cut-offs, reminders): five
# years. Keeps ``now + max_advance`` far from datetime's limits and catches
# typos such as "6000d".
MAX_ANY_MINUTES = 5 * 365 * 24 * 60

# docs/product.md#concepts: a hold lasts 10 minutes by default. Beyond an hour a hold
# stops being "while they type" and starts hiding free slots from others.
DEFAULT_HOLD_MINUTES = 10
HOLD_MINUTES_RANGE = (1, 60)

DEFAULT_MAX_RESCHEDULES = 3
# A typo guard; "unlimited" in practice.
MAX_RESCHEDULES_LIMIT = 100

# docs/product.md#messages: reminders 24 h and 2 h before the start, by default. Each
# reminder is an email and maybe an SMS; more than a few reads as spam.
DEFAULT_REMINDERS = (24 * 60, 2 * 60)
MAX_REMINDERS = 5

# Matches ServiceRules' default horizon in the domain model: one year.
DEFAULT_MAX_ADVANCE_MINUTES = 365 * 24 * 60

# A group session, not a stadium; catches typos like 8000 for 80.
MAX_SEATS = 1000

# Names of things owners name (a site, a resource, a service, a key): long
# enough for "Physiotherapie Praxis am Hafen – Zweigstelle Altona", short
# enough for a calendar title and an SMS.
NAME_MAX_LENGTH = 200

# The calendar the product works in: dates and instants outside it are refused
# as input (a 422 naming the field), far from where Python's datetime runs out
# (year 9999 plus a zone offset overflows; so does year 1 minus one). Two
# centuries cover any booking, history and look-ahead.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2199, 12, 31)


# As a problem's parameters ("must lie between 2000-01-01 and 2199-12-31").
CALENDAR_BOUNDS = {"earliest": EARLIEST_DAY.isoformat(), "latest": LATEST_DAY.isoformat()}


def within_calendar(day: date) -> bool:
    """Whether ``day`` (or the date of a datetime) lies in the product's calendar."""
    return EARLIEST_DAY <= (day.date() if isinstance(day, datetime) else day) <= LATEST_DAY
