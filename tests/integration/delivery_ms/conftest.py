"""Fixtures and steps of delivery-ms's integration tests: customers, their orders and deliveries in a status."""
from dataclasses import replace

import pytest
import requests

from services.delivery_ms.settings import load_settings
from services.platform.consumer import consumer_pool
from tests.support.accounts import new_customer
from tests.support.polling import wait_for
from tests.support.processes import IsolatedConsumers

ORDER = {"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 6}


def place_order(base_url, customer, body=ORDER):
    user_id, headers = customer.user_id, customer.headers
    response = requests.post(f"{base_url}/order-ms/{user_id}/orders", json=body, headers=headers, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def list_deliveries(base_url, headers, query=""):
    response = requests.get(f"{base_url}/delivery-ms/deliveries{query}", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def wait_for_delivery(base_url, headers, order_id):
    return wait_for(lambda: next((d for d in list_deliveries(base_url, headers) if d["order_id"] == order_id), None),
                    f"the delivery of order {order_id}", timeout=20)


def put_status(base_url, delivery_id, status, headers, alias=False):
    path = f"/delivery-ms/deliveries/{delivery_id}" + ("" if alias else "/status")
    return requests.put(f"{base_url}{path}", json={"status": status}, headers=headers, timeout=10)


@pytest.fixture(scope="module")
def shopper(base_url):
    return new_customer(base_url)


@pytest.fixture(scope="module")
def delivery_in(base_url, shopper, staff_headers):
    """Makes a fresh delivery (through order-ms and the consumer) and moves it to the given status."""

    def make(status):
        order = place_order(base_url, shopper)
        delivery = wait_for_delivery(base_url, shopper.headers, order["order_id"])
        if status != "CONFIRMED":
            response = put_status(base_url, delivery["delivery_id"], status, staff_headers)
            assert response.status_code == 200, response.text
            delivery = {**delivery, **response.json()}
        return delivery

    return make


@pytest.fixture
def consumers(stack, tmp_path):
    """Consumer processes of the test's own, with their own group and throwaway database."""
    isolated = IsolatedConsumers(stack, tmp_path)
    isolated.create_database()
    yield isolated
    isolated.stop_all()
    isolated.drop_database()


@pytest.fixture
def delivery_settings(stack):
    """delivery-ms's settings for the stack's delivery database as its app user."""
    env = stack.app_env("delivery_ms")
    return replace(load_settings(), db_host=env["DB_HOST"], db_port=int(env["DB_PORT"]), db_name=env["DB_NAME"],
                   db_user=env["DB_USER"], db_password=env["DB_PASSWORD"])


@pytest.fixture
def delivery_pool(delivery_settings):
    """A pool as delivery-ms's consumer writes with: the consumer's store functions, called from a test's own
    threads, against the rows the running services use."""
    pool = consumer_pool(delivery_settings)
    yield pool
    pool.close()
