"""order-ms's read model on MariaDB: the status consumer's write applies only a higher version, logs each applied
change once, decides cancel requests once, refuses an unknown order without writing anything, and the views' query
reads it all back; hypothesis replays, reorders and re-batches a delivery's events and it never moves backwards."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.contracts.envelope import TypedEvent
from services.order_ms import read_model
from services.order_ms.read_model import CANCEL_REFUSED, DELIVERY_CHANGED, UnknownOrder
from services.platform.timefmt import iso_utc, utc_now

ORDER = {"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 1}
STATUSES = ("CONFIRMED", "IN_DELIVERY", "COMPLETED", "CANCELED")
BASE_TIME = datetime(2026, 11, 28, 15, 0, 0)



def new_order(pool) -> dict:
    """An order of order-ms's database without its OrderCreated event: the stack's pipeline never delivers it, so
    the only status events it gets are the test's own. (With the event, the stack's real CONFIRMED could be applied
    before them, as hypothesis found once: an extra version 1 at the head of the change log.)"""
    order = {"order_id": str(uuid.uuid4()), "user_id": f"rm-{uuid.uuid4().hex[:10]}", **ORDER, "ordered_at": utc_now()}
    with pool.transaction() as cursor:
        cursor.execute("INSERT INTO orders (order_id, user_id, coffee_name, coffee_price, coffee_qty, ordered_at)"
                       " VALUES (?, ?, ?, ?, ?, ?)", tuple(order[name] for name in (
                           "order_id", "user_id", "coffee_name", "coffee_price", "coffee_qty", "ordered_at")))
    return order


def at(version: int) -> str:
    """A change's time that names its version, so the change log shows which versions were applied."""
    return iso_utc(BASE_TIME + timedelta(seconds=version))


def changed(order: dict, version: int, status: str = "IN_DELIVERY", delivery_id: str = "") -> TypedEvent:
    return TypedEvent(DELIVERY_CHANGED, {
        "delivery_id": delivery_id or order["delivery_id"], "order_id": order["order_id"], "status": status,
        "previous_status": None, "updated_at": at(version), "version": version})


def refused(order: dict, reason: str = "The delivery is already IN_DELIVERY.") -> TypedEvent:
    return TypedEvent(CANCEL_REFUSED, {
        "delivery_id": order["delivery_id"], "order_id": order["order_id"], "status": "IN_DELIVERY", "version": 2,
        "reason": reason, "refused_at": "2026-11-28T16:00:00.000001Z"})


@pytest.fixture
def order(pool):
    return {**new_order(pool), "delivery_id": str(uuid.uuid4())}


def stored(pool, order_id: str) -> dict | None:
    with pool.transaction() as cursor:
        cursor.execute("SELECT delivery_id, status, version, updated_at FROM order_deliveries WHERE order_id = ?",
                       (order_id,))
        return cursor.fetchone()


def change_log(pool, order_id: str) -> list[dict]:
    with pool.transaction() as cursor:
        cursor.execute("SELECT user_id, kind, delivery_id, status, cancel_outcome, reason, updated_at"
                       " FROM order_status_changes WHERE order_id = ? ORDER BY id", (order_id,))
        return cursor.fetchall()


def request_cancel(pool, order_id: str) -> None:
    """A PENDING cancel request, as the cancel endpoint records it."""
    with pool.transaction() as cursor:
        cursor.execute("INSERT INTO order_cancel_requests (order_id, requested_at) VALUES (?, ?)",
                       (order_id, utc_now()))


def cancel_of(pool, order_id: str) -> dict:
    with pool.transaction() as cursor:
        cursor.execute("SELECT outcome, reason, decided_at FROM order_cancel_requests WHERE order_id = ?", (order_id,))
        return cursor.fetchone()


def test_a_higher_version_is_applied_and_logged_once_a_replay_changes_nothing(pool, order):
    batch = [changed(order, 1, "CONFIRMED"), changed(order, 2, "IN_DELIVERY")]
    assert read_model.apply_status_events(pool, batch) == 2
    assert read_model.apply_status_events(pool, batch) == 0, "a redelivered batch is all duplicates"
    row = stored(pool, order["order_id"])
    assert (row["delivery_id"], row["status"], row["version"]) == (order["delivery_id"], "IN_DELIVERY", 2)
    log = change_log(pool, order["order_id"])
    assert [(entry["kind"], entry["status"], entry["user_id"]) for entry in log] == [
        ("DELIVERY", "CONFIRMED", order["user_id"]), ("DELIVERY", "IN_DELIVERY", order["user_id"])]


def test_an_older_version_after_a_newer_one_is_ignored(pool, order):
    assert read_model.apply_status_events(pool, [changed(order, 3, "COMPLETED")]) == 1
    assert read_model.apply_status_events(pool, [changed(order, 2, "IN_DELIVERY"), changed(order, 1, "CONFIRMED")]) == 0
    assert stored(pool, order["order_id"])["status"] == "COMPLETED"
    assert [entry["status"] for entry in change_log(pool, order["order_id"])] == ["COMPLETED"]


