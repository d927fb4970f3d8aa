"""The booking events a customer gets a message (email, SMS) about.

The one list: default templates exist for each (``templates/email/<event>…``,
``templates/sms/<event>…``), and an owner's template names in the site file
start with one of them.
"""

from __future__ import annotations

MESSAGE_EVENTS = ("confirmed", "rescheduled", "cancelled", "reminder")
