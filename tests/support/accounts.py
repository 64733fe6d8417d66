"""Customers for the integration tests, each from a client address of its own, so the stack keeps its limits.

The stack runs with the production sign-up limit (SIGNUP_MAX_PER_CLIENT, 20 per client in 10 minutes), and
the integration tests sign up far more customers than that. Each sign-up here leaves from a fresh address in
127.0.0.0/8 (Linux routes the whole block to the loopback interface): the ingress passes that address on as
the client, as it would for as many real customers, and the acceptance suite's own address keeps its budget.

A customer is made as the acceptance suite makes one (tests/acceptance/uat/flows.py, which stays inside
tests/acceptance because the suite's image holds nothing else)."""
from __future__ import annotations

import random

import requests

from tests.acceptance.uat.client import Api, SourceAddressAdapter
from tests.acceptance.uat.flows import Account, new_user_id, sign_up

_random = random.SystemRandom()


def new_client_address() -> str:
    """An address of 127.0.0.0/8 other than 127.0.0.1 (the runner's usual one)."""
    return f"127.{_random.randint(1, 254)}.{_random.randint(0, 255)}.{_random.randint(1, 254)}"


def new_customer(base_url: str, prefix: str = "cust") -> Account:
    """A fresh customer, signed up and logged in from a fresh address: its user_id, password, token and headers."""
    api = Api(base_url, source_address=new_client_address())
    try:
        return sign_up(api, new_user_id(prefix))
    finally:
        api.close()


def post_sign_up(base_url: str, user_id: str, password: str, address: str | None = None) -> requests.Response:
    """POST /order-ms/users from `address`, or from a fresh one, for tests about the sign-up's own answer."""
    with requests.Session() as session:
        session.mount("http://", SourceAddressAdapter(address or new_client_address()))
        return session.post(f"{base_url}/order-ms/users", json={"user_id": user_id, "password": password},
                            timeout=10)
