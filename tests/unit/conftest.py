"""Fixtures for the in-process route tests (the Flask tutorial's way): each service's app factory called with the
production defaults, a test client, tokens for any caller, and the store replaced by an in-memory fake.

    def test_a_customer_lists_their_orders(order_client, order_store, token):
        order_store.create_order(None, "USER0001", ORDER, None, None)
        assert order_client.get("/order-ms/USER0001/orders", headers=token("USER0001")).json[0]["coffee_qty"] == 6

No MariaDB, broker or gunicorn: a route rule (problem answers and hints, who may do what, paging, which key
replays) goes red here in a second. What the SQL and the wiring do is proven by tests/integration."""
from __future__ import annotations

from dataclasses import replace

import pytest

from services import delivery_ms, order_ms
from services.delivery_ms.settings import load_settings as load_delivery_settings
from services.order_ms.settings import load_settings as load_order_settings
from services.platform.auth import ROLE_CUSTOMER, issue_token
from tests.unit.fake_stores import FakeDeliveryStore, FakeOrderStore


@pytest.fixture(scope="session")
def order_settings():
    return load_order_settings()


@pytest.fixture(scope="session")
def delivery_settings(order_settings):
    # Both services check the tokens order-ms issues, so they share its secret (as the stack and the chart do).
    return replace(load_delivery_settings(), jwt_secret=order_settings.jwt_secret)


@pytest.fixture
def order_store(monkeypatch) -> FakeOrderStore:
    fake = FakeOrderStore()
    fake.install(monkeypatch)
    return fake


@pytest.fixture
def delivery_store(monkeypatch) -> FakeDeliveryStore:
    fake = FakeDeliveryStore()
    fake.install(monkeypatch)
    return fake


# One app per service for the whole run (each takes a moment to build); the fake store is new for every test.
@pytest.fixture(scope="session")
def order_app(order_settings):
    app = order_ms.create_app(order_settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="session")
def delivery_app(delivery_settings):
    app = delivery_ms.create_app(delivery_settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def order_client(order_app, order_store):
    return order_app.test_client()


@pytest.fixture
def delivery_client(delivery_app, delivery_store):
    return delivery_app.test_client()


@pytest.fixture
def token(order_settings):
    """token(user_id, role="customer") -> the Authorization header of a valid token, as order-ms's login issues."""
    def headers(user_id: str, role: str = ROLE_CUSTOMER, ttl_seconds: int = 600) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(order_settings.jwt_secret, ttl_seconds, user_id, role)}"}
    return headers
