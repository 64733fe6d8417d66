"""order-ms's routes in process (fake store): sign-up and login answers, orders created, listed a page at a time and
shown, the Idempotency-Key's replay and conflict, and every bad input's problem answer with its hint."""
import uuid

import pytest

from tests.unit.answers import assert_problem

ORDER = {"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 6}
CUSTOMER = "USER0001"
ORDERS = f"/order-ms/{CUSTOMER}/orders"


@pytest.fixture
def customer(token):
    return token(CUSTOMER)


def post_order(client, headers, body=ORDER, user_id=CUSTOMER, **extra_headers):
    return client.post(f"/order-ms/{user_id}/orders", json=body, headers={**headers, **extra_headers})


# --- accounts -------------------------------------------------------------------------------------

def test_sign_up_then_log_in_gives_a_customer_token(order_client):
    created = order_client.post("/order-ms/users", json={"user_id": "new-one", "password": "a-long-password"})
    assert created.status_code == 201 and created.json["user_id"] == "new-one" and created.json["role"] == "customer"
    login = order_client.post("/order-ms/login", json={"user_id": "new-one", "password": "a-long-password"})
    assert login.status_code == 200
    assert (login.json["token_type"], login.json["user_id"], login.json["role"]) == ("Bearer", "new-one", "customer")
    listed = order_client.get(
        "/order-ms/new-one/orders", headers={"Authorization": f"Bearer {login.json['access_token']}"}
    )
    assert listed.status_code == 200 and listed.json == []


def test_a_taken_user_id_is_409_pointing_to_login_whatever_its_case(order_client):
    body = {"user_id": "Taken-Id", "password": "a-long-password"}
    assert order_client.post("/order-ms/users", json=body).status_code == 201
    problem = assert_problem(order_client.post("/order-ms/users", json={**body, "user_id": "taken-id"}), 409)
    assert "POST /order-ms/login" in problem["hint"]


@pytest.mark.parametrize("body,field", [
    ({"user_id": "short-pass", "password": "short"}, "password"),
    ({"user_id": "ui", "password": "a-long-password"}, "user_id"),
    ({"user_id": "LOGIN", "password": "a-long-password"}, "user_id"),
    ({"user_id": "has space", "password": "a-long-password"}, "user_id"),
    ({"user_id": "x" * 51, "password": "a-long-password"}, "user_id"),
    ({"user_id": "", "password": "a-long-password"}, "user_id"),
    ({"user_id": "wants-staff", "password": "a-long-password", "role": "staff"}, "role"),
])
def test_a_sign_up_breaking_a_rule_is_422_naming_the_field(order_client, order_store, body, field):
    assert_problem(order_client.post("/order-ms/users", json=body), 422, field)
    assert order_store.users == []


def test_wrong_password_and_unknown_user_get_the_same_401_pointing_to_sign_up(order_client):
    order_client.post("/order-ms/users", json={"user_id": "known", "password": "a-long-password"})
    wrong_password = assert_problem(
        order_client.post("/order-ms/login", json={"user_id": "known", "password": "nope"}), 401
    )
    unknown_user = assert_problem(
        order_client.post("/order-ms/login", json={"user_id": "nobody", "password": "nope"}), 401
    )
    assert {k: wrong_password[k] for k in ("type", "title", "detail", "hint")} == \
           {k: unknown_user[k] for k in ("type", "title", "detail", "hint")}
    assert "POST /order-ms/users" in wrong_password["hint"]


@pytest.mark.parametrize("body", [{"user_id": "USER0001"}, {"password": "x"}, {"user_id": "", "password": ""}])
def test_login_without_both_fields_is_422(order_client, body):
    assert assert_problem(order_client.post("/order-ms/login", json=body), 422)["errors"]


# --- orders ---------------------------------------------------------------------------------------

def test_create_then_detail_and_list_return_the_order(order_client, customer):
    created = post_order(order_client, customer)
    assert created.status_code == 201
    order = created.json
    assert list(order) == ["user_id", "order_id", "coffee_name", "coffee_price", "coffee_qty", "ordered_at",
                           "delivery", "cancel"]
    assert {k: order[k] for k in ORDER} == ORDER and order["user_id"] == CUSTOMER
    assert order["delivery"] is None and order["cancel"] is None
    assert created.headers["Location"] == f"{ORDERS}/{order['order_id']}"
    assert order_client.get(created.headers["Location"], headers=customer).json == order
    assert order_client.get(ORDERS, headers=customer).json == [order]


def test_the_list_is_newest_first_a_page_at_a_time_with_the_link_header(order_client, customer):
    ids = [post_order(order_client, customer, {**ORDER, "coffee_qty": qty}).json["order_id"] for qty in range(1, 6)]
    seen, url, pages = [], f"{ORDERS}?limit=2", 0
    while url:
        page = order_client.get(url, headers=customer)
        assert page.status_code == 200 and len(page.json) <= 2
        seen += [order["order_id"] for order in page.json]
        pages += 1
        url = page.headers.get("Link", "").partition(">")[0].lstrip("<") or None
    assert seen == list(reversed(ids)) and pages == 3


DELIVERY = {"delivery_id": "0b6f1e8e-6a4e-4c61-8a57-3d1f2a9c7e10", "status": "IN_DELIVERY",
            "updated_at": "2026-11-28T15:09:41.000321Z"}
CANCEL = {"outcome": "REFUSED", "requested_at": "2026-11-28T15:09:40.000001Z",
          "reason": "The delivery is already IN_DELIVERY.", "decided_at": "2026-11-28T15:09:42.000002Z"}


def test_detail_and_list_show_the_delivery_and_cancel_the_read_model_knows(order_client, order_store, customer):
    followed, unfollowed = (post_order(order_client, customer).json for _ in range(2))
    order_store.follow(followed["order_id"], DELIVERY, CANCEL)
    detail = order_client.get(f"{ORDERS}/{followed['order_id']}", headers=customer).json
    assert detail == {**followed, "delivery": DELIVERY, "cancel": CANCEL}
    listed = {order["order_id"]: order for order in order_client.get(ORDERS, headers=customer).json}
    assert listed[followed["order_id"]] == detail
    assert listed[unfollowed["order_id"]] == {**unfollowed, "delivery": None, "cancel": None}


def test_a_replayed_order_shows_what_the_read_model_knows_of_it_by_now(order_client, order_store, customer):
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = post_order(order_client, customer, **key).json
    order_store.follow(first["order_id"], DELIVERY)
    again = post_order(order_client, customer, **key)
    assert again.json == {**first, "delivery": DELIVERY, "cancel": None}


@pytest.mark.parametrize("query,field", [("limit=0", "limit"), ("limit=501", "limit"), ("limit=abc", "limit"),
                                         ("cursor=zzz", "cursor"), ("cursor=djE6YWJj", "cursor")])
def test_a_bad_limit_or_cursor_is_422_naming_it(order_client, customer, query, field):
    assert_problem(order_client.get(f"{ORDERS}?{query}", headers=customer), 422, field)


@pytest.mark.parametrize("order_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_an_unknown_order_is_404_pointing_to_the_list(order_client, customer, order_id):
    problem = assert_problem(order_client.get(f"{ORDERS}/{order_id}", headers=customer), 404)
    assert ORDERS in problem["hint"]


def test_the_same_idempotency_key_and_body_replays_the_first_order(order_client, order_store, customer):
    key = str(uuid.uuid4())
    first = post_order(order_client, customer, **{"Idempotency-Key": key})
    again = post_order(order_client, customer, **{"Idempotency-Key": f" {key} "})
    assert first.status_code == again.status_code == 201 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert len(order_store.orders) == 1


def test_the_same_idempotency_key_with_another_body_is_409_naming_the_first_order(order_client, customer):
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = post_order(order_client, customer, **key).json
    problem = assert_problem(post_order(order_client, customer, {**ORDER, "coffee_qty": 7}, **key), 409)
    assert problem["order_id"] == first["order_id"] and "new Idempotency-Key" in problem["hint"]


def test_an_idempotency_key_is_each_customers_own(order_client, order_store, token):
    key = {"Idempotency-Key": "shared-key"}
    post_order(order_client, token("alice"), user_id="alice", **key)
    replay = post_order(order_client, token("bob"), user_id="bob", **key)
    assert replay.status_code == 201 and "Idempotent-Replayed" not in replay.headers
    assert len(order_store.orders) == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\tinside", "é-not-ascii"])
def test_a_malformed_idempotency_key_is_422_and_orders_nothing(order_client, order_store, customer, key):
    problem = assert_problem(post_order(order_client, customer, **{"Idempotency-Key": key}), 422, "Idempotency-Key")
    assert problem["title"] == "Invalid Idempotency-Key" and "UUID" in problem["hint"]
    assert order_store.orders == []


@pytest.mark.parametrize("body,field", [
    ({"coffee_price": 2000, "coffee_qty": 6}, "coffee_name"),
    ({**ORDER, "extra": 1}, "extra"),
    ({**ORDER, "coffee_price": "2000"}, "coffee_price"),
    ({**ORDER, "coffee_qty": True}, "coffee_qty"),
    ({**ORDER, "coffee_price": 1_000_001}, "coffee_price"),
    ({**ORDER, "coffee_qty": 0}, "coffee_qty"),
    ({**ORDER, "coffee_name": "x" * 51}, "coffee_name"),
])
def test_an_order_breaking_a_rule_is_422_naming_the_field_with_an_example(order_client, customer, body, field):
    problem = assert_problem(post_order(order_client, customer, body), 422, field)
    assert "coffee_name" in problem["hint"]


def test_a_body_that_is_not_json_is_400_with_an_example(order_client, customer):
    response = order_client.post(ORDERS, data="{nope", headers={**customer, "Content-Type": "application/json"})
    assert "coffee_name" in assert_problem(response, 400)["hint"]


def test_a_body_that_is_not_an_object_is_refused(order_client, customer):
    response = order_client.post(ORDERS, json=[ORDER], headers=customer)
    assert response.status_code in (400, 422)
    assert "coffee_name" in assert_problem(response, response.status_code)["hint"]


def test_a_wrong_content_type_is_415_naming_json(order_client, customer):
    response = order_client.post(ORDERS, data="coffee_name=jslee",
                                 headers={**customer, "Content-Type": "application/x-www-form-urlencoded"})
    assert "application/json" in assert_problem(response, 415)["hint"]


def test_an_invalid_user_id_in_the_path_is_422_before_the_token_is_checked(order_client):
    assert_problem(order_client.post(f"/order-ms/{'x' * 51}/orders", json=ORDER), 422, "user_id")


def test_an_unknown_route_is_404_and_a_wrong_method_405_naming_the_allowed_ones(order_client, customer):
    assert (
        "/order-ms" in assert_problem(order_client.get(f"/order-ms/{CUSTOMER}/nothing", headers=customer), 404)["hint"]
    )
    problem = assert_problem(order_client.delete(ORDERS, headers=customer), 405)
    assert "GET" in problem["hint"] and "POST" in problem["hint"]
