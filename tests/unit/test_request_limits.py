"""How deep a JSON body nests, counted without decoding it."""

from __future__ import annotations

import pytest

from slotwise.web.request_limits import nested_deeper_than


@pytest.mark.parametrize(("body", "limit", "deeper"), [
    (b"{}", 1, False),
    (b'{"a": [1, {"b": 2}]}', 3, False),
    (b'{"a": [1, {"b": 2}]}', 2, True),
    (b"[" * 33, 32, True),
    (b"[" * 32 + b"]" * 32, 32, False),
    (b'{"name": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', 2, False),  # inside a string
    (b'{"name": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', 2, False),  # after an escaped quote
    (b"[[]]" * 40, 2, False),  # many, but side by side
])
def test_nesting_is_counted_outside_strings(body: bytes, limit: int, deeper: bool) -> None:
    assert nested_deeper_than(body, limit) is deeper
