"""What each new_orders event does to a delivery (services/delivery_ms/lifecycle.py): creations, duplicates that
re-publish the current state, and a customer's cancel carried out, refused or not needed, as design section 2 says."""
import json
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.contracts import order_cancel_requested, order_created
from services.contracts.envelope import TypedEvent
from services.delivery_ms.lifecycle import Delivery, plan_batch
from tests.support.topics import new_order

NOW = datetime(2026, 11, 28, 15, 6, 0, 250000)
EARLIER = NOW - timedelta(minutes=5)
REQUESTED_AT = "2026-11-28T15:06:00.000000Z"


def created(order):
    return TypedEvent(order_created.EVENT_TYPE, order)


def cancel(order):
    return TypedEvent(order_cancel_requested.EVENT_TYPE, {**order, "requested_at": REQUESTED_AT})


def stored(order, status, version=1, previous_status=None):
    return Delivery(delivery_id=str(uuid.uuid4()), order_id=order["order_id"], user_id=order["user_id"],
                    status=status, version=version, updated_at=EARLIER, previous_status=previous_status)


def values(plan):
    return [(message.event_type, message.value) for message in plan.messages]


def test_an_order_becomes_a_confirmed_delivery_at_version_1_with_its_change_and_event():
    order = new_order()
    plan = plan_batch({}, [created(order)], NOW, make_id=lambda: "d-1")
    (delivery,) = plan.new_deliveries()
    assert (delivery.delivery_id, delivery.status, delivery.version, delivery.previous_status) == (
        "d-1", "CONFIRMED", 1, None)
    assert json.loads(delivery.order_json) == order and plan.changes == [delivery] and plan.applied == 1
    assert values(plan) == [("DeliveryStatusChanged", {
        "delivery_id": "d-1", "order_id": order["order_id"], "status": "CONFIRMED", "previous_status": None,
        "updated_at": "2026-11-28T15:06:00.250000Z", "version": 1})]


@pytest.mark.parametrize("status,version,previous", [("CONFIRMED", 1, None), ("IN_DELIVERY", 2, "CONFIRMED"),
                                                     ("COMPLETED", 3, "IN_DELIVERY"), ("CANCELED", 2, "CONFIRMED")])
def test_a_duplicate_order_republishes_the_current_state_unchanged(status, version, previous):
    order = new_order()
    delivery = stored(order, status, version, previous)
    plan = plan_batch({order["order_id"]: delivery}, [created(order)], NOW)
    assert plan.applied == 0 and plan.changes == [] and plan.new_deliveries() == [] and plan.moved_deliveries() == []
    assert values(plan) == [("DeliveryStatusChanged", delivery.change())]
    assert delivery.change()["version"] == version and delivery.change()["updated_at"] == "2026-11-28T15:01:00.250000Z"


def test_a_cancel_of_a_confirmed_delivery_cancels_it_one_version_up():
    order = new_order()
    delivery = stored(order, "CONFIRMED")
    plan = plan_batch({order["order_id"]: delivery}, [cancel(order)], NOW)
    (moved,) = plan.moved_deliveries()
    assert moved == replace(delivery, status="CANCELED", previous_status="CONFIRMED", version=2, updated_at=NOW)
    assert plan.changes == [moved] and plan.applied == 1
    assert values(plan) == [("DeliveryStatusChanged", moved.change())]


@pytest.mark.parametrize("status", ["IN_DELIVERY", "COMPLETED"])
def test_a_cancel_after_staff_moved_the_delivery_is_refused_with_a_readable_reason(status):
    order = new_order()
    delivery = stored(order, status, version=2, previous_status="CONFIRMED")
    plan = plan_batch({order["order_id"]: delivery}, [cancel(order)], NOW)
    assert plan.changes == [] and plan.moved_deliveries() == [] and plan.applied == 1
    assert values(plan) == [("OrderCancelRefused", {
        "delivery_id": delivery.delivery_id, "order_id": order["order_id"], "status": status, "version": 2,
        "reason": f"The delivery is already {status}; only a CONFIRMED delivery can be canceled.",
        "refused_at": "2026-11-28T15:06:00.250000Z"})]


def test_a_cancel_of_a_canceled_delivery_does_nothing():
    order = new_order()
    plan = plan_batch({order["order_id"]: stored(order, "CANCELED", 2, "CONFIRMED")}, [cancel(order)], NOW)
    assert (plan.messages, plan.changes, plan.moved_deliveries(), plan.applied) == ([], [], [], 0)


def test_a_cancel_before_the_order_was_seen_makes_it_canceled_and_the_late_order_a_duplicate():
    order = new_order()
    plan = plan_batch({}, [cancel(order), created(order)], NOW, make_id=lambda: "d-1")
    (delivery,) = plan.new_deliveries()
    assert (delivery.status, delivery.version, delivery.previous_status) == ("CANCELED", 1, None)
    assert json.loads(delivery.order_json) == order, "the order as created, without requested_at"
    assert plan.changes == [delivery] and plan.applied == 1
    # The late creation publishes the state again, so a reader that lost the first event still learns it.
    assert values(plan) == [("DeliveryStatusChanged", delivery.change())] * 2


def test_an_order_and_its_cancel_in_one_batch_are_two_changes_and_one_new_row():
    order = new_order()
    plan = plan_batch({}, [created(order), cancel(order), cancel(order)], NOW, make_id=lambda: "d-1")
    (delivery,) = plan.new_deliveries()
    assert (delivery.status, delivery.version, delivery.previous_status) == ("CANCELED", 2, "CONFIRMED")
    assert [(c.status, c.version) for c in plan.changes] == [("CONFIRMED", 1), ("CANCELED", 2)]
    assert plan.applied == 2


statuses = st.sampled_from(["CONFIRMED", "IN_DELIVERY", "COMPLETED", "CANCELED"])


@settings(max_examples=300, deadline=None)
@given(start=st.one_of(st.none(), st.tuples(statuses, st.integers(min_value=1, max_value=50))),
       kinds=st.lists(st.sampled_from(["created", "cancel"]), max_size=6))
def test_any_sequence_keeps_versions_gapless_and_every_change_published_in_order(start, kinds):
    order = new_order()
    before = {} if start is None else {order["order_id"]: stored(order, start[0], start[1])}
    plan = plan_batch(before, [created(order) if kind == "created" else cancel(order) for kind in kinds], NOW)
    first_version = 1 if start is None else start[1] + 1
    assert [change.version for change in plan.changes] == list(range(first_version,
                                                                     first_version + len(plan.changes)))
    published = [value for event_type, value in values(plan) if event_type == "DeliveryStatusChanged"]
    # Versions never go back; each change is published, in order; anything else repeats a state already known.
    assert [value["version"] for value in published] == sorted(value["version"] for value in published)
    firsts = {}
    for value in published:
        firsts.setdefault(value["version"], value)
    assert [value for version, value in firsts.items() if version >= first_version] == [
        change.change() for change in plan.changes]
    known = [change.change() for change in plan.changes] + [d.change() for d in before.values()]
    assert all(value in known for value in published)
    final = plan.deliveries.get(order["order_id"])
    if "cancel" in kinds and (start is None or start[0] in ("CONFIRMED", "CANCELED")):
        assert final.status == "CANCELED"
    if start is not None and start[0] in ("IN_DELIVERY", "COMPLETED"):
        assert final == before[order["order_id"]]
        assert len(plan.messages) == len(kinds) and plan.changes == []
