"""Whose quota a request counts against: X-Forwarded-For is believed only from a trusted proxy."""

from __future__ import annotations

import pytest

from slotwise.web.clients import client_address

PROXY = ["10.0.0.0/8", "127.0.0.1/32"]


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "client"), [
    ("203.0.113.7", None, PROXY, "203.0.113.7"),
    # Anyone may write the header: from an untrusted peer it changes nothing.
    ("203.0.113.7", "198.51.100.1", PROXY, "203.0.113.7"),
    ("127.0.0.1", "198.51.100.1", [], "127.0.0.1"),
    # Through our proxy: the client it names; through two of ours: still the client.
    ("127.0.0.1", "198.51.100.1", PROXY, "198.51.100.1"),
    ("127.0.0.1", "198.51.100.1, 10.1.2.3", PROXY, "198.51.100.1"),
    # A client that forged a first entry: the proxy's own entry for it counts.
    ("127.0.0.1", "1.2.3.4, 198.51.100.1", PROXY, "198.51.100.1"),
    # An IPv6 client counts as its /64 (privacy addresses change within it); IPv4 per address.
    ("127.0.0.1", "2001:db8::1", PROXY, "2001:db8::/64"),
    ("127.0.0.1", "2001:db8::abcd:1234:5678:9abc", PROXY, "2001:db8::/64"),
    ("2001:db8:0:1::7", None, PROXY, "2001:db8:0:1::/64"),
    ("::ffff:203.0.113.7", None, PROXY, "203.0.113.7"),
    ("127.0.0.1", "not-an-address", PROXY, "127.0.0.1"),
    ("127.0.0.1", "10.9.9.9", PROXY, "127.0.0.1"),  # nothing but our proxies
])
def test_the_client_is_the_last_address_not_ours(peer, forwarded, trusted, client) -> None:
    assert client_address(peer, forwarded, trusted) == client
