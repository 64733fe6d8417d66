"""delivery-ms over HTTP through the ingress: orders become deliveries, who sees what, every status move and its
event. Each bad input's problem answer is proven in process (tests/unit/delivery_ms/test_routes.py)."""
import json
import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from services.contracts import delivery_status_changed, order_created
from tests.integration.delivery_ms.conftest import (
    ORDER,
    list_deliveries,
    place_order,
    put_status,
    wait_for_delivery,
)
from tests.support.accounts import new_customer
from tests.support.board import board_log
from tests.support.topics import TopicReader

STATUSES = ["CONFIRMED", "IN_DELIVERY", "COMPLETED", "CANCELED"]
NEXT = {"CONFIRMED": ["IN_DELIVERY", "COMPLETED", "CANCELED"], "IN_DELIVERY": ["COMPLETED", "CANCELED"],
        "COMPLETED": [], "CANCELED": []}
DELIVERY_FIELDS = {"delivery_id", "order_id", "order", "status", "next_statuses", "created_at", "updated_at"}


def assert_problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["detail"] and problem["hint"]
    return problem


@pytest.fixture(scope="module")
def status_events(kafka_servers):
    reader = TopicReader(kafka_servers, delivery_status_changed.TOPIC)
    yield reader
    reader.close()


def test_welcome(base_url, delivery_url):
    for url in (base_url, delivery_url):
        response = requests.get(f"{url}/delivery-ms", timeout=10)
        assert response.status_code == 200 and response.text == "Welcome to DELIVERY Microservice!"


def test_an_order_posted_through_the_ingress_becomes_a_confirmed_delivery(base_url, customer, staff_headers):
    order = place_order(base_url, customer)
    delivery = wait_for_delivery(base_url, customer.headers, order["order_id"])
    assert set(delivery) == DELIVERY_FIELDS
    assert uuid.UUID(delivery["delivery_id"]).version == 4
    # A JSON object, not an escaped string: the order as placed (the view's delivery and cancel are order-ms's own).
    assert delivery["order"] == {name: order[name] for name in order_created.FIELDS}
    assert delivery["status"] == "CONFIRMED"
    assert delivery["next_statuses"] == ["IN_DELIVERY", "COMPLETED", "CANCELED"]
    assert delivery["created_at"] == delivery["updated_at"] and delivery["created_at"].endswith("Z")
    for headers in (customer.headers, staff_headers):
        detail = requests.get(
            f"{base_url}/delivery-ms/deliveries/{delivery['delivery_id']}", headers=headers, timeout=10
        )
        assert detail.status_code == 200 and detail.json() == delivery


def test_customers_see_only_their_own_deliveries(base_url, customer, staff_headers):
    other = new_customer(base_url)
    mine = wait_for_delivery(base_url, customer.headers, place_order(base_url, customer)["order_id"])
    theirs = wait_for_delivery(base_url, other.headers, place_order(base_url, other)["order_id"])

    assert [d["delivery_id"] for d in list_deliveries(base_url, customer.headers)] == [mine["delivery_id"]]
    # Someone else's delivery is "not found" for a customer: its existence is not revealed.
    hidden = requests.get(f"{base_url}/delivery-ms/deliveries/{theirs['delivery_id']}", headers=customer.headers,
                          timeout=10)
    assert_problem(hidden, 404)
    staff_view = {d["delivery_id"] for d in list_deliveries(base_url, staff_headers, "?limit=500")}
    assert {mine["delivery_id"], theirs["delivery_id"]} <= staff_view


