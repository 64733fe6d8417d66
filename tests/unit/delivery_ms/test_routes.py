"""delivery-ms's routes in process (fake store): lists newest first with a status filter and a cursor, detail,
status changes by the rules of statuses.py, and every bad input's problem answer with its hint."""
import uuid

import pytest

from services.delivery_ms.statuses import STATUS_NAMES
from tests.unit.answers import assert_problem

DELIVERIES = "/delivery-ms/deliveries"


@pytest.fixture
def staff(token):
    return token("barista", role="staff")


def move(client, delivery_id, status, headers, alias=False):
    return client.put(f"{DELIVERIES}/{delivery_id}" + ("" if alias else "/status"), json={"status": status},
                      headers=headers)


def test_staff_see_every_delivery_and_customers_only_their_own(delivery_client, delivery_store, staff, token):
    mine = [delivery_store.add("alice")["delivery_id"] for _ in range(2)]
    theirs = delivery_store.add("bob")["delivery_id"]
    listed = lambda headers: [d["delivery_id"] for d in delivery_client.get(DELIVERIES, headers=headers).json]  # noqa: E731
    assert listed(staff) == [theirs, *reversed(mine)]
    assert listed(token("alice")) == list(reversed(mine))
    assert delivery_client.get(f"{DELIVERIES}/{theirs}", headers=token("alice")).status_code == 404


def test_a_delivery_shows_its_order_and_the_moves_allowed_from_its_status(delivery_client, delivery_store, staff):
    delivery = delivery_store.add("alice", "IN_DELIVERY")
    shown = delivery_client.get(f"{DELIVERIES}/{delivery['delivery_id']}", headers=staff).json
    assert shown == delivery
    assert shown["order"]["user_id"] == "alice" and shown["next_statuses"] == ["COMPLETED", "CANCELED"]


def test_the_list_filters_by_status_and_pages_newest_first(delivery_client, delivery_store, staff):
    confirmed = [delivery_store.add(f"c{n}")["delivery_id"] for n in range(5)]
    delivery_store.add("someone", "CANCELED")
    seen, url = [], f"{DELIVERIES}?status=CONFIRMED&limit=2"
    while url:
        page = delivery_client.get(url, headers=staff)
        assert page.status_code == 200 and len(page.json) <= 2
        assert {d["status"] for d in page.json} <= {"CONFIRMED"}
        seen += [d["delivery_id"] for d in page.json]
        url = page.headers.get("Link", "").partition(">")[0].lstrip("<") or None
        assert url is None or "status=CONFIRMED" in url
    assert seen == list(reversed(confirmed))
    assert len(delivery_client.get(f"{DELIVERIES}?status=", headers=staff).json) == 6, "an empty status means any"


@pytest.mark.parametrize("query,field", [("status=LOST", "status"), ("status=confirmed", "status"),
                                         ("limit=0", "limit"), ("limit=x", "limit"), ("cursor=zzz", "cursor")])
def test_a_bad_query_parameter_is_422_naming_it(delivery_client, staff, query, field):
    problem = assert_problem(delivery_client.get(f"{DELIVERIES}?{query}", headers=staff), 422, field)
    if field == "status":
        assert all(status in problem["hint"] for status in STATUS_NAMES)


@pytest.mark.parametrize("current,wanted,expected", [
    ("CONFIRMED", "IN_DELIVERY", 200), ("CONFIRMED", "COMPLETED", 200), ("CONFIRMED", "CANCELED", 200),
    ("IN_DELIVERY", "COMPLETED", 200), ("IN_DELIVERY", "CANCELED", 200), ("IN_DELIVERY", "CONFIRMED", 409),
    ("COMPLETED", "CANCELED", 409), ("CANCELED", "IN_DELIVERY", 409), ("COMPLETED", "COMPLETED", 200),
])
def test_staff_move_a_delivery_by_the_status_rules(delivery_client, delivery_store, staff, current, wanted, expected):
    delivery = delivery_store.add("alice", current)
    response = move(delivery_client, delivery["delivery_id"], wanted, staff)
    after = delivery_store.get_delivery(None, delivery["delivery_id"], None)["status"]
    if expected == 200:
        assert response.status_code == 200 and response.json["status"] == wanted == after
        return
    problem = assert_problem(response, 409)
    assert problem["current_status"] == current == after
    assert problem["allowed_next_statuses"] == delivery["next_statuses"]
    assert ("is final" in problem["hint"]) == (not delivery["next_statuses"])


def test_the_alias_path_moves_the_status_too(delivery_client, delivery_store, staff):
    delivery = delivery_store.add("alice")
    assert (
        move(delivery_client, delivery["delivery_id"], "IN_DELIVERY", staff, alias=True).json["status"] == "IN_DELIVERY"
    )


@pytest.mark.parametrize("body", [{"status": "LOST"}, {"status": "completed"}, {}, {"status": "COMPLETED", "x": 1}])
def test_a_bad_status_body_is_422_listing_the_statuses(delivery_client, delivery_store, staff, body):
    delivery = delivery_store.add("alice")
    response = delivery_client.put(f"{DELIVERIES}/{delivery['delivery_id']}/status", json=body, headers=staff)
    assert "COMPLETED" in assert_problem(response, 422)["hint"]


@pytest.mark.parametrize("delivery_id", [str(uuid.uuid4()), "short"])
def test_an_unknown_delivery_is_404_pointing_to_the_list(delivery_client, staff, delivery_id):
    for response in (delivery_client.get(f"{DELIVERIES}/{delivery_id}", headers=staff),
                     move(delivery_client, delivery_id, "COMPLETED", staff)):
        assert DELIVERIES in assert_problem(response, 404)["hint"]


def test_a_customer_changing_a_status_is_told_it_is_staff_work(delivery_client, delivery_store, token):
    delivery = delivery_store.add("alice")
    problem = assert_problem(move(delivery_client, delivery["delivery_id"], "CANCELED", token("alice")), 403)
    assert "staff" in problem["hint"]


def test_a_wrong_content_type_is_415_and_a_body_that_is_not_json_400(delivery_client, delivery_store, staff):
    path = f"{DELIVERIES}/{delivery_store.add('alice')['delivery_id']}/status"
    assert_problem(delivery_client.put(path, data="status=COMPLETED", headers={**staff, "Content-Type": "text/plain"}),
                   415)
    assert "status" in assert_problem(delivery_client.put(path, data="{", headers={
        **staff, "Content-Type": "application/json"}), 400)["hint"]


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "Bearer not.a.token"])
def test_a_missing_or_malformed_authorization_is_401_with_a_login_hint(delivery_client, header):
    response = delivery_client.get(DELIVERIES, headers={"Authorization": header} if header else {})
    assert "POST /order-ms/login" in assert_problem(response, 401)["hint"]
