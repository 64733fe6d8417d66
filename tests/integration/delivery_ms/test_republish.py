"""A duplicate OrderCreated for a delivery made before deliveries had versions and a change log (an order older
than issue 23, which order-ms's reconciler re-publishes): delivery-ms answers with the delivery's current state,
version 1 and no previous status, and changes nothing (design 23, section 7)."""
import json
import uuid
from datetime import datetime

from services.delivery_ms import store
from tests.support.topics import new_order
from tests.unit.fake_stores import order_created_events


def test_an_old_delivery_answers_a_duplicate_order_with_its_current_state(delivery_db, delivery_pool):
    order = new_order()
    delivery_id, moved_at = str(uuid.uuid4()), datetime(2026, 11, 28, 15, 9, 41, 321)
    cursor = delivery_db.cursor()
    # As the consumer and a staff move of the previous release left it: COMPLETED, the default version, no log.
    cursor.execute("INSERT INTO delivery_status (delivery_id, order_id, user_id, order_json, status, created_at,"
                   " updated_at) VALUES (?, ?, ?, ?, 'COMPLETED', ?, ?)",
                   (delivery_id, order["order_id"], order["user_id"], json.dumps(order), moved_at, moved_at))
    delivery_db.commit()

    assert store.apply_order_events(delivery_pool, order_created_events([order])) == 0

    cursor.execute("SELECT headers, payload FROM delivery_outbox WHERE message_key = ?", (order["order_id"],))
    ((headers, payload),) = cursor.fetchall()
    assert dict(json.loads(headers))["event_type"] == "DeliveryStatusChanged"
    assert json.loads(payload) == {"delivery_id": delivery_id, "order_id": order["order_id"], "status": "COMPLETED",
                                   "previous_status": None, "updated_at": "2026-11-28T15:09:41.000321Z",
                                   "version": 1}
    cursor.execute("SELECT status, previous_status, version FROM delivery_status WHERE delivery_id = ?",
                   (delivery_id,))
    assert cursor.fetchone() == ("COMPLETED", None, 1), "a re-published state is no change"
