"""The public URLs a booking is reached by: one place, for messages and pages alike."""

from __future__ import annotations


def manage_url(base_url: str, token: str) -> str:
    """The customer's private link: see, move or cancel the booking."""
    return f"{base_url}/manage/{token}"


def manage_calendar_url(base_url: str, token: str) -> str:
    """The booking as an iCalendar file, behind the same secret."""
    return f"{base_url}/api/v1/manage/{token}/booking.ics"


def set_password_url(base_url: str, token: str) -> str:
    """An account's one-time link (invitation or reset) to the back office's set-password page."""
    return f"{base_url}/admin/set-password/{token}"


def back_office_booking_url(base_url: str, site_slug: str, booking_public_id: str) -> str:
    """A booking in the back office, for the people who run the site (signed in; never the customer's link)."""
    return f"{base_url}/admin/sites/{site_slug}/bookings/{booking_public_id}"
