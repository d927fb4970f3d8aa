"""The site file: one TOML file that describes one business.

``parse_site(text, source=...)`` turns the text into a :class:`SiteSpec`, a tree
of frozen, plain-data objects; ``load_site_file(path)`` reads the file first.
Nothing else here does I/O: no database, no clock, no environment.

Validation runs in two passes and reports every problem it finds:

1. Structure and values, one table at a time, with pydantic models in strict
   mode that reject unknown keys. Times, dates, durations, prices, origins and
   the like are parsed by the small functions below, which raise
   plain-English errors.
2. Checks across tables: keys that must be unique, resource keys a service
   names, and the shape of a service's resource groups.

Every problem is a :class:`Problem` whose ``path`` follows the shape of the
TOML with 0-based indices (``services[2].duration``,
``resources[1].hours.mon[0]``). When the problem lies inside a resource,
service or question whose key is readable, ``subject`` names it, and the
problem prints as::

    services[2].duration (service "assessment"): must be a multiple of 5 minutes, got 47

The full schema is in ``docs/site-file.md``; ``examples/harbour-physio.toml``
is an annotated example.

Modules: ``schema`` (the spec objects), ``values`` (the value parsers and the
file's own limits), ``parsing`` (TOML, both passes; ``parse_resource``/``parse_service`` check one table on its own, for the
admin API), ``structure`` (pass 1: the tables' pydantic models), ``report`` (problems and their
wording), ``templates`` (message templates' names and syntax), ``writing`` (specs back to
tables), ``jsonschema`` (the tables as JSON Schema, generated from the models, for the API's OpenAPI document),
``errors`` (Problem, SiteFileError). Limits the rest of the system relies on (the 5-minute grid,
the longest service, seats, reminders) live in :mod:`slotwise.domain.limits`.
"""

from slotwise.sitefile.errors import Problem, SiteFileError
from slotwise.sitefile.parsing import (
    load_site_file,
    parse_resource,
    parse_service,
    parse_site,
    parse_site_data,
)
from slotwise.sitefile.schema import (
    Locale,
    PhoneMode,
    ResourceSpec,
    ServiceSpec,
    SiteSpec,
)

__all__ = [
    "Locale",
    "PhoneMode",
    "Problem",
    "ResourceSpec",
    "ServiceSpec",
    "SiteFileError",
    "SiteSpec",
    "load_site_file",
    "parse_resource",
    "parse_service",
    "parse_site",
    "parse_site_data",
    "parse_site_data",
]
