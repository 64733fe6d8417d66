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
from services.order_ms.token_signer import SIGNING_KEY
from services.platform.auth import ROLE_CUSTOMER, issue_token
from services.platform.token_keys import ensure_key_pair
from services.platform.token_versions import APP_CACHE
from tests.unit.fake_stores import FakeDeliveryStore, FakeOrderStore


@pytest.fixture
def spans():
    """Tracing on for one test (services/platform/tracing.py), every span kept in memory as it ends."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from services.platform import tracing

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    yield exporter
    tracing.uninstall()


@pytest.fixture(scope="session")
def token_key_files(tmp_path_factory):
    """(order-ms's private key file, the public key set every service verifies with), as the stack makes them."""
    return ensure_key_pair(tmp_path_factory.mktemp("token-keys"))


@pytest.fixture(scope="session")
def order_settings(token_key_files):
    signing_key, public_keys = token_key_files
    return replace(load_order_settings(), token_signing_key_file=str(signing_key),
                   token_public_keys_file=str(public_keys))


@pytest.fixture(scope="session")
def delivery_settings(token_key_files):
    # delivery-ms checks the tokens order-ms signs with the public key only (as the stack and the chart do).
    return replace(load_delivery_settings(), token_public_keys_file=str(token_key_files[1]))


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
    # Each test starts with its own fake store, so with nothing remembered of another test's accounts.
    order_app.extensions.pop(APP_CACHE, None)
    return order_app.test_client()


@pytest.fixture
def delivery_client(delivery_app, delivery_store):
    delivery_app.extensions.pop(APP_CACHE, None)
    return delivery_app.test_client()


@pytest.fixture
def token(order_app, order_store):
    """token(user_id, role="customer") -> the Authorization header of a valid token, as order-ms's login issues:
    the account is made in the fake store if it is not there, and the token carries its current version."""
    signer = order_app.config[SIGNING_KEY].current()

    def headers(user_id: str, role: str = ROLE_CUSTOMER, ttl_seconds: int = 600) -> dict[str, str]:
        version = order_store.account(user_id, role)["token_version"]
        return {"Authorization": f"Bearer {issue_token(signer, ttl_seconds, user_id, role, version)}"}
    return headers