@pytest.mark.parametrize("wanted", STATUSES)
@pytest.mark.parametrize("current", STATUSES)
def test_status_move(base_url, staff_headers, delivery_in, status_events, delivery_db, current, wanted):
    delivery = delivery_in(current)
    cursor = delivery_db.cursor()
    cursor.execute("SELECT COUNT(*) FROM delivery_outbox WHERE message_key = ?", (delivery["order_id"],))
    events_before = cursor.fetchone()[0]

    response = put_status(base_url, delivery["delivery_id"], wanted, staff_headers)
    shown = requests.get(f"{base_url}/delivery-ms/deliveries/{delivery['delivery_id']}", headers=staff_headers,
                         timeout=10).json()

    if wanted == current:
        assert response.status_code == 200, response.text
        assert response.json() == {"delivery_id": delivery["delivery_id"], "status": current,
                                   "updated_at": delivery["updated_at"]}
        cursor.execute("SELECT COUNT(*) FROM delivery_outbox WHERE message_key = ?", (delivery["order_id"],))
        assert cursor.fetchone()[0] == events_before, "a no-op must not publish an event"
    elif wanted in NEXT[current]:
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["delivery_id"] == delivery["delivery_id"] and body["status"] == wanted
        assert body["updated_at"] > delivery["updated_at"]
        assert shown["status"] == wanted and shown["updated_at"] == body["updated_at"]
        # The view carries the moves allowed from the new status, so clients need no copy of the rules.
        assert shown["next_statuses"] == list(NEXT[wanted])
        event = status_events.wait_for(
            lambda r: r.key == delivery["order_id"].encode() and json.loads(r.value)["status"] == wanted,
            f"the {current} -> {wanted} event")[0]
        # Version 1 at creation, one higher with each move: delivery_in made one move unless it stayed CONFIRMED.
        version = (1 if current == "CONFIRMED" else 2) + 1
        assert json.loads(event.value) == {"delivery_id": delivery["delivery_id"], "order_id": delivery["order_id"],
                                           "status": wanted, "previous_status": current,
                                           "updated_at": body["updated_at"], "version": version}
        assert board_log(delivery_db, delivery["order_id"])[-1] == (wanted, current, version), \
            "each move is on the board"
        headers = dict(event.headers)
        assert headers["event_type"] == b"DeliveryStatusChanged" and headers["schema_version"] == b"1"
    else:
        problem = assert_problem(response, 409)
        for allowed in NEXT[current]:
            assert allowed in problem["hint"]
        if not NEXT[current]:
            assert "final" in problem["hint"]
        assert shown["status"] == current and shown["updated_at"] == delivery["updated_at"]


def test_the_alias_path_changes_the_status_too(base_url, staff_headers, delivery_in):
    delivery = delivery_in("CONFIRMED")
    response = put_status(base_url, delivery["delivery_id"], "IN_DELIVERY", staff_headers, alias=True)
    assert response.status_code == 200 and response.json()["status"] == "IN_DELIVERY"


def test_status_filter_and_paging_newest_first(base_url, customer, staff_headers):
    orders = [place_order(base_url, customer, {**ORDER, "coffee_qty": qty}) for qty in (1, 2, 3)]
    deliveries = [wait_for_delivery(base_url, customer.headers, order["order_id"]) for order in orders]
    assert put_status(base_url, deliveries[1]["delivery_id"], "IN_DELIVERY", staff_headers).status_code == 200

    everything = list_deliveries(base_url, customer.headers)
    assert len(everything) == 3
    ids = [d["delivery_id"] for d in everything]
    assert [d["status"] for d in list_deliveries(base_url, customer.headers, "?status=IN_DELIVERY")] == ["IN_DELIVERY"]
    confirmed = list_deliveries(base_url, customer.headers, "?status=CONFIRMED")
    assert [d["delivery_id"] for d in confirmed] == [i for i in ids if i != deliveries[1]["delivery_id"]]

    seen, url = [], f"{base_url}/delivery-ms/deliveries?limit=2"
    while url:
        page = requests.get(url, headers=customer.headers, timeout=10)
        assert page.status_code == 200 and len(page.json()) <= 2
        seen += [d["delivery_id"] for d in page.json()]
        url = f"{base_url}{page.links['next']['url']}" if "next" in page.links else None
    assert seen == ids
    created = [d["created_at"] for d in everything]
    assert created == sorted(created, reverse=True)


def test_health_readiness_and_status_change_metric(base_url, delivery_url, delivery_metrics_url, staff_headers,
                                                  delivery_in):
    assert requests.get(f"{delivery_url}/healthz", timeout=10).json() == {"status": "ok"}
    assert requests.get(f"{delivery_url}/readyz", timeout=10).json() == {"status": "ready"}
    assert requests.get(f"{base_url}/delivery-ms/readyz", timeout=10).status_code == 200

    def changes():
        text = requests.get(delivery_metrics_url, timeout=10).text
        return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
                   if sample.name == "delivery_status_changes_total"
                   and sample.labels == {"from_status": "CONFIRMED", "to_status": "CANCELED"})

    before = changes()
    delivery = delivery_in("CONFIRMED")
    assert put_status(base_url, delivery["delivery_id"], "CANCELED", staff_headers).status_code == 200
    assert changes() == before + 1
