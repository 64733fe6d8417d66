"""DeliveryStatusChanged v1: keyed by order_id, the change with its previous status, parsed back exactly."""
import json
import uuid

import pytest

from services.contracts import delivery_status_changed
from services.contracts.envelope import InvalidEvent

CHANGE = {"delivery_id": str(uuid.uuid4()), "order_id": str(uuid.uuid4()), "status": "IN_DELIVERY",
          "previous_status": "CONFIRMED", "updated_at": "2026-11-28T15:09:41.000321Z"}


def test_the_record_is_keyed_by_order_id_and_round_trips():
    record = delivery_status_changed.build(CHANGE).record()
    assert record.topic == "delivery_status" and record.key == CHANGE["order_id"].encode()
    assert dict(record.headers)["event_type"] == b"DeliveryStatusChanged"
    assert list(json.loads(record.value)) == ["delivery_id", "order_id", "status", "previous_status", "updated_at"]
    assert delivery_status_changed.parse(record.value, record.headers) == CHANGE


def test_an_unknown_status_is_refused():
    with pytest.raises(InvalidEvent, match="status"):
        delivery_status_changed.parse(json.dumps({**CHANGE, "status": "LOST"}).encode())
