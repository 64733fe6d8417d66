"""order-ms over HTTP through the ingress and MariaDB: create with its outbox row, list with paging, detail, and the
answers the ingress shapes (413, 404/405). Each bad input's problem answer is proven in process
(tests/unit/order_ms/test_routes.py)."""
import uuid

import requests

ORDER = {"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 6}


def post_order(base_url, user_id, headers, body=ORDER, **kwargs):
    return requests.post(f"{base_url}/order-ms/{user_id}/orders", json=body, headers=headers, timeout=10, **kwargs)


def assert_problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status
    assert problem["title"] and problem["detail"] and problem["hint"]
    assert "Traceback" not in response.text
    return problem


def test_welcome(base_url, order_url):
    for url in (base_url, order_url):
        response = requests.get(f"{url}/order-ms", timeout=10)
        assert response.status_code == 200
        assert response.text == "Welcome to ORDER Microservice!"


def test_create_then_list_and_detail_return_the_order(base_url, customer, order_db):
    user_id, headers = customer.user_id, customer.headers
    created = post_order(base_url, user_id, headers)
    assert created.status_code == 201, created.text
    order = created.json()
    assert list(order) == ["user_id", "order_id", "coffee_name", "coffee_price", "coffee_qty", "ordered_at",
                           "delivery", "cancel"]
    assert order["delivery"] is None and order["cancel"] is None
    assert uuid.UUID(order["order_id"]).version == 4
    assert order["ordered_at"].endswith("Z") and len(order["ordered_at"].split(".")[1]) == 7  # 6 digits + Z
    assert {k: order[k] for k in ORDER} == ORDER and order["user_id"] == user_id
    assert created.headers["Location"] == f"/order-ms/{user_id}/orders/{order['order_id']}"

    detail = requests.get(f"{base_url}{created.headers['Location']}", headers=headers, timeout=10)
    # delivery and cancel follow the delivery (its first event may have arrived by now); the order's own fields stay.
    own = {name: value for name, value in order.items() if name not in {"delivery", "cancel"}}
    assert detail.status_code == 200 and {name: detail.json()[name] for name in own} == own
    listed = requests.get(f"{base_url}/order-ms/{user_id}/orders", headers=headers, timeout=10)
    assert listed.status_code == 200 and [{name: o[name] for name in own} for o in listed.json()] == [own]

    cursor = order_db.cursor()
    cursor.execute("SELECT topic, message_key FROM order_outbox WHERE message_key = ?", (order["order_id"],))
    assert cursor.fetchall() == [("new_orders", order["order_id"].encode())]


def test_list_is_newest_first_and_pages_with_the_link_header(base_url, customer):
    user_id, headers = customer.user_id, customer.headers
    ids = [
        post_order(base_url, user_id, headers, {**ORDER, "coffee_qty": qty}).json()["order_id"] for qty in range(1, 6)
    ]
    seen, url = [], f"{base_url}/order-ms/{user_id}/orders?limit=2"
    while url:
        page = requests.get(url, headers=headers, timeout=10)
        assert page.status_code == 200
        assert len(page.json()) <= 2
        seen += [o["order_id"] for o in page.json()]
        url = f"{base_url}{page.links['next']['url']}" if "next" in page.links else None
    assert seen == list(reversed(ids))


def test_body_over_64_kib_is_413(base_url, customer):
    user_id, headers = customer.user_id, customer.headers
    response = post_order(base_url, user_id, headers, {**ORDER, "coffee_name": "x" * 70_000})
    assert_problem(response, 413)


def test_unknown_route_and_wrong_method(base_url, order_url, customer):
    user_id, headers = customer.user_id, customer.headers
    assert_problem(requests.get(f"{order_url}/order-ms/{user_id}/nothing", headers=headers, timeout=10), 404)
    assert_problem(requests.get(f"{base_url}/elsewhere", timeout=10), 404)
    problem = assert_problem(requests.delete(f"{base_url}/order-ms/{user_id}/orders", headers=headers, timeout=10), 405)
    assert "GET" in problem["hint"] and "POST" in problem["hint"]


def test_health_and_readiness(base_url, order_url):
    assert requests.get(f"{order_url}/healthz", timeout=10).json() == {"status": "ok"}
    assert requests.get(f"{order_url}/readyz", timeout=10).json() == {"status": "ready"}
    assert requests.get(f"{base_url}/order-ms/readyz", timeout=10).status_code == 200
