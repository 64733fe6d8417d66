"""The whole permission matrix through the ingress: every endpoint × every kind of caller.

Callers: no token, a wrongly signed token, an expired token, the customer who owns the order, another
customer, and staff. Expected: 401 (with a login hint) for the first three; customers act only on their
own orders and deliveries (403 where the path names someone else, 404 where answering 403 would reveal
that a delivery exists); only staff change statuses; staff read everything."""
import time
import uuid
from dataclasses import dataclass

import jwt
import pytest
import requests

from services.platform.auth import ALGORITHM, TOKEN_ISSUER
from tests.integration.conftest import auth, login
from tests.support.accounts import sign_up
from tests.support.polling import wait_for

PASSWORD = "a-long-password"
ORDER = {"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 2}


@dataclass
class World:
    """Two customers, an order of the first one and its delivery, and everyone's headers."""

    owner: str
    other: str
    order_id: str
    delivery_id: str
    headers: dict[str, dict]


def new_customer(base_url) -> tuple[str, dict]:
    user_id = f"perm-{uuid.uuid4().hex[:12]}"
    response = sign_up(base_url, user_id, PASSWORD)
    assert response.status_code == 201, response.text
    return user_id, auth(login(base_url, user_id, PASSWORD))


def find_delivery(base_url, headers, order_id) -> dict | None:
    """The delivery of `order_id` among those `headers` may see, following the pages newest first."""
    url = f"{base_url}/delivery-ms/deliveries?limit=500"
    while url:
        response = requests.get(url, headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        found = next((d for d in response.json() if d["order_id"] == order_id), None)
        if found:
            return found
        url = f"{base_url}{response.links['next']['url']}" if "next" in response.links else None
    return None


@pytest.fixture(scope="module")
def world(base_url, stack, staff_headers) -> World:
    owner, owner_headers = new_customer(base_url)
    other, other_headers = new_customer(base_url)
    order = requests.post(f"{base_url}/order-ms/{owner}/orders", json=ORDER, headers=owner_headers, timeout=10)
    assert order.status_code == 201, order.text
    order_id = order.json()["order_id"]
    delivery = wait_for(lambda: find_delivery(base_url, owner_headers, order_id), f"the delivery of {order_id}")
    now = int(time.time())
    claims = {"sub": owner, "role": "customer", "iss": TOKEN_ISSUER, "iat": now, "exp": now + 600}
    secret = stack.env["JWT_SECRET"]
    headers = {
        "no token": {},
        "bad token": auth(jwt.encode(claims, "not-the-stack-secret-" * 2, algorithm=ALGORITHM)),
        "expired token": auth(jwt.encode({**claims, "iat": now - 120, "exp": now - 60}, secret, algorithm=ALGORITHM)),
        "owner": owner_headers,
        "other customer": other_headers,
        "staff": staff_headers,
    }
    return World(owner, other, order_id, delivery["delivery_id"], headers)


def put_body(caller: str) -> dict:
    # Staff set the current status again (a 200 no-op, so the delivery stays put for the other rows);
    # everyone else tries to cancel, which must never happen.
    return {"status": "CONFIRMED" if caller == "staff" else "CANCELED"}


ENDPOINTS = {
    "order create": lambda w, caller: ("POST", f"/order-ms/{w.owner}/orders", ORDER),
    "order list": lambda w, caller: ("GET", f"/order-ms/{w.owner}/orders", None),
    "order detail": lambda w, caller: ("GET", f"/order-ms/{w.owner}/orders/{w.order_id}", None),
    "delivery list": lambda w, caller: ("GET", "/delivery-ms/deliveries?limit=500", None),
    "delivery detail": lambda w, caller: ("GET", f"/delivery-ms/deliveries/{w.delivery_id}", None),
    "delivery status": lambda w, caller: ("PUT", f"/delivery-ms/deliveries/{w.delivery_id}/status", put_body(caller)),
    "delivery status alias": lambda w, caller: ("PUT", f"/delivery-ms/deliveries/{w.delivery_id}", put_body(caller)),
}

#                          no token, bad token, expired, owner, other customer, staff
MATRIX = {
    "order create":          (401, 401, 401, 201, 403, 403),  # staff read orders but place none for others
    "order list":            (401, 401, 401, 200, 403, 200),
    "order detail":          (401, 401, 401, 200, 403, 200),
    "delivery list":         (401, 401, 401, 200, 200, 200),  # the other customer's list lacks this delivery
    "delivery detail":       (401, 401, 401, 200, 404, 200),
    "delivery status":       (401, 401, 401, 403, 403, 200),
    "delivery status alias": (401, 401, 401, 403, 403, 200),
}
CALLERS = ("no token", "bad token", "expired token", "owner", "other customer", "staff")
CASES = [(endpoint, caller, statuses[i]) for endpoint, statuses in MATRIX.items() for i, caller in enumerate(CALLERS)]


@pytest.mark.parametrize("endpoint,caller,expected", CASES, ids=[f"{e} | {c} -> {s}" for e, c, s in CASES])
def test_permission_matrix(base_url, world, endpoint, caller, expected):
    method, path, body = ENDPOINTS[endpoint](world, caller)
    response = requests.request(method, f"{base_url}{path}", json=body, headers=world.headers[caller], timeout=10)
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert response.headers["Content-Type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["status"] == expected and problem["hint"]
        if expected == 401:
            assert "POST /order-ms/login" in problem["hint"]
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        return
    if endpoint == "delivery list":
        listed = {d["order_id"] for d in response.json()}
        if caller == "other customer":
            assert world.order_id not in listed
            assert all(d["order"]["user_id"] != world.owner for d in response.json())
        else:
            assert find_delivery(base_url, world.headers[caller], world.order_id) is not None
    if endpoint == "delivery detail":
        assert response.json()["order_id"] == world.order_id
    if endpoint in ("order list", "order detail"):
        orders = response.json() if isinstance(response.json(), list) else [response.json()]
        assert all(order["user_id"] == world.owner for order in orders) and orders


def test_forbidden_status_changes_left_the_delivery_alone(base_url, world):
    # Every caller but staff tries to cancel it here, by both paths, so this proves something on its own too.
    for caller in CALLERS:
        if caller == "staff":
            continue
        for endpoint in ("delivery status", "delivery status alias"):
            method, path, body = ENDPOINTS[endpoint](world, caller)
            response = requests.request(method, f"{base_url}{path}", json=body, headers=world.headers[caller],
                                        timeout=10)
            assert response.status_code in (401, 403), (caller, endpoint, response.status_code)
    delivery = requests.get(f"{base_url}/delivery-ms/deliveries/{world.delivery_id}",
                            headers=world.headers["staff"], timeout=10)
    assert delivery.status_code == 200 and delivery.json()["status"] == "CONFIRMED"


def test_an_order_of_someone_else_under_my_own_id_is_404(base_url, world):
    response = requests.get(f"{base_url}/order-ms/{world.other}/orders/{world.order_id}",
                            headers=world.headers["other customer"], timeout=10)
    assert response.status_code == 404, response.text


def test_customers_filtering_by_status_still_see_only_their_own(base_url, world):
    response = requests.get(f"{base_url}/delivery-ms/deliveries?status=CONFIRMED&limit=500",
                            headers=world.headers["other customer"], timeout=10)
    assert response.status_code == 200 and world.order_id not in {d["order_id"] for d in response.json()}


def test_staff_moves_a_delivery_by_both_paths_and_its_customer_sees_it(base_url, world):
    owner_headers, staff_headers = world.headers["owner"], world.headers["staff"]
    order = requests.post(f"{base_url}/order-ms/{world.owner}/orders", json=ORDER, headers=owner_headers, timeout=10)
    order_id = order.json()["order_id"]
    delivery = wait_for(lambda: find_delivery(base_url, owner_headers, order_id), f"the delivery of {order_id}")
    base = f"{base_url}/delivery-ms/deliveries/{delivery['delivery_id']}"
    moved = requests.put(f"{base}/status", json={"status": "IN_DELIVERY"}, headers=staff_headers, timeout=10)
    assert moved.status_code == 200 and moved.json()["status"] == "IN_DELIVERY"
    done = requests.put(base, json={"status": "COMPLETED"}, headers=staff_headers, timeout=10)
    assert done.status_code == 200 and done.json()["status"] == "COMPLETED"
    seen = requests.get(base, headers=owner_headers, timeout=10)
    assert seen.status_code == 200 and seen.json()["status"] == "COMPLETED"
