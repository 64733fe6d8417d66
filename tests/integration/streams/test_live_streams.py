"""Both live streams over real HTTP: nginx in front of each service's stream process (gunicorn's gevent worker),
the change logs in MariaDB (order-ms's `order_status_changes`, delivery-ms's outbox). These tests write the rows
themselves, exactly as the status consumer and delivery-ms do (one row per change, committed)."""
from __future__ import annotations

import json
import signal
import uuid

import pytest
import requests

from scripts.stack.holds import hold_process, release_process
from scripts.stack.layout import layout_for
from services.contracts import delivery_status_changed, order_cancel_refused
from services.delivery_ms.store import DELIVERY_OUTBOX
from tests.support.accounts import new_customer
from tests.support.sse import EventStream
from tests.support.topics import new_order


def add_order_change(conn, user_id: str, status: str, order_id: str | None = None) -> int:
    cursor = conn.cursor()
    cursor.execute("INSERT INTO order_status_changes (user_id, order_id, kind, delivery_id, status, updated_at)"
                   " VALUES (?, ?, 'DELIVERY', ?, ?, UTC_TIMESTAMP(6))",
                   (user_id, order_id or str(uuid.uuid4()), str(uuid.uuid4()), status))
    return cursor.lastrowid


def order_stream(base_url: str, user_id: str, headers: dict, query: str = "") -> EventStream:
    stream = EventStream(f"{base_url}/order-ms/{user_id}/orders/events{query}", headers)
    assert stream.status_code == 200, stream.response.text
    assert stream.next_block() == {"retry": "2000"}
    return stream


def test_a_change_reaches_the_customers_open_stream_and_no_one_elses(base_url, customer, order_db):
    other = new_customer(base_url)
    with order_stream(base_url, customer.user_id, customer.headers) as stream:
        add_order_change(order_db, other.user_id, "CONFIRMED")
        order_id = str(uuid.uuid4())
        change_id = add_order_change(order_db, customer.user_id, "IN_DELIVERY", order_id)
        event = stream.next_event()
    assert (event["event"], event["id"]) == ("order-status", str(change_id))
    assert set(event["data"]) == {"order_id", "delivery_id", "status", "updated_at", "cancel"}
    assert (event["data"]["order_id"], event["data"]["status"], event["data"]["cancel"]) == (
        order_id, "IN_DELIVERY", None)


def test_last_event_id_replays_what_was_missed_then_the_stream_follows_live(base_url, customer, order_db):
    first, second, third = (add_order_change(order_db, customer.user_id, status)
                            for status in ("CONFIRMED", "IN_DELIVERY", "COMPLETED"))
    headers = {**customer.headers, "Last-Event-ID": str(first)}
    with order_stream(base_url, customer.user_id, headers) as stream:
        replayed = [stream.next_event() for _ in range(2)]
        fourth = add_order_change(order_db, customer.user_id, "CONFIRMED")
        live = stream.next_event()
    assert [e["id"] for e in replayed] == [str(second), str(third)]
    assert [e["data"]["status"] for e in replayed] == ["IN_DELIVERY", "COMPLETED"]
    assert live["id"] == str(fourth)


def test_a_browsers_first_connect_resumes_from_the_query_parameter(base_url, customer, order_db):
    first, second = (add_order_change(order_db, customer.user_id, s) for s in ("CONFIRMED", "COMPLETED"))
    with order_stream(base_url, customer.user_id, customer.headers, f"?last_event_id={first}") as stream:
        assert stream.next_event()["id"] == str(second)


def test_a_lower_id_that_commits_after_a_higher_one_is_not_skipped(base_url, customer, stack, order_db):
    """Two transactions insert; the one with the lower id commits last. The stream shows both, lower first."""
    slow = stack.admin_connect(stack.databases["order_ms"].database)
    try:
        with order_stream(base_url, customer.user_id, customer.headers) as stream:
            slow.autocommit = False
            lower = add_order_change(slow, customer.user_id, "CONFIRMED")
            higher = add_order_change(order_db, customer.user_id, "IN_DELIVERY")
            assert higher > lower
            slow.commit()
            assert [stream.next_event()["id"] for _ in range(2)] == [str(lower), str(higher)]
    finally:
        slow.close()