def test_an_event_for_an_unknown_order_writes_nothing_of_its_batch(pool, order):
    stranger = {"order_id": str(uuid.uuid4()), "delivery_id": str(uuid.uuid4())}
    with pytest.raises(UnknownOrder, match=f"unknown order: order-ms has no order {stranger['order_id']}"):
        read_model.apply_status_events(pool, [changed(order, 1, "CONFIRMED"), changed(stranger, 1, "CONFIRMED")])
    assert stored(pool, order["order_id"]) is None and change_log(pool, order["order_id"]) == []
    # Alone, as the consumer then writes each record of the batch, the known order's event is applied.
    assert read_model.apply_status_events(pool, [changed(order, 1, "CONFIRMED")]) == 1


def test_a_cancel_to_canceled_decides_the_pending_request(pool, order):
    request_cancel(pool, order["order_id"])
    assert read_model.apply_status_events(pool, [changed(order, 1, "CONFIRMED"), changed(order, 2, "CANCELED")]) == 2
    decided = cancel_of(pool, order["order_id"])
    assert (decided["outcome"], decided["reason"], iso_utc(decided["decided_at"])) == ("CANCELED", None, at(2))
    assert read_model.apply_status_events(pool, [refused(order)]) == 0, "a decided request stays decided"
    assert cancel_of(pool, order["order_id"])["outcome"] == "CANCELED"


def test_a_refusal_decides_the_pending_request_and_is_logged_once(pool, order):
    request_cancel(pool, order["order_id"])
    read_model.apply_status_events(pool, [changed(order, 2, "IN_DELIVERY")])
    assert read_model.apply_status_events(pool, [refused(order), refused(order)]) == 1
    assert read_model.apply_status_events(pool, [refused(order)]) == 0
    decided = cancel_of(pool, order["order_id"])
    assert (decided["outcome"], decided["reason"]) == ("REFUSED", "The delivery is already IN_DELIVERY.")
    cancels = [entry for entry in change_log(pool, order["order_id"]) if entry["kind"] == "CANCEL"]
    assert [(entry["cancel_outcome"], entry["status"], entry["delivery_id"], entry["reason"]) for entry in cancels] == [
        ("REFUSED", "IN_DELIVERY", order["delivery_id"], "The delivery is already IN_DELIVERY.")]


def test_a_refusal_without_a_request_changes_nothing(pool, order):
    assert read_model.apply_status_events(pool, [refused(order)]) == 0
    assert change_log(pool, order["order_id"]) == [] and cancel_of(pool, order["order_id"]) is None


def test_the_views_read_delivery_and_cancel_of_a_whole_page_in_one_call(pool, order):
    quiet = new_order(pool)
    request_cancel(pool, order["order_id"])
    read_model.apply_status_events(pool, [changed(order, 2, "IN_DELIVERY"), refused(order)])
    known = read_model.delivery_and_cancel(pool, [order["order_id"], quiet["order_id"], str(uuid.uuid4())])
    delivery, cancel = known[order["order_id"]]
    assert delivery == {"delivery_id": order["delivery_id"], "status": "IN_DELIVERY", "updated_at": at(2)}
    assert list(cancel) == ["outcome", "requested_at", "reason", "decided_at"]
    assert (cancel["outcome"], cancel["reason"], cancel["decided_at"]) == (
        "REFUSED", "The delivery is already IN_DELIVERY.", "2026-11-28T16:00:00.000001Z")
    assert known[quiet["order_id"]] == (None, None)
    assert len(known) == 3 and list(known.values())[2] == (None, None), "an unknown id is simply unknown"
    views = read_model.with_delivery_and_cancel(pool, [{k: v for k, v in order.items() if k != "delivery_id"}])
    assert views[0]["delivery"] == delivery and views[0]["cancel"] == cancel


# A delivery's versions as the topic may carry them after relay replays, re-published current states, re-reads
# after a crash, or a producer that lost its order: any versions in any order, cut into batches anywhere.
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stream=st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=14),
       cuts=st.lists(st.booleans(), max_size=14))
def test_replayed_and_reordered_versions_never_move_a_delivery_backwards(pool, stream, cuts):
    order = {**new_order(pool), "delivery_id": str(uuid.uuid4())}
    batches, batch = [], []
    for position, version in enumerate(stream):
        batch.append(changed(order, version, STATUSES[min(version, 4) - 1]))
        if position < len(cuts) and cuts[position]:
            batches.append(batch)
            batch = []
    batches.append(batch)

    applied = sum(read_model.apply_status_events(pool, batch) for batch in batches)
    # What must be applied: each version higher than every one before it, once, in the order they came.
    highs = [version for position, version in enumerate(stream) if version > max(stream[:position], default=0)]
    logged = [int((entry["updated_at"] - BASE_TIME).total_seconds()) for entry in change_log(pool, order["order_id"])]
    assert logged == highs
    assert applied == len(highs)
    assert stored(pool, order["order_id"])["version"] == max(stream)
