"""What a user does again and again: sign up and log in, place an order, wait for its delivery."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from tests.acceptance.uat.checks import wait_until
from tests.acceptance.uat.client import Api

PASSWORD = "uat-password-1"
ORDER = {"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 6}
ORDER_FIELDS = {"user_id", "order_id", "coffee_name", "coffee_price", "coffee_qty", "ordered_at"}
# An order view adds what order-ms knows of the order's delivery and cancel request: they follow the delivery, so
# they may change between two reads; the order's own fields never do.
ORDER_VIEW_FIELDS = ORDER_FIELDS | {"delivery", "cancel"}
DELIVERY_FIELDS = {"delivery_id", "order_id", "order", "status", "next_statuses", "created_at", "updated_at"}


@dataclass(frozen=True)
class Account:
    """A logged-in user: the id, the password it signed up with and its bearer token."""

    user_id: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header with its token, for a client other than `Api`."""
        return {"Authorization": f"Bearer {self.token}"}


def new_user_id(prefix: str = "uat") -> str:
    """Fresh on every call, so the suite runs again and again against the same deployment."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def sign_up(api: Api, user_id: str | None = None, password: str = PASSWORD) -> Account:
    """A customer with a token: the one way every suite makes one (integration tests through
    tests/support/accounts.new_customer)."""
    user_id = user_id or new_user_id()
    response = api.post("/order-ms/users", json={"user_id": user_id, "password": password})
    assert response.status_code == 201, f"sign-up failed: {response.status_code} {response.text[:300]}"
    return Account(user_id, password, log_in(api, user_id, password))


def log_in(api: Api, user_id: str, password: str) -> str:
    response = api.post("/order-ms/login", json={"user_id": user_id, "password": password})
    assert response.status_code == 200, f"login of {user_id} failed: {response.status_code} {response.text[:300]}"
    return response.json()["access_token"]


def as_placed(orders: dict | list[dict]) -> dict | list[dict]:
    """An order view (or a list of them) cut to the order's own fields, as placed and as published."""
    if isinstance(orders, list):
        return [as_placed(order) for order in orders]
    return {name: value for name, value in orders.items() if name in ORDER_FIELDS}


def orders_path(user_id: str) -> str:
    return f"/order-ms/{user_id}/orders"


def orders_of(api: Api, account: Account) -> list[dict]:
    """The account's orders as placed, newest first (one page: a pooled account holds a few dozen at most)."""
    response = api.get(orders_path(account.user_id), token=account.token, params={"limit": 500})
    assert response.status_code == 200, f"orders list: {response.status_code} {response.text[:300]}"
    return as_placed(response.json())


def place_order(api: Api, account: Account, order: dict | None = None, headers: dict | None = None) -> dict:
    """The new order as placed (its own fields)."""
    response = api.post(orders_path(account.user_id), json=order or ORDER, token=account.token, headers=headers)
    assert response.status_code == 201, f"order refused: {response.status_code} {response.text[:300]}"
    return as_placed(response.json())


def deliveries_of(api: Api, token: str, order_id: str) -> list[dict]:
    """The deliveries this token may see for one order (a customer has few, so one page holds them)."""
    response = api.get("/delivery-ms/deliveries", token=token, params={"limit": 500})
    assert response.status_code == 200, f"deliveries list: {response.status_code} {response.text[:300]}"
    return [delivery for delivery in response.json() if delivery["order_id"] == order_id]


def wait_for_delivery(api: Api, token: str, order_id: str) -> dict:
    """Polls the deliveries list until the order has become a delivery."""
    def probe():
        found = deliveries_of(api, token, order_id)
        return found[0] if found else None
    return wait_until(probe, f"order {order_id} becoming a delivery")


def delivery_path(delivery_id: str) -> str:
    return f"/delivery-ms/deliveries/{delivery_id}"


def move(api: Api, token: str, delivery_id: str, status: str):
    return api.put(f"{delivery_path(delivery_id)}/status", json={"status": status}, token=token)


def new_delivery(api: Api, customer: Account) -> dict:
    """Places an order for `customer` and returns its delivery, still CONFIRMED."""
    order = place_order(api, customer)
    return wait_for_delivery(api, customer.token, order["order_id"])
