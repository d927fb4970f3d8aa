"""Custom fields (``metadata``): an owner's or integrator's own keys on a resource,
a service or a booking. Never shown to customers.

A mapping of keys to a string, a number or a boolean. The limits keep one
object's metadata a small, flat record a program can rely on (Stripe's
metadata has nearly the same shape: 50 keys, 40-character keys, 500-character
values): nested values, lists and null are refused rather than guessed at.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

MAX_KEYS = 50
MAX_KEY_LENGTH = 40
MAX_STRING_LENGTH = 500
# Lower-case letter first, then letters, digits and "_": a key is an identifier
# in any integrating language and in a CSV header.
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]*")

Metadata = Mapping[str, str | int | float | bool]


def metadata_problems(value: Any) -> list[tuple[str | None, str, dict[str, Any]]]:
    """What is wrong with ``value`` as metadata: (key or None for the whole, code, params).

    Codes: ``object-expected`` (not a mapping), ``metadata-too-many`` (more
    than ``limit`` keys), ``metadata-key`` (a key that is not 1..40 of
    ``[a-z0-9_]`` starting with a letter), ``metadata-value`` (not a string,
    a finite number or a boolean), ``text-too-long`` (a string over 500).
    """
    if not isinstance(value, Mapping):
        return [(None, "object-expected", {})]
    problems: list[tuple[str | None, str, dict[str, Any]]] = []
    if len(value) > MAX_KEYS:
        problems.append((None, "metadata-too-many", {"limit": MAX_KEYS}))
    for key, item in value.items():
        if not (isinstance(key, str) and KEY_PATTERN.fullmatch(key) and len(key) <= MAX_KEY_LENGTH):
            problems.append((str(key), "metadata-key", {"limit": MAX_KEY_LENGTH}))
        elif isinstance(item, str):
            if len(item) > MAX_STRING_LENGTH:
                problems.append((key, "text-too-long", {"limit": MAX_STRING_LENGTH}))
        elif isinstance(item, bool):
            pass
        elif isinstance(item, int | float):
            if isinstance(item, float) and not math.isfinite(item):
                problems.append((key, "metadata-value", {}))
        else:
            problems.append((key, "metadata-value", {}))
    return problems


METADATA_MESSAGES = {
    "object-expected": "must be a table of keys and values",
    "metadata-too-many": f"may have at most {MAX_KEYS} keys",
    "metadata-key": (f"keys must be 1 to {MAX_KEY_LENGTH} lower-case letters, digits and _, "
                     "starting with a letter"),
    "metadata-value": "must be text, a number or true/false",
    "text-too-long": f"must be text of at most {MAX_STRING_LENGTH} characters",
}