def test_a_heartbeat_keeps_an_idle_stream_open_through_the_ingress(base_url, customer):
    with order_stream(base_url, customer.user_id, customer.headers) as stream:
        # The read timeout (tests/support/sse.py) is above STREAM_HEARTBEAT_SECONDS: silence would fail here.
        assert stream.next_block() == {"comments": ["keep-alive"]}


def add_delivery(conn, user_id: str = "USER0001") -> dict:
    """A new delivery and its creation event, in one transaction, as delivery-ms's consumer writes them (the whole
    row: the stack's other suites, schemathesis among them, list it afterwards and check it against the API
    document)."""
    order = new_order(user_id)
    change = {"delivery_id": str(uuid.uuid4()), "order_id": order["order_id"], "status": "CONFIRMED",
              "previous_status": None, "updated_at": "2026-12-07T12:00:00.500000Z", "version": 1}
    cursor = conn.cursor()
    cursor.execute("INSERT INTO delivery_status (delivery_id, order_id, user_id, order_json, status, version,"
                   " created_at, updated_at) VALUES (?, ?, ?, ?, 'CONFIRMED', 1, UTC_TIMESTAMP(6),"
                   " UTC_TIMESTAMP(6))", (change["delivery_id"], change["order_id"], user_id, json.dumps(order)))
    return {**change, "user_id": user_id, "id": add_delivery_event(conn, delivery_status_changed.build(change))}


def add_delivery_event(conn, message) -> int:
    """One event in delivery-ms's outbox (the board's log), committed unless `conn` holds a transaction open."""
    cursor = conn.cursor()
    DELIVERY_OUTBOX.insert(cursor, message)
    return cursor.lastrowid


def moved(delivery: dict, status: str) -> dict:
    return {**delivery, "status": status, "previous_status": delivery["status"], "version": delivery["version"] + 1,
            "updated_at": "2026-12-07T12:00:01.000000Z"}


def refusal_of(delivery: dict):
    return order_cancel_refused.build({
        "delivery_id": delivery["delivery_id"], "order_id": delivery["order_id"], "status": delivery["status"],
        "version": delivery["version"], "reason": "The delivery is already IN_DELIVERY.",
        "refused_at": "2026-12-07T12:00:02.000000Z"})


def board_stream(base_url: str, headers: dict) -> EventStream:
    stream = EventStream(f"{base_url}/delivery-ms/deliveries/events", headers)
    assert stream.status_code == 200, stream.response.text
    assert stream.next_block() == {"retry": "2000"}
    return stream


BOARD_FIELDS = ("delivery_id", "order_id", "user_id", "status", "previous_status", "version", "updated_at")


def test_the_board_shows_every_delivery_change_to_staff_from_the_outbox(base_url, staff_headers, delivery_db):
    """the board's events are delivery-ms's DeliveryStatusChanged events (its outbox) with the customer;
    a cancel's refusal, in the same outbox, is not shown."""
    with board_stream(base_url, staff_headers) as stream:
        created = add_delivery(delivery_db)
        add_delivery_event(delivery_db, refusal_of(created))
        in_delivery = moved(created, "IN_DELIVERY")
        in_delivery["id"] = add_delivery_event(delivery_db, delivery_status_changed.build(in_delivery))
        events = [stream.next_event() for _ in range(2)]
    assert [(e["event"], e["id"]) for e in events] == [("delivery-status", str(created["id"])),
                                                       ("delivery-status", str(in_delivery["id"]))]
    assert [e["data"] for e in events] == [{name: change[name] for name in BOARD_FIELDS}
                                           for change in (created, in_delivery)]


