"""Typed JSON request bodies: declared once, checked and documented from that one declaration.

A route takes a typed body by annotating its ``data`` parameter with a
subclass of :class:`Body` (a strict pydantic model that refuses unknown
fields). The :class:`TypedBodies` plugin gives every such route the
:class:`CheckedBody` DTO, which

- decodes and checks the body with the model: every problem at once, each
  turned into a :class:`FieldProblem` with this API's codes and field paths
  (``customer.email``), raised as :class:`InvalidInput` (a 422 from
  ``web/problems.py``);
- documents it in the OpenAPI document with the model's own JSON Schema,
  examples included.

So a field's name, type, limit, description and example are written once, in
the model, and what the document promises is what the route checks. Checks
that need the database or the site (is this service bookable, which questions
must be answered) stay in the services.

Bodies that are site-file tables (a resource, a service, a whole site) are
already checked by ``slotwise.sitefile`` with its own messages and paths
(``hours.mon[0]``); their routes annotate ``data`` with
``SiteFileBody[...]`` naming the site file's model, receive the decoded
object unchanged, and the document shows that model's JSON Schema.

Declaring a typed body::

    class CancelIn(Body):
        model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Ill"}]})
        reason: Annotated[str | None, Field(max_length=500)] = None

    @post("/cancel")
    async def cancel(self, data: CancelIn | None = None) -> ...:   # None: no body sent
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar

import msgspec
from litestar.dto import AbstractDTO
from litestar.dto.data_structures import DTOFieldDefinition
from litestar.openapi.spec import Operation, Schema
from litestar.plugins import SerializationPlugin
from litestar.typing import FieldDefinition
from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError

from slotwise.domain.limits import CALENDAR_BOUNDS, within_calendar
from slotwise.services.catalog import table_schemas
from slotwise.services.errors import PROBLEM_TEXTS, FieldProblem, InvalidInput
from slotwise.web.problems import problem
from slotwise.web.request_limits import media_type


class Body(BaseModel):
    """Base of every typed JSON body: strict types, unknown fields refused, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# --- field types shared by bodies --------------------------------------------------------


def _instant(value: Any) -> datetime:
    """An ISO-8601 instant with an offset; a bare local time is ambiguous and refused."""
    if not isinstance(value, str) or not value:
        raise PydanticCustomError("required", "required")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("instant-expected", "instant-expected", {"value": repr(value)}) from None
    if parsed.tzinfo is None:
        raise PydanticCustomError("offset-missing", "offset-missing")
    if not within_calendar(parsed):
        raise PydanticCustomError("out-of-calendar", "out-of-calendar", dict(CALENDAR_BOUNDS))
    return parsed


Instant = Annotated[
    datetime,
    PlainValidator(_instant),
    WithJsonSchema({"type": "string", "format": "date-time",
                    "description": "ISO-8601 with a UTC offset, e.g. 2026-12-01T09:00:00+01:00"}),
]


def service_checked(schema: dict[str, Any]) -> Any:
    """A field whose value the service checks itself (its codes, its paths), for a body that a
    service reads as JSON and checks as a whole: the model lets any JSON value through and the
    document shows ``schema``, what the service accepts. Used with :func:`checked_by_service`."""
    return Annotated[Any, WithJsonSchema(schema)]


def checked_by_service(*, required: tuple[str, ...] = (), examples: list[dict[str, Any]] | None = None,
                       description: str | None = None) -> ConfigDict:
    """``model_config`` of a body whose service checks all of it, every problem at once (unknown
    fields too): the model takes any JSON object (its fields are :func:`service_checked`), and
    the document says what the service accepts: ``required``, no other fields, ``examples``.

    The model's Python defaults are only for the document (the handler passes the service
    ``data.model_dump(exclude_unset=True)``: what was sent, nothing added).
    """

    def document(schema: dict[str, Any]) -> None:
        schema["additionalProperties"] = False
        for field in schema.get("properties", {}).values():
            if "default" in field and field["default"] is None:
                del field["default"]
        if required:
            schema["required"] = list(required)
        if examples:
            schema["examples"] = examples
        if description:
            schema["description"] = description

    return ConfigDict(extra="allow", json_schema_extra=document)


