"""Web origins: one reading for the site file, the page's host parameter and our headers."""

from __future__ import annotations

import pytest
from slotwise.domain.origins import OriginError, is_origin, normalize_origin, origin_of


@pytest.mark.parametrize(("written", "origin"), [
    ("HTTPS://Example.COM:443/", "https://example.com"),
    ("http://localhost:8000", "http://localhost:8000"),
    ("https://bücher.example", "https://xn--bcher-kva.example"),
    ("http://[::1]:8080", "http://[::1]:8080"),
])
def test_written_origins_become_what_browsers_send(written: str, origin: str) -> None:
    assert normalize_origin(written) == origin
    assert is_origin(origin)


@pytest.mark.parametrize(("written", "reason"), [
    ("example.com", "must be an origin like"),
    ("https://example.com/book", "has a path"),
    ("https://user:pw@example.com", "user name or password"),
    ("https://*.example.com", "wildcards are not supported"),
    ("http://localhost:99999", "must be an origin like"),
])
def test_anything_but_an_origin_is_refused_with_a_reason(written: str, reason: str) -> None:
    with pytest.raises(OriginError, match=reason.replace("(", r"\(")):
        normalize_origin(written)


@pytest.mark.parametrize("text", [
    "https://a.example; script-src *", "https://a.example/x", "'none'", "", None, "javascript:alert(1)",
])
def test_nothing_that_could_break_a_header_counts_as_an_origin(text) -> None:
    assert not is_origin(text)


def test_the_origin_of_a_url_drops_path_and_query() -> None:
    assert origin_of("https://book.example:8443/manage/abc?x=1#y") == "https://book.example:8443"
