"""The webhook rules: the retry schedule with its jitter, Retry-After, and which addresses may be called."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from slotwise.domain.webhooks import (
    ATTEMPTS,
    address_allowed,
    parse_retry_after,
    retry_delay,
    url_problem,
)

S, M, H = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("failed", "expected"), [
    (1, 5 * S), (2, 5 * M), (3, 30 * M), (4, 2 * H), (5, 5 * H), (6, 10 * H), (7, 14 * H), (8, 20 * H),
    (9, 24 * H),
])
def test_the_schedule_without_jitter(failed: int, expected: timedelta) -> None:
    assert retry_delay(failed, 0.0) == expected


def test_ten_attempts_in_all_then_the_schedule_is_over() -> None:
    assert ATTEMPTS == 10
    assert retry_delay(10, 0.0) is None
    assert retry_delay(11, 0.5) is None


def test_the_whole_schedule_spans_about_three_days() -> None:
    total = sum((retry_delay(n, 0.0) for n in range(1, ATTEMPTS)), timedelta())
    assert timedelta(days=3) < total < timedelta(days=3, hours=8)  # 75 h 35 min 5 s


@pytest.mark.parametrize("failed", range(1, ATTEMPTS))
@pytest.mark.parametrize("jitter", [-1.0, -0.37, 0.0, 0.5, 1.0, 7.0, -7.0])
def test_jitter_moves_a_delay_by_at_most_ten_percent(failed: int, jitter: float) -> None:
    base = retry_delay(failed, 0.0)
    assert abs(retry_delay(failed, jitter) - base) <= base * 0.1


def test_jitter_does_move_the_delay() -> None:
    assert retry_delay(3, 1.0) == 33 * M and retry_delay(3, -1.0) == 27 * M


def test_retry_after_is_a_floor_never_a_shortcut() -> None:
    assert retry_delay(1, 0.0, retry_after=60 * S) == 60 * S  # schedule says 5 s: wait the minute asked
    assert retry_delay(3, 0.0, retry_after=60 * S) == 30 * M  # schedule is longer: keep it


def test_retry_after_is_capped_at_a_day() -> None:
    assert retry_delay(1, 0.0, retry_after=timedelta(days=30)) == 24 * H


@pytest.mark.parametrize(("header", "expected"), [
    ("120", 120 * S), (" 7 ", 7 * S), ("Tue, 01 Dec 2026 12:05:00 GMT", 5 * M),
    ("Tue, 01 Dec 2026 11:00:00 GMT", timedelta(0)), (None, None), ("", None), ("soon", None), ("-5", None),
])
def test_retry_after_as_seconds_or_an_http_date(header: str | None, expected: timedelta | None) -> None:
    assert parse_retry_after(header, NOW) == expected


@pytest.mark.parametrize(("address", "public"), [
    ("93.184.216.34", True), ("2606:2800:220:1:248:1893:25c8:1946", True), ("8.8.8.8", True),
    ("127.0.0.1", False), ("127.8.9.10", False), ("::1", False), ("10.1.2.3", False), ("172.16.0.1", False),
    ("192.168.1.1", False), ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False),
    ("::", False), ("fc00::1", False), ("fe80::1", False), ("224.0.0.1", False), ("240.0.0.1", False),
    ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False), ("::ffff:93.184.216.34", True),
    ("not an address", False),
])
def test_only_public_unicast_addresses_are_called(address: str, public: bool) -> None:
    assert address_allowed(address, allow_private=False) is public


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.1.2.3", "192.168.1.1", "fe80::1"])
def test_the_flag_allows_private_and_loopback(address: str) -> None:
    assert address_allowed(address, allow_private=True)


@pytest.mark.parametrize("address", ["0.0.0.0", "224.0.0.1", "::"])
def test_not_even_the_flag_allows_unspecified_or_multicast(address: str) -> None:
    assert not address_allowed(address, allow_private=True)


@pytest.mark.parametrize(("url", "problem"), [
    ("https://hooks.example.com/slotwise", None),
    ("http://hooks.example.com:8080/x?y=1", None),
    ("ftp://hooks.example.com/", "webhook-url-invalid"),
    ("https://user:pw@hooks.example.com/", "webhook-url-invalid"),
    ("https:///nohost", "webhook-url-invalid"),
    ("https://hooks.example.com:99999/", "webhook-url-invalid"),
    ("https://hooks.example.com/a b", "webhook-url-invalid"),
    ("https://" + "a" * 2000 + ".com/", "webhook-url-invalid"),
    ("http://127.0.0.1:9000/hooks", "webhook-url-private"),
    ("http://[::1]/hooks", "webhook-url-private"),
    ("http://169.254.169.254/latest/meta-data", "webhook-url-private"),
    ("http://localhost:8000/", "webhook-url-private"),
    ("http://api.localhost/", "webhook-url-private"),
])
def test_endpoint_urls_as_written(url: str, problem: str | None) -> None:
    assert url_problem(url, allow_private=False) == problem


def test_the_flag_allows_loopback_urls() -> None:
    assert url_problem("http://127.0.0.1:9000/hooks", allow_private=True) is None
    assert url_problem("http://localhost:9000/hooks", allow_private=True) is None


@pytest.mark.parametrize("url", ["https://hooks.example/\x00", "https://hooks.example/\x1b[31m", "https://hooks.example/\x85"])
def test_control_characters_make_a_url_invalid(url: str) -> None:
    assert url_problem(url, allow_private=True) == "webhook-url-invalid"
