"""What a site file (or the admin API's JSON in its terms) may hold, as JSON Schema.

Generated from the very pydantic models that check a file (``parsing``), so
the OpenAPI document of the admin API describes exactly the tables those
routes accept: one declaration per field. The cross-table rules (unique keys,
resource keys a service names) are not expressible here; the parser still
reports them, with the same paths.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from slotwise.sitefile.structure import RawResource, RawService, RawSite

RESOURCE_EXAMPLE = {"key": "mia", "name": "Mia Sommer", "kind": "person",
                    "hours": {"mon": ["09:00-13:00"], "wed": ["09:00-13:00", "14:00-18:00"]},
                    "closed": ["2026-12-24..2027-01-01"]}
SERVICE_EXAMPLE = {"slug": "massage", "name": "Massage", "description": "A relaxing hour.", "duration": "1h",
                   "buffer_after": 10, "min_notice": "2h", "price": "70.00 EUR", "phone": "optional",
                   "questions": [{"key": "notes", "label": "Anything we should know?", "type": "textarea"}],
                   "resources": [["anna", "ben"], ["room-1", "room-2"]]}
DOCUMENT_EXAMPLE = {
    "site": {"slug": "harbour-physio", "name": "Harbour Physio", "timezone": "Europe/Berlin", "locale": "de",
             "notify_email": "team@harbour-physio.example",
             "hours": {day: ["08:00-12:30", "13:30-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}},
    "resources": [{"key": "anna", "name": "Anna Berg", "kind": "person"},
                  {"key": "room-1", "name": "Behandlungsraum 1", "kind": "room"}],
    "services": [{"slug": "follow-up", "name": "Folgebehandlung", "duration": 30, "price": "45.00 EUR",
                  "resources": [["anna"], ["room-1"]]}],
}


def inline_defs(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON Schema with its ``$defs`` inlined (no model here is recursive) and
    the private models' titles dropped."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve({**defs[ref.removeprefix("#/$defs/")],
                                **{k: v for k, v in node.items() if k != "$ref"}})
            return {key: resolve(value) for key, value in node.items()
                    if not (key == "title" and isinstance(value, str) and value.startswith("_"))}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


def _table(model: type[BaseModel]) -> dict[str, Any]:
    return inline_defs(model.model_json_schema(mode="validation"))


def _partial(schema: dict[str, Any], **extra: dict[str, Any]) -> dict[str, Any]:
    """A PATCH body: any of the table's fields (``null`` puts back a field's default), and its ``id``."""
    return {**{k: v for k, v in schema.items() if k != "required"},
            "properties": {"id": {"type": "string", "description": "may be sent back unchanged"},
                           **schema["properties"], **extra}}


def resource_schema() -> dict[str, Any]:
    """A ``[[resources]]`` table."""
    return {**_table(RawResource), "title": "Resource", "examples": [RESOURCE_EXAMPLE]}


def service_schema() -> dict[str, Any]:
    """A ``[[services]]`` table."""
    return {**_table(RawService), "title": "Service", "examples": [SERVICE_EXAMPLE]}


def resource_patch_schema() -> dict[str, Any]:
    return {**_partial(resource_schema(), active={"type": "boolean",
                                                  "description": "false retires, true brings back"}),
            "title": "ResourcePatch", "examples": [{"name": "Anna Berg-Sommer", "closed": ["2027-02-15"]}]}


def service_patch_schema() -> dict[str, Any]:
    return {**_partial(service_schema()), "title": "ServicePatch",
            "examples": [{"price": "50.00 EUR", "min_notice": "4h"}]}


def document_schema() -> dict[str, Any]:
    """A whole site file: ``site``, ``resources``, ``services`` and ``templates``."""
    return {
        "title": "SiteDocument", "type": "object", "additionalProperties": False, "required": ["site"],
        "properties": {
            "site": {**_table(RawSite), "title": "Site"},
            "resources": {"type": "array", "items": _table(RawResource)},
            "services": {"type": "array", "items": _table(RawService)},
            "templates": {"type": "object", "description": "message templates: {email: {name: text}, "
                                                           "sms: {name: text}} (docs/messages.md)"},
        },
        "examples": [DOCUMENT_EXAMPLE],
    }
