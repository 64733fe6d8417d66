"""DeliveryStatusChanged v1: keyed by order_id, the change with its previous status (null for a new delivery) and
the delivery's version, parsed back exactly."""
import json
import uuid

import pytest

from services.contracts import delivery_status_changed
from services.contracts.envelope import InvalidEvent

CHANGE = {"delivery_id": str(uuid.uuid4()), "order_id": str(uuid.uuid4()), "status": "IN_DELIVERY",
          "previous_status": "CONFIRMED", "updated_at": "2026-11-28T15:09:41.000321Z", "version": 2}
CREATED = {**CHANGE, "status": "CONFIRMED", "previous_status": None, "version": 1}


def test_the_record_is_keyed_by_order_id_and_round_trips():
    record = delivery_status_changed.build(CHANGE).record()
    assert record.topic == "delivery_status" and record.key == CHANGE["order_id"].encode()
    assert dict(record.headers)["event_type"] == b"DeliveryStatusChanged"
    assert list(json.loads(record.value)) == ["delivery_id", "order_id", "status", "previous_status", "updated_at",
                                              "version"]
    assert delivery_status_changed.parse(record.value, record.headers) == CHANGE


def test_a_new_delivery_has_no_previous_status_written_as_null():
    record = delivery_status_changed.build(CREATED).record()
    assert json.loads(record.value)["previous_status"] is None
    assert delivery_status_changed.parse(record.value, record.headers) == CREATED
    missing = {name: value for name, value in CREATED.items() if name != "previous_status"}
    assert delivery_status_changed.parse(json.dumps(missing).encode()) == CREATED


def test_an_unknown_status_is_refused():
    with pytest.raises(InvalidEvent, match="status"):
        delivery_status_changed.parse(json.dumps({**CHANGE, "status": "LOST"}).encode())


@pytest.mark.parametrize("version", [None, 0, -1, 2**31, "2", 1.5, True])
def test_a_version_outside_the_contract_is_refused(version):
    value = {**CHANGE, "version": version} if version is not None else {k: v for k, v in CHANGE.items()
                                                                         if k != "version"}
    with pytest.raises(InvalidEvent, match="version"):
        delivery_status_changed.parse(json.dumps(value).encode())
