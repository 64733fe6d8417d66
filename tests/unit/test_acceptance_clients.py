"""The acceptance suite's other clients (tests/acceptance/uat/clients.py): which source addresses it hands out."""
import ipaddress

import pytest

from tests.acceptance.uat.clients import ClientAddresses, NoOtherClient


def test_a_local_deployment_gets_fresh_loopback_addresses_never_the_runners_own():
    addresses = ClientAddresses("http://127.0.0.1:8080", configured="")
    handed = [addresses.next() for _ in range(50)]
    assert addresses.available and len(set(handed)) == 50
    assert all(ipaddress.ip_address(a).is_loopback and a != "127.0.0.1" for a in handed)


def test_configured_addresses_are_used_in_order_and_then_run_out():
    addresses = ClientAddresses("http://ingress.example", configured="10.0.0.5, 10.0.0.6")
    assert addresses.available and [addresses.next(), addresses.next()] == ["10.0.0.5", "10.0.0.6"]
    with pytest.raises(NoOtherClient):
        addresses.next()


def test_a_remote_deployment_without_configured_addresses_has_no_other_client():
    addresses = ClientAddresses("http://203.0.113.7:80", configured="")
    assert not addresses.available
    with pytest.raises(NoOtherClient):
        addresses.next()
