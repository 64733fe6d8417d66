"""OrderCreated v1: what goes on the wire, and what a consumer accepts (everything else says why not)."""
import json
import uuid
from datetime import datetime

import pytest

from services.contracts import order_created
from services.contracts.envelope import InvalidEvent
from services.order_ms.store import order_view

ORDER_ROW = {
    "user_id": "USER0001", "order_id": str(uuid.uuid4()), "coffee_name": "jslee", "coffee_price": 2000,
    "coffee_qty": 6, "ordered_at": datetime(2026, 11, 28, 15, 4, 5, 123456),
}


def order(**overrides) -> dict:
    return {**order_view(ORDER_ROW), **overrides}


def test_order_view_is_the_api_shape_with_microsecond_utc_time():
    view = order_view(ORDER_ROW)
    assert list(view) == ["user_id", "order_id", "coffee_name", "coffee_price", "coffee_qty", "ordered_at"]
    assert view["ordered_at"] == "2026-11-28T15:04:05.123456Z"


def test_the_record_is_keyed_by_order_id_versioned_and_compact_json_in_contract_order():
    message = order_created.build(order())
    record = message.record()
    assert record.topic == "new_orders"
    assert record.key == order()["order_id"].encode()
    assert record.value == json.dumps(order(), separators=(",", ":")).encode()
    headers = dict(record.headers)
    assert headers["event_type"] == b"OrderCreated"
    assert headers["schema_version"] == b"1"
    assert uuid.UUID(headers["event_id"].decode()) and message.event_id == headers["event_id"].decode()


def test_each_event_gets_its_own_id():
    assert order_created.build(order()).event_id != order_created.build(order()).event_id


def test_what_is_built_parses_back_to_the_same_order():
    record = order_created.build(order()).record()
    assert order_created.parse(record.value, record.headers) == order()


def test_unknown_fields_are_ignored_so_producers_may_add_some():
    assert order_created.parse(json.dumps({**order(), "loyalty_points": 3}).encode()) == order()


@pytest.mark.parametrize("raw,reason", [
    (b"not json", "not JSON"),
    (b"\xff\xfe", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
    (b'{"coffee_qty": ' + b"9" * 5000 + b"}", "not JSON"),
    (json.dumps({"order_id": str(uuid.uuid4())}).encode(), "user_id is required"),
    (None, "no value"),
])
def test_unusable_values_say_why(raw, reason):
    with pytest.raises(InvalidEvent, match=reason):
        order_created.parse(raw)


@pytest.mark.parametrize("field,value", [
    ("order_id", "42"),
    ("order_id", str(uuid.uuid4()).upper()),
    ("user_id", "USER0001\n"),
    ("user_id", "x" * 51),
    ("user_id", 7),
    ("coffee_name", "\ud800"),
    ("coffee_name", ""),
    ("coffee_price", True),
    ("coffee_price", 1_000_001),
    ("coffee_qty", 2.5),
    ("ordered_at", "2026-11-28 15:04:05"),
    ("ordered_at", "2026-13-28T15:04:05.123456Z"),
    ("ordered_at", "２０２６-11-28T15:04:05.123456Z"),
])
def test_fields_outside_the_contract_are_refused_naming_the_field(field, value):
    with pytest.raises(InvalidEvent, match=field):
        order_created.parse(json.dumps(order(**{field: value})).encode())


def test_a_record_of_another_event_type_or_version_is_refused():
    value = json.dumps(order()).encode()
    with pytest.raises(InvalidEvent, match="event_type"):
        order_created.parse(value, [("event_type", b"OrderCancelled")])
    with pytest.raises(InvalidEvent, match="schema_version"):
        order_created.parse(value, [("schema_version", b"2")])


def test_null_and_missing_headers_are_accepted():
    value = json.dumps(order()).encode()
    assert order_created.parse(value, [("event_type", None), ("schema_version", None)]) == order()
    assert order_created.parse(value, None) == order()