def test_the_board_resumes_after_last_event_id_with_what_it_missed(base_url, staff_headers, delivery_db):
    """a board reconnecting with the id of an event gets every later change (never a refusal), then
    follows live."""
    created = add_delivery(delivery_db)
    add_delivery_event(delivery_db, refusal_of(created))
    in_delivery = moved(created, "IN_DELIVERY")
    missed = add_delivery_event(delivery_db, delivery_status_changed.build(in_delivery))
    with board_stream(base_url, {**staff_headers, "Last-Event-ID": str(created["id"])}) as stream:
        replayed = stream.next_event()
        completed = add_delivery_event(delivery_db, delivery_status_changed.build(moved(in_delivery, "COMPLETED")))
        live = stream.next_event()
    assert (replayed["id"], replayed["data"]["status"]) == (str(missed), "IN_DELIVERY")
    assert (live["id"], live["data"]["status"]) == (str(completed), "COMPLETED")


def test_the_board_shows_a_lower_outbox_id_that_commits_after_a_higher_one(base_url, staff_headers, stack,
                                                                           delivery_db):
    """the board's cursor is gap-aware over the outbox too: two writers, the lower id commits last."""
    slow = stack.admin_connect(stack.databases["delivery_ms"].database)
    try:
        with board_stream(base_url, staff_headers) as stream:
            slow.autocommit = False
            lower = add_delivery(slow)
            higher = add_delivery(delivery_db)
            assert higher["id"] > lower["id"]
            slow.commit()
            assert [stream.next_event()["id"] for _ in range(2)] == [str(lower["id"]), str(higher["id"])]
    finally:
        slow.close()


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["hint"]
    return response.json()


@pytest.mark.parametrize("path", ["/order-ms/USER0001/orders/events", "/delivery-ms/deliveries/events"])
def test_no_token_is_refused_before_the_stream_starts(base_url, path):
    body = problem(requests.get(f"{base_url}{path}", timeout=10), 401)
    assert "/order-ms/login" in body["hint"]


def test_another_customers_stream_and_the_board_are_forbidden_to_a_customer(base_url, customer):
    problem(requests.get(f"{base_url}/order-ms/USER0001/orders/events", headers=customer.headers, timeout=10), 403)
    problem(requests.get(f"{base_url}/delivery-ms/deliveries/events", headers=customer.headers, timeout=10), 403)


def test_staff_asking_for_an_unknown_users_stream_get_404_and_a_bad_event_id_422(base_url, staff_headers, customer):
    problem(requests.get(f"{base_url}/order-ms/nobody-{uuid.uuid4().hex[:8]}/orders/events",
                         headers=staff_headers, timeout=10), 404)
    body = problem(requests.get(f"{base_url}/order-ms/{customer.user_id}/orders/events",
                                headers={**customer.headers, "Last-Event-ID": "latest"}, timeout=10), 422)
    assert body["errors"][0]["field"] == "Last-Event-ID"


def test_a_broker_outage_keeps_the_stream_open_and_it_goes_on_after(base_url, customer, stack, order_db):
    """The streams read only MariaDB: with the broker gone the stream keeps its heartbeat and shows what is
    written meanwhile; with the broker back, the same connection goes on."""
    layout = layout_for(stack.profile, starting=False)
    with order_stream(base_url, customer.user_id, customer.headers) as stream:
        hold_process(layout, "broker", signal.SIGKILL)
        try:
            assert stream.next_block() == {"comments": ["keep-alive"]}
            during = add_order_change(order_db, customer.user_id, "IN_DELIVERY")
            assert stream.next_event()["id"] == str(during)
        finally:
            release_process(layout, "broker")
        after = add_order_change(order_db, customer.user_id, "COMPLETED")
        assert stream.next_event()["id"] == str(after)


def metric(stack, name: str) -> float:
    """The value of an unlabelled metric on the order-ms stream process's metrics port (not routed by the ingress)."""
    text = requests.get(stack.metrics["order-ms-stream"], timeout=10).text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.split(" ")[0] == name)


def test_the_stream_process_counts_open_streams_and_pushed_events(base_url, customer, stack, order_db):
    pushed_before = metric(stack, "sse_events_pushed_total")
    with order_stream(base_url, customer.user_id, customer.headers) as stream:
        # At least this one (a stream closed earlier counts until the process notices, at its next heartbeat).
        assert metric(stack, "sse_streams_open") >= 1
        add_order_change(order_db, customer.user_id, "CONFIRMED")
        stream.next_event()
        assert metric(stack, "sse_events_pushed_total") >= pushed_before + 1
