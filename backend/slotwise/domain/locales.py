"""The languages Slotwise speaks to customers in.

The one list: the site file's ``locale``, the widget's language choice and the
message templates (``templates/email``, ``templates/sms``, the ``.po``
catalogs) all ship in exactly these.
"""

from __future__ import annotations

SUPPORTED_LOCALES = ("en", "de")