# --- problems ----------------------------------------------------------------------------


def _path(loc: tuple[int | str, ...]) -> str:
    """``("customer", "email")`` → ``customer.email``; ``("items", 0, "key")`` → ``items[0].key``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


# pydantic's error types → this API's problem codes (services/errors.PROBLEM_TEXTS).
_CODES: dict[str, Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]] = {
    "missing": lambda ctx: ("required", {}),
    "extra_forbidden": lambda ctx: ("field-unknown", {}),
    "string_type": lambda ctx: ("string-expected", {}),
    "string_too_short": lambda ctx: ("required", {}),
    "string_too_long": lambda ctx: ("text-too-long", {"limit": ctx.get("max_length")}),
    "bool_type": lambda ctx: ("boolean-expected", {}),
    "dict_type": lambda ctx: ("object-expected", {}),
    "model_type": lambda ctx: ("object-expected", {}),
    "model_attributes_type": lambda ctx: ("object-expected", {}),
    "literal_error": lambda ctx: ("choice-unknown", {"choices": ctx.get("expected", "")}),
}


def field_problems(error: ValidationError) -> list[FieldProblem]:
    """Every problem pydantic found, with its path and this API's code (one per field)."""
    problems: dict[str, FieldProblem] = {}
    members: dict[str, list[str]] = {}
    for item in error.errors(include_url=False):
        kind, ctx = item["type"], dict(item.get("ctx") or {})
        loc = tuple(item["loc"])
        if loc and isinstance(loc[-1], str) and loc[-1] in _UNION_MEMBERS:
            # One member of a union failed (``answers.x`` is neither text, nor a number, ...).
            name = _path(loc[:-1])
            members.setdefault(name, []).append(_UNION_MEMBERS[loc[-1]])
            continue
        name = _path(loc)
        if kind in PROBLEM_TEXTS:
            found = FieldProblem(name, kind, ctx)
        elif kind in _CODES:
            code, params = _CODES[kind](ctx)
            found = FieldProblem(name, code, params)
        else:
            found = FieldProblem(name, "value-invalid", {"message": item["msg"]})
        problems.setdefault(name, found)
    for name, expected in members.items():
        problems.setdefault(name, FieldProblem(name, "value-invalid",
                                               {"message": "expected " + " or ".join(dict.fromkeys(expected))}))
    return list(problems.values())


_UNION_MEMBERS = {"str": "text", "int": "a number", "float": "a number", "bool": "true or false",
                  "none": "null"}


def checked(model: type[Body], body: bytes | dict[str, Any]) -> Body:
    """``body`` (JSON text, or already decoded) as ``model``, or :class:`InvalidInput` naming every problem."""
    try:
        if isinstance(body, bytes):
            return model.model_validate_json(body)
        return model.model_validate(body)
    except ValidationError as error:
        if any(item["type"] == "json_invalid" for item in error.errors()):
            raise malformed("The body is not valid JSON.") from None
        raise InvalidInput(field_problems(error)) from None


def malformed(detail: str):
    return problem(400, "malformed-body", "The body cannot be read", detail)


# --- site-file bodies --------------------------------------------------------------------


class SiteFileBody:
    """``Annotated[dict[str, Any], SiteFileBody(schema)]``: a body the site file's parser checks.

    ``schema`` returns the JSON Schema of what the parser accepts (from the
    site file's own models); ``toml`` also takes ``application/toml``.
    """

    def __init__(self, schema: Callable[[], dict[str, Any]], *, toml: bool = False) -> None:
        self.schema = schema
        self.toml = toml


