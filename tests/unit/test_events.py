"""Unit tests for the message contracts: what goes on the wire, and what the consumer accepts."""
import json
import uuid

import pytest

from services.common import events
from services.order_ms.store import order_view
from datetime import datetime

ORDER_ROW = {
    "user_id": "USER0001", "order_id": str(uuid.uuid4()), "coffee_name": "jslee", "coffee_price": 2000,
    "coffee_qty": 6, "ordered_at": datetime(2026, 11, 28, 15, 4, 5, 123456),
}


def test_order_view_is_the_api_shape_with_microsecond_utc_time():
    view = order_view(ORDER_ROW)
    assert list(view) == ["user_id", "order_id", "coffee_name", "coffee_price", "coffee_qty", "ordered_at"]
    assert view["ordered_at"] == "2026-11-28T15:04:05.123456Z"


def test_order_created_message_is_keyed_by_order_id_and_versioned():
    order = order_view(ORDER_ROW)
    message = events.order_created(order)
    assert message.topic == "new_orders"
    assert message.key == order["order_id"]
    assert json.loads(message.value_bytes()) == order
    headers = dict(message.kafka_headers())
    assert headers["event_type"] == b"OrderCreated"
    assert headers["schema_version"] == b"1"
    assert uuid.UUID(headers["event_id"].decode()) and message.event_id == headers["event_id"].decode()


def test_each_message_gets_its_own_event_id():
    order = order_view(ORDER_ROW)
    assert events.order_created(order).event_id != events.order_created(order).event_id


def test_parse_order_created_round_trips():
    order = order_view(ORDER_ROW)
    assert events.parse_order_created(events.order_created(order).value_bytes()) == order


@pytest.mark.parametrize("raw,reason", [
    (b"not json", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (json.dumps({"order_id": str(uuid.uuid4())}).encode(), "missing fields"),
    (None, "no value"),
])
def test_unusable_messages_say_why(raw, reason):
    with pytest.raises(events.InvalidEvent, match=reason):
        events.parse_order_created(raw)


def test_order_id_must_be_a_uuid():
    bad = {**order_view(ORDER_ROW), "order_id": "42"}
    with pytest.raises(events.InvalidEvent, match="UUID"):
        events.parse_order_created(json.dumps(bad).encode())
