"""OrderCancelRequested (on new_orders) and OrderCancelRefused (on delivery_status): keyed by order_id like the
order's other events, built and parsed one way, refusing what is off contract."""
import json
import uuid

import pytest

from services.contracts import order_cancel_refused, order_cancel_requested, order_created
from services.contracts.envelope import InvalidEvent
from tests.support.topics import new_order

REQUESTED_AT = "2026-11-28T15:06:00.000000Z"


def refusal(**overrides):
    return {"delivery_id": str(uuid.uuid4()), "order_id": str(uuid.uuid4()), "status": "IN_DELIVERY", "version": 2,
            "reason": "The delivery is already IN_DELIVERY; only a CONFIRMED delivery can be canceled.",
            "refused_at": "2026-11-28T15:06:00.250000Z", **overrides}


def test_a_cancel_request_carries_the_order_as_created_plus_when_and_follows_it_on_new_orders():
    order = {**new_order(), "delivery": None}   # an order view may carry more; the event carries the contract's
    record = order_cancel_requested.build(order, REQUESTED_AT).record()
    created = order_created.build(order).record()
    assert (record.topic, record.key) == (created.topic, created.key)
    assert dict(record.headers)["event_type"] == b"OrderCancelRequested"
    assert list(json.loads(record.value)) == [*order_created.FIELDS, "requested_at"]
    parsed = order_cancel_requested.parse(record.value, record.headers)
    assert parsed == {**{name: order[name] for name in order_created.FIELDS}, "requested_at": REQUESTED_AT}


def test_a_cancel_request_without_its_time_or_with_another_type_is_refused():
    record = order_created.build(new_order()).record()
    with pytest.raises(InvalidEvent, match="requested_at"):
        order_cancel_requested.parse(record.value)
    with pytest.raises(InvalidEvent, match="event_type"):
        order_cancel_requested.parse(order_cancel_requested.build(new_order(), REQUESTED_AT).record().value,
                                     record.headers)


def test_a_refusal_is_keyed_by_order_id_and_round_trips():
    value = refusal()
    record = order_cancel_refused.build(value).record()
    assert record.topic == "delivery_status" and record.key == value["order_id"].encode()
    assert dict(record.headers)["event_type"] == b"OrderCancelRefused"
    assert order_cancel_refused.parse(record.value, record.headers) == value


@pytest.mark.parametrize("field,value", [("reason", ""), ("reason", "x" * 201), ("status", "LOST"), ("version", 0),
                                         ("refused_at", "yesterday"), ("delivery_id", "42")])
def test_a_refusal_off_contract_is_refused_naming_the_field(field, value):
    with pytest.raises(InvalidEvent, match=field):
        order_cancel_refused.parse(json.dumps(refusal(**{field: value})).encode())
