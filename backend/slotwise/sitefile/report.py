"""Problems of a site file: their paths, subjects and plain-English messages.

Pass 1 (``structure.py``) reports pydantic's errors through :class:`Report`,
which turns each into a :class:`~slotwise.sitefile.errors.Problem` a person can
act on; pass 2 (``parsing.py``) adds its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar, get_args

from pydantic import (
    BaseModel,
    ValidationError,
)

from slotwise.sitefile.errors import Problem
from slotwise.sitefile.values import (
    _did_you_mean,
    _show,
)
from slotwise.sitefile.structure import RawFile


Loc = tuple[str | int, ...]
_M = TypeVar("_M", bound=BaseModel)

_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")

# Tables whose items are named in a problem's subject: (array path) -> (what, key field).
_SUBJECTS: dict[tuple[str, ...], tuple[str, str]] = {
    ("resources",): ("resource", "key"),
    ("services",): ("service", "slug"),
    ("services", "questions"): ("question", "key"),
}

_TYPE_MESSAGES = {
    "string_type": "must be text in quotes",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
}

# Messages for the top level, where the fix is a different TOML construct.
_TOP_LEVEL_MESSAGES = {
    ("site", "missing"): "is required: start the file with a [site] table",
    ("site", "dict_type"): "must be a table: write [site] and its keys below it",
    ("resources", "list_type"): "must be an array of tables: write [[resources]] before each one",
    ("services", "list_type"): "must be an array of tables: write [[services]] before each one",
}


def format_path(loc: Loc) -> str:
    """("services", 2, "duration") -> "services[2].duration"."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            key = part if _BARE_KEY_RE.fullmatch(part) else _show(part)
            path += f".{key}" if path else key
    return path


class Report:
    """Collects problems while walking one parsed TOML document."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.problems: list[Problem] = []

    def add(self, loc: Loc, message: str) -> None:
        self.problems.append(Problem(format_path(loc), message, self._subject(loc)))

    def validate(self, model: type[_M], value: Any, loc: Loc) -> _M | None:
        """Validate one table; report its errors under ``loc``; None if invalid."""
        try:
            return model.model_validate(value)
        except ValidationError as error:
            for detail in error.errors(include_url=False):
                where = tuple(part for part in detail["loc"] if part != "[key]")
                context = detail.get("ctx") or {}
                if detail["type"] == "sitefile" and "at" in context:
                    where = (*where, context["at"])
                self.add((*loc, *where), _message(detail, model, where))
            return None

    def _subject(self, loc: Loc) -> str | None:
        """Name the keyed items the path runs through: 'service "x", question "y"'.

        An item is not named in a problem about its own key field (the message
        already shows the value).
        """
        names: list[str] = []
        arrays: list[str] = []
        node: Any = self.data
        for position, part in enumerate(loc):
            if isinstance(part, str):
                arrays.append(part)
                node = node.get(part) if isinstance(node, dict) else None
                continue
            if not (isinstance(node, list) and 0 <= part < len(node)):
                break
            node = node[part]
            what, key_field = _SUBJECTS.get(tuple(arrays), (None, ""))
            key = node.get(key_field) if isinstance(node, dict) else None
            if what and isinstance(key, str) and key and loc[position + 1 :] != (key_field,):
                names.append(f"{what} {_show(key)}")
        return ", ".join(names) or None


def _message(detail: Mapping[str, Any], model: type[BaseModel], where: Loc) -> str:
    """A pydantic error detail as a plain-English message."""
    kind = detail["type"]
    if kind == "sitefile":
        return detail["ctx"]["reason"]
    if len(where) == 1 and (where[0], kind) in _TOP_LEVEL_MESSAGES and model is RawFile:
        return _TOP_LEVEL_MESSAGES[where[0], kind]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        key = str(where[-1])
        allowed = _keys_at(model, where[:-1])
        hint = _did_you_mean(key, allowed) or (
            f"; expected one of: {', '.join(allowed)}" if allowed else ""
        )
        return f"unknown key{hint}"
    if kind in _TYPE_MESSAGES:
        return f"{_TYPE_MESSAGES[kind]}, got {_show(detail.get('input'))}"
    return str(detail["msg"]).replace("Input should be", "must be")


def _keys_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys allowed in the table at ``loc`` inside ``model`` (for hints)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            continue
        info = current.model_fields.get(part) if current else None
        current = _model_in(info.annotation) if info else None
    return list(current.model_fields) if current else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class inside an annotation such as ``list[RawQuestion] | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _model_in(argument)
        if found:
            return found
    return None

