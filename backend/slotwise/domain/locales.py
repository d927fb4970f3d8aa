"""The languages Slotwise speaks to customers in.

The one list: the site file's ``locale``, the widget's language choice and the
message templates (``templates/email``, ``templates/sms``, the ``.po``
catalogs) all ship in exactly these.
"""

from __future__ import annotations

from collections.abc import Mapping

SUPPORTED_LOCALES = ("en", "de")


# Owner text in several languages: a field's name -> locale -> text, holding
# only the fields an owner gave per language (``name = { en = "…", de = "…" }``).
# A field given as a plain string is not in it: its one text is the site's
# language. E.g. ``{"name": {"en": "Massage", "de": "Massage"}}``.
Texts = Mapping[str, Mapping[str, str]]


def default_text(table: Mapping[str, str], site_locale: str) -> str:
    """The text a table stands for where no customer's language applies: the
    site's language, else the first given in :data:`SUPPORTED_LOCALES` order."""
    if site_locale in table:
        return table[site_locale]
    for locale in SUPPORTED_LOCALES:
        if locale in table:
            return table[locale]
    return next(iter(table.values()))


def text_in(texts: Texts, field: str, default: str, locale: str | None) -> str:
    """``field`` in ``locale`` when the owner gave it, else ``default`` (the site's language)."""
    if locale is None:
        return default
    return (texts.get(field) or {}).get(locale) or default
