"""Where the files Slotwise serves and renders are; the only module that knows.

The repository keeps them at its top level: ``templates/``, ``static/``,
``widget/`` (the embed loader) and ``examples/`` (site files, the demo's among
them). This package holds a relative symbolic link to each of those folders,
and ``pyproject.toml`` lists what in them is package data, so the same paths
work in every kind of install:

- editable (``pip install -e .``, what ``scripts/setup`` does): the links lead
  into the checkout, so an edited template shows without reinstalling;
- ``pip install .`` and a wheel: setuptools follows the links and copies the
  listed files into ``slotwise/assets/`` in the wheel.

``static/vendor/`` (htmx, Swagger UI) is not in git; ``scripts/setup`` copies it
from npm. A wheel built after set-up carries it; one built without it serves
pages that work as plain forms (see the README's install section) and an empty
``/schema`` page (the document itself stays at ``/schema/openapi.json``).

The message catalogs are package data of their own, in ``slotwise/locales/``
next to the code that reads them. Every path here is a real directory or file
on disk (pip always unpacks a wheel; nothing is read from a zip), because
Jinja's ``FileSystemLoader`` and Litestar's static files need one.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _on_disk(resource: object) -> Path:
    if not isinstance(resource, Path):
        raise RuntimeError(f"Slotwise must be installed as files on disk, not zipped: {resource}")
    # resolve(): through the links of an editable install to the checkout's folders.
    return resource.resolve()


_ASSETS = files(__name__)

TEMPLATES_DIR = _on_disk(_ASSETS / "templates")
STATIC_DIR = _on_disk(_ASSETS / "static")
# The embed loader, served minified as /widget.js.
WIDGET_LOADER = _on_disk(_ASSETS / "widget" / "widget.js")
EXAMPLES_DIR = _on_disk(_ASSETS / "examples")
# The site `slotwise demo` applies.
DEMO_SITE_FILE = EXAMPLES_DIR / "harbour-physio.toml"
# gettext catalogs: <LOCALES_DIR>/<lang>/LC_MESSAGES/messages.po
LOCALES_DIR = _on_disk(files("slotwise") / "locales")
