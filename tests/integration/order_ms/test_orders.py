"""order-ms over HTTP through the ingress: create, list with paging, detail, idempotent retry, every bad input."""
import uuid

import pytest
import requests

ORDER = {"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 6}


def post_order(base_url, user_id, headers, body=ORDER, **kwargs):
    return requests.post(f"{base_url}/order-ms/{user_id}/orders", json=body, headers=headers, timeout=10, **kwargs)


def assert_problem(response, status, field=None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status
    assert problem["title"] and problem["detail"] and problem["hint"]
    assert "Traceback" not in response.text
    if field:
        assert field in {e["field"] for e in problem["errors"]}, problem
    return problem


def test_welcome(base_url, order_url):
    for url in (base_url, order_url):
        response = requests.get(f"{url}/order-ms", timeout=10)
        assert response.status_code == 200
        assert response.text == "Welcome to ORDER Microservice!"


def test_create_then_list_and_detail_return_the_order(base_url, customer, order_db):
    user_id, headers = customer
    created = post_order(base_url, user_id, headers)
    assert created.status_code == 201, created.text
    order = created.json()
    assert set(order) == {"user_id", "order_id", "coffee_name", "coffee_price", "coffee_qty", "ordered_at"}
    assert uuid.UUID(order["order_id"]).version == 4
    assert order["ordered_at"].endswith("Z") and len(order["ordered_at"].split(".")[1]) == 7  # 6 digits + Z
    assert {k: order[k] for k in ORDER} == ORDER and order["user_id"] == user_id
    assert created.headers["Location"] == f"/order-ms/{user_id}/orders/{order['order_id']}"

    detail = requests.get(f"{base_url}{created.headers['Location']}", headers=headers, timeout=10)
    assert detail.status_code == 200 and detail.json() == order
    listed = requests.get(f"{base_url}/order-ms/{user_id}/orders", headers=headers, timeout=10)
    assert listed.status_code == 200 and listed.json() == [order]

    cursor = order_db.cursor()
    cursor.execute("SELECT topic, message_key FROM order_outbox WHERE message_key = ?", (order["order_id"],))
    assert cursor.fetchall() == [("new_orders", order["order_id"].encode())]


def test_list_is_newest_first_and_pages_with_the_link_header(base_url, customer):
    user_id, headers = customer
    ids = [post_order(base_url, user_id, headers, {**ORDER, "coffee_qty": qty}).json()["order_id"] for qty in range(1, 6)]
    seen, url = [], f"{base_url}/order-ms/{user_id}/orders?limit=2"
    while url:
        page = requests.get(url, headers=headers, timeout=10)
        assert page.status_code == 200
        assert len(page.json()) <= 2
        seen += [o["order_id"] for o in page.json()]
        url = f"{base_url}{page.links['next']['url']}" if "next" in page.links else None
    assert seen == list(reversed(ids))


def test_detail_of_unknown_order_is_404_with_hint(base_url, customer):
    user_id, headers = customer
    for order_id in (str(uuid.uuid4()), "not-a-uuid"):
        problem = assert_problem(requests.get(f"{base_url}/order-ms/{user_id}/orders/{order_id}", headers=headers, timeout=10), 404)
        assert f"/order-ms/{user_id}/orders" in problem["hint"]


def test_same_idempotency_key_and_body_returns_the_first_order(base_url, customer, order_db):
    user_id, headers = customer
    key = {"Idempotency-Key": str(uuid.uuid4()), **headers}
    first = post_order(base_url, user_id, key)
    again = post_order(base_url, user_id, key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    cursor = order_db.cursor()
    cursor.execute("SELECT COUNT(*) FROM orders WHERE user_id = ?", (user_id,))
    assert cursor.fetchone()[0] == 1


def test_same_idempotency_key_with_another_body_is_409(base_url, customer):
    user_id, headers = customer
    key = {"Idempotency-Key": str(uuid.uuid4()), **headers}
    first = post_order(base_url, user_id, key).json()
    problem = assert_problem(post_order(base_url, user_id, key, {**ORDER, "coffee_qty": 7}), 409)
    assert problem["order_id"] == first["order_id"]
    assert "new Idempotency-Key" in problem["hint"]


def test_list_limit_and_cursor_are_validated(base_url, customer):
    user_id, headers = customer
    for query, field in (("limit=0", "limit"), ("limit=501", "limit"), ("limit=abc", "limit"), ("cursor=zzz", "cursor")):
        assert_problem(requests.get(f"{base_url}/order-ms/{user_id}/orders?{query}", headers=headers, timeout=10), 422, field)


@pytest.mark.parametrize("body,field", [
    ({"coffee_price": 2000, "coffee_qty": 6}, "coffee_name"),
    ({**ORDER, "extra": 1}, "extra"),
    ({**ORDER, "coffee_price": "2000"}, "coffee_price"),
    ({**ORDER, "coffee_qty": True}, "coffee_qty"),
    ({**ORDER, "coffee_price": 1_000_001}, "coffee_price"),
    ({**ORDER, "coffee_qty": 0}, "coffee_qty"),
    ({**ORDER, "coffee_name": "x" * 51}, "coffee_name"),
])
def test_invalid_fields_are_422_naming_the_field(base_url, customer, body, field):
    user_id, headers = customer
    problem = assert_problem(post_order(base_url, user_id, headers, body), 422, field)
    assert "coffee_name" in problem["hint"]  # the example body


def test_body_that_is_not_json_is_400(base_url, customer):
    user_id, headers = customer
    response = requests.post(f"{base_url}/order-ms/{user_id}/orders", data="{nope",
                             headers={**headers, "Content-Type": "application/json"}, timeout=10)
    assert "coffee_name" in assert_problem(response, 400)["hint"]


def test_wrong_content_type_is_415(base_url, customer):
    user_id, headers = customer
    response = requests.post(f"{base_url}/order-ms/{user_id}/orders", data="coffee_name=jslee",
                             headers={**headers, "Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    assert "application/json" in assert_problem(response, 415)["hint"]


def test_body_over_64_kib_is_413(base_url, customer):
    user_id, headers = customer
    response = post_order(base_url, user_id, headers, {**ORDER, "coffee_name": "x" * 70_000})
    assert_problem(response, 413)


def test_unknown_route_and_wrong_method(base_url, order_url, customer):
    user_id, headers = customer
    assert_problem(requests.get(f"{order_url}/order-ms/{user_id}/nothing", headers=headers, timeout=10), 404)
    assert_problem(requests.get(f"{base_url}/elsewhere", timeout=10), 404)
    problem = assert_problem(requests.delete(f"{base_url}/order-ms/{user_id}/orders", headers=headers, timeout=10), 405)
    assert "GET" in problem["hint"] and "POST" in problem["hint"]


def test_invalid_user_id_in_path_is_422(base_url, customer):
    _, headers = customer
    assert_problem(post_order(base_url, "x" * 51, headers), 422, "user_id")


def test_health_and_readiness(base_url, order_url):
    assert requests.get(f"{order_url}/healthz", timeout=10).json() == {"status": "ok"}
    assert requests.get(f"{order_url}/readyz", timeout=10).json() == {"status": "ready"}
    assert requests.get(f"{base_url}/order-ms/readyz", timeout=10).status_code == 200
