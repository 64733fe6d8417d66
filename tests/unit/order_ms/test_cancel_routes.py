"""The customer's cancel in process (fake stores): 202 with the order, its PENDING cancel, Location and `watch`; the
409s for a second request and for a delivery past CONFIRMED, each with its hint; 404 and 422 as GET order answers
them; and the counter of what the endpoint answered."""
import pytest
from prometheus_client import REGISTRY

from tests.unit.answers import assert_problem

ORDER = {"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 6}
CUSTOMER = "USER0001"


@pytest.fixture
def customer(token):
    return token(CUSTOMER)


@pytest.fixture
def order(order_store):
    created, _ = order_store.create_order(None, CUSTOMER, ORDER, None, None)
    return created


def cancel(client, headers, order_id, user_id=CUSTOMER):
    return client.post(f"/order-ms/{user_id}/orders/{order_id}/cancel", headers=headers)


def counted(outcome: str) -> float:
    return REGISTRY.get_sample_value("order_cancel_requests_total", {"outcome": outcome}) or 0.0


def test_a_cancel_while_no_delivery_is_known_is_accepted_with_where_to_watch(order_client, order_store, customer,
                                                                             order):
    before = counted("accepted")
    response = cancel(order_client, customer, order["order_id"])
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.headers["Location"] == f"/order-ms/{CUSTOMER}/orders/{order['order_id']}"
    body = response.json
    assert {name: body[name] for name in order} == order, "the order's own fields stay exactly as GET shows them"
    assert body["delivery"] is None
    assert body["cancel"]["outcome"] == "PENDING" and body["cancel"]["reason"] is None
    assert body["cancel"]["decided_at"] is None and body["cancel"]["requested_at"].endswith("Z")
    assert body["watch"] == f"/order-ms/{CUSTOMER}/orders/events"
    assert order_store.cancels.published == [(order["order_id"], body["cancel"]["requested_at"])]
    assert counted("accepted") == before + 1


def test_a_cancel_while_confirmed_shows_the_delivery(order_client, order_store, customer, order):
    order_store.cancels.set_delivery(order["order_id"], "CONFIRMED")
    response = cancel(order_client, customer, order["order_id"])
    assert response.status_code == 202
    assert response.json["delivery"]["status"] == "CONFIRMED"
    assert set(response.json["delivery"]) == {"delivery_id", "status", "updated_at"}
    assert set(response.json["cancel"]) == {"outcome", "requested_at", "reason", "decided_at"}


def test_staff_may_cancel_a_customers_order(order_client, order_store, token, order):
    response = cancel(order_client, token("barista", role="staff"), order["order_id"])
    assert response.status_code == 202 and response.json["cancel"]["outcome"] == "PENDING"


def test_a_second_cancel_is_409_pointing_at_the_stream_and_the_order(order_client, order_store, customer, order):
    first = cancel(order_client, customer, order["order_id"])
    before = counted("already_requested")
    problem = assert_problem(cancel(order_client, customer, order["order_id"]), 409)
    assert problem["type"] == "/problems/cancel-already-requested"
    assert f"/order-ms/{CUSTOMER}/orders/events" in problem["hint"]
    assert f"GET /order-ms/{CUSTOMER}/orders/{order['order_id']}" in problem["hint"]
    assert problem["cancel"] == first.json["cancel"]
    assert len(order_store.cancels.published) == 1, "the refused request published nothing"
    assert counted("already_requested") == before + 1


@pytest.mark.parametrize("status", ["IN_DELIVERY", "COMPLETED", "CANCELED"])
def test_a_cancel_after_the_delivery_moved_on_is_409_naming_its_status(order_client, order_store, customer, order,
                                                                       status):
    order_store.cancels.set_delivery(order["order_id"], status)
    before = counted("not_allowed")
    problem = assert_problem(cancel(order_client, customer, order["order_id"]), 409)
    assert problem["type"] == "/problems/cancel-not-allowed"
    assert problem["delivery_status"] == status and status in problem["hint"] and status in problem["detail"]
    assert "CONFIRMED" in problem["hint"]
    assert order_store.cancels.published == [] and order_store.cancels.requests == {}
    assert counted("not_allowed") == before + 1


@pytest.mark.parametrize("order_id", ["00000000-0000-4000-8000-000000000000", "not-an-order", "x" * 300])
def test_an_unknown_order_is_404_as_get_answers_it(order_client, customer, order_id):
    cancelled = assert_problem(cancel(order_client, customer, order_id), 404)
    shown = assert_problem(order_client.get(f"/order-ms/{CUSTOMER}/orders/{order_id}", headers=customer), 404)
    assert {k: cancelled[k] for k in ("type", "title", "detail", "hint")} == \
           {k: shown[k] for k in ("type", "title", "detail", "hint")}


def test_another_customers_order_under_my_own_id_is_404(order_client, order_store, token):
    theirs, _ = order_store.create_order(None, "someone-else", ORDER, None, None)
    assert_problem(cancel(order_client, token(CUSTOMER), theirs["order_id"]), 404)
    assert order_store.cancels.requests == {}


def test_cancelling_under_another_users_id_is_403_with_a_hint_to_ones_own(order_client, order_store, token, order):
    problem = assert_problem(cancel(order_client, token("someone-else"), order["order_id"]), 403)
    assert "/order-ms/someone-else/" in problem["hint"]
    assert order_store.cancels.requests == {}


def test_no_token_is_401_with_the_login_hint(order_client, order):
    problem = assert_problem(cancel(order_client, {}, order["order_id"]), 401)
    assert "POST /order-ms/login" in problem["hint"]


def test_a_bad_user_id_is_422_before_the_token(order_client, order):
    assert_problem(cancel(order_client, {}, order["order_id"], user_id="has space"), 422, "user_id")


def test_a_get_instead_of_post_is_405(order_client, customer, order):
    response = order_client.get(f"/order-ms/{CUSTOMER}/orders/{order['order_id']}/cancel", headers=customer)
    assert_problem(response, 405)
