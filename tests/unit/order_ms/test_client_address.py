"""Unit tests for the client address behind proxies: X-Forwarded-For is believed only from trusted peers."""
import pytest
from flask import Flask

from services.order_ms.client_address import TrustedProxyFix, client_address


def address_seen(peer: str, forwarded_for: str | None = None, hops: int = 1, allowed: str = "127.0.0.1") -> str:
    app = Flask(__name__)
    app.add_url_rule("/", "client", lambda: client_address())
    app.wsgi_app = TrustedProxyFix(app.wsgi_app, hops, allowed)
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    return app.test_client().get("/", headers=headers, environ_base={"REMOTE_ADDR": peer}).text


def test_without_a_proxy_header_the_peer_is_the_client():
    assert address_seen("198.51.100.4") == "198.51.100.4"


def test_a_trusted_proxy_names_the_client():
    assert address_seen("127.0.0.1", "203.0.113.9") == "203.0.113.9"


def test_entries_a_client_wrote_itself_before_the_proxys_are_ignored():
    # nginx appends the address it saw; anything to its left came from the client and may be forged.
    assert address_seen("127.0.0.1", "6.6.6.6, 203.0.113.9") == "203.0.113.9"
    assert address_seen("127.0.0.1", "6.6.6.6, 203.0.113.9", hops=2) == "6.6.6.6"


def test_an_untrusted_peer_cannot_choose_its_address():
    assert address_seen("192.0.2.50", "203.0.113.9") == "192.0.2.50"


@pytest.mark.parametrize("allowed", ["10.0.0.0/8", "*", "127.0.0.1, 10.1.2.3"])
def test_trusted_proxies_are_addresses_networks_or_everyone(allowed):
    assert address_seen("10.1.2.3", "203.0.113.9", allowed=allowed) == "203.0.113.9"


def test_zero_hops_ignores_the_header_even_from_a_trusted_peer():
    assert address_seen("127.0.0.1", "203.0.113.9", hops=0) == "127.0.0.1"


def test_a_header_that_is_not_an_address_falls_back_to_the_peer():
    assert address_seen("127.0.0.1", "<script>") == "127.0.0.1"


def test_ipv6_clients_count_per_64_network_and_mapped_ipv4_as_ipv4():
    assert address_seen("127.0.0.1", "2001:db8::1") == address_seen("127.0.0.1", "2001:db8::2") == "2001:db8::/64"
    assert address_seen("127.0.0.1", "2001:db8:0:1::1") == "2001:db8:0:1::/64"
    assert address_seen("127.0.0.1", "::ffff:203.0.113.9") == "203.0.113.9"
