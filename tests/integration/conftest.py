"""Fixtures for integration tests: the running test stack (real MariaDB, broker, gunicorn, nginx)."""
from __future__ import annotations

import pytest
import requests

from scripts.stack.state import StackState
from tests.acceptance.uat.flows import Account
from tests.support.accounts import new_customer
from tests.support.stack import load_state

DEMO_CUSTOMER = ("USER0001", "coffee-demo-1")
DEMO_STAFF = ("barista", "coffee-demo-staff")


@pytest.fixture(scope="session")
def stack() -> StackState:
    return load_state()


@pytest.fixture(scope="session")
def base_url(stack) -> str:
    """The local ingress (nginx)."""
    return stack.base_url


@pytest.fixture(scope="session")
def order_url(stack) -> str:
    """order-ms directly on its gunicorn port."""
    return stack.services["order-ms"]


@pytest.fixture(scope="session")
def delivery_url(stack) -> str:
    """delivery-ms directly on its gunicorn port."""
    return stack.services["delivery-ms"]


@pytest.fixture(scope="session")
def order_metrics_url(stack) -> str:
    """order-ms's /metrics, on its metrics port (its API port serves none), where Prometheus scrapes it."""
    return stack.metrics["order-ms"]


@pytest.fixture(scope="session")
def delivery_metrics_url(stack) -> str:
    """delivery-ms's /metrics, on its metrics port."""
    return stack.metrics["delivery-ms"]


@pytest.fixture(scope="session")
def kafka_servers(stack) -> str:
    return stack.env["KAFKA_BOOTSTRAP_SERVERS"]


@pytest.fixture
def order_db(stack):
    """order-ms's database (as the server's admin), for checking what order-ms wrote."""
    conn = stack.admin_connect(stack.databases["order_ms"].database)
    yield conn
    conn.close()


@pytest.fixture
def delivery_db(stack):
    """delivery-ms's database (as the server's admin), for checking what delivery-ms and its consumer wrote."""
    conn = stack.admin_connect(stack.databases["delivery_ms"].database)
    yield conn
    conn.close()


def login(base_url: str, user_id: str, password: str) -> str:
    response = requests.post(f"{base_url}/order-ms/login", json={"user_id": user_id, "password": password}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def customer(base_url) -> Account:
    """A fresh customer account with its token (`.user_id`, `.headers`)."""
    return new_customer(base_url)


@pytest.fixture(scope="session")
def staff_headers(base_url, stack) -> dict:
    """The staff account the stack made the operator's way (services/order_ms/staff.py), not a demo account."""
    return auth(login(base_url, stack.staff["user_id"], stack.staff["password"]))