def decode_document(raw: bytes, content_type: str | None, *, toml: bool) -> dict[str, Any]:
    """A JSON (or, where allowed, TOML) object; anything else is a 400 or a 422."""
    if toml and media_type(content_type) == "application/toml":
        try:
            data: Any = tomllib.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise InvalidInput([FieldProblem("document", "site-file-rule", {"message": str(error)})]) from None
    else:
        try:
            data = msgspec.json.decode(raw)  # as Litestar reads JSON elsewhere
        except msgspec.DecodeError:
            raise malformed("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise InvalidInput([FieldProblem("body", "object-expected")])
    return data


# --- the DTO and the plugin --------------------------------------------------------------


@dataclass
class JsonSchema(Schema):
    """An OpenAPI schema given as JSON Schema (OpenAPI 3.1 uses JSON Schema itself)."""

    raw: dict[str, Any] | None = None

    def to_schema(self) -> dict[str, Any]:
        return self.raw or {}


def body_schema(model: type[Body]) -> dict[str, Any]:
    return table_schemas.inline_defs(model.model_json_schema(mode="validation"))


class CheckedBody(AbstractDTO[Any]):
    """Decodes a typed body (``model``) or a site-file body (``site_file``), and documents it."""

    model: ClassVar[type[Body] | None] = None
    site_file: ClassVar[SiteFileBody | None] = None

    @classmethod
    def generate_field_definitions(cls, model_type: type[Any]) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()  # no transfer model: the body's model does the work

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False

    @classmethod
    def create_for_field_definition(cls, field_definition: FieldDefinition, handler_id: str,
                                    backend_cls: Any = None) -> None:
        return None

    @classmethod
    def create_openapi_schema(cls, field_definition: FieldDefinition, handler_id: str,
                              schema_creator: Any) -> Schema:
        raw = body_schema(cls.model) if cls.model else cls.site_file.schema()  # type: ignore[union-attr]
        return JsonSchema(raw=raw)

    def decode_bytes(self, value: bytes) -> Any:
        if self.model is not None:
            return checked(self.model, value)
        assert self.site_file is not None
        return decode_document(value, self.asgi_connection.headers.get("content-type"),
                               toml=self.site_file.toml)

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        return checked(self.model, value) if self.model is not None else value


def _body_model(field: FieldDefinition) -> type[Body] | None:
    for candidate in (field, *(FieldDefinition.from_annotation(arg) for arg in field.args if field.is_optional)):
        if isinstance(candidate.annotation, type) and issubclass(candidate.annotation, Body):
            return candidate.annotation
    return None


class TypedBodies(SerializationPlugin):
    """Gives every route whose ``data`` is a :class:`Body` (or a ``SiteFileBody``) the :class:`CheckedBody` DTO."""

    def supports_type(self, field_definition: FieldDefinition) -> bool:
        return field_definition.name == "data" and (
            _body_model(field_definition) is not None or field_definition.has_metadata(SiteFileBody))

    def create_dto_for_type(self, field_definition: FieldDefinition) -> type[AbstractDTO]:
        model = _body_model(field_definition)
        site_file = field_definition.get_from_metadata(SiteFileBody)
        name = model.__name__ if model else "SiteFileBody"
        return type(f"CheckedBody[{name}]", (CheckedBody,), {"model": model, "site_file": site_file,
                                                            "model_type": Any})


def answered_as(schema: Callable[[], dict[str, Any]], *, status: str = "200",
                toml: bool = False) -> type[Operation]:
    """An ``operation_class`` documenting a route's answer with ``schema`` (JSON Schema), for a
    route that answers a plain ``Response`` whose content Litestar cannot see (the site document)."""

    @dataclass
    class Answered(Operation):
        def to_schema(self) -> dict[str, Any]:
            document = super().to_schema()
            content = {"application/json": {"schema": schema()}}
            if toml:
                content["application/toml"] = {"schema": {"type": "string", "description": "the same as a site file"}}
            document.setdefault("responses", {}).setdefault(status, {"description": "OK"})["content"] = content
            return document

    return Answered


@dataclass
class OptionalBody(Operation):
    """``operation_class`` for a route whose body may be left out (``data: JSONBody[X | None] = None``)."""

    def to_schema(self) -> dict[str, Any]:
        document = super().to_schema()
        if "requestBody" in document:
            document["requestBody"]["required"] = False
        return document
