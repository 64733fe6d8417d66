"""What tracing must never break: a record from a producer that sends no trace headers, orders while the trace
backend is down, a record that is dead-lettered, a malformed traceparent (CASE-0164..CASE-0167)."""
from __future__ import annotations

import pytest

from services.contracts import order_created
from tests.acceptance.uat.flows import deliveries_of, place_order, wait_for_delivery
from tests.support.topics import TopicReader, new_order
from tests.tracing.trace_flow import Caller, one, order_through, server_span


def process_span_of(receiver, order_id: str, what: str):
    """The delivery consumer's "new_orders process" span of the record keyed `order_id`."""
    def found(spans):
        return [s for s in spans if s.service == "delivery-consumer" and s.name == "new_orders process"
                and s.attributes.get("messaging.kafka.message.key") == order_id]
    spans = receiver.wait_for_trace(None, lambda spans: found(spans), what)
    return one(found(spans), what)


@pytest.mark.case("CASE-0164")
def test_a_record_without_trace_headers_is_accepted_and_starts_a_trace(producer, api, staff, receiver):
    order = new_order("trace-no-headers")
    producer.send_orders([order])
    record_headers = dict(order_created.build(order).record().headers)
    assert "traceparent" not in record_headers, "the test's own producer sends no trace context"
    delivery = wait_for_delivery(api, staff.token, order["order_id"])
    assert delivery["status"] == "CONFIRMED"
    process = process_span_of(receiver, order["order_id"], "the consumer's span of the record without headers")
    assert process.parent_span_id is None and process.kind == "CONSUMER"


@pytest.mark.case("CASE-0165")
def test_orders_go_through_while_the_trace_backend_is_down(api, customer, staff, receiver):
    receiver.stop()
    try:
        flows = [order_through(api, customer, staff, Caller.new()) for _ in range(2)]
    finally:
        receiver.start()
    placed = {flow["order"]["order_id"] for flow in flows}
    delivered = {d["order_id"] for oid in placed for d in deliveries_of(api, customer.token, oid)}
    assert delivered == placed, "every order placed while the backend was down has its delivery"
    after = Caller.new()
    place_order(api, customer, headers=after.headers)
    spans = receiver.wait_for_trace(after.trace_id, lambda found: any(s.service == "order-ms" for s in found),
                                    "the first order's spans once the receiver is back")
    server_span(spans, "order-ms", "POST", after.span_id)


@pytest.mark.case("CASE-0166")
def test_a_dead_lettered_record_keeps_its_trace_id(producer, tracing_stack, receiver):
    caller = Caller.new()
    key = f"trace-dlq-{caller.trace_id[:12]}"
    reader = TopicReader(tracing_stack.state.kafka_servers, order_created.DEAD_LETTER_TOPIC)
    try:
        producer.send_raw(key.encode(), b"not an order", [("traceparent", caller.traceparent.encode())])
        dead = reader.wait_for(lambda record: record.key == key.encode(), "the record's dead letter", timeout=60)[0]
    finally:
        reader.close()
    headers = dict(dead.headers)
    assert headers["traceparent"] == caller.traceparent.encode()
    assert headers["error"], "the dead letter says why"
    spans = receiver.wait_for_trace(
        caller.trace_id, lambda found: any(s.service == "delivery-consumer" for s in found),
        "the consumer's span of the dead-lettered record")
    process = one(spans, "process span of the dead letter", service="delivery-consumer", kind="CONSUMER")
    assert process.parent_span_id == caller.span_id and process.error


@pytest.mark.case("CASE-0167")
def test_a_malformed_traceparent_is_ignored(api, customer, receiver):
    order = place_order(api, customer, headers={"traceparent": "00-not-a-trace-01"})
    wait_for_delivery(api, customer.token, order["order_id"])

    def publish_of(spans):
        return [s for s in spans if s.service == "order-relay" and s.kind == "PRODUCER"
                and s.attributes.get("messaging.kafka.message.key") == order["order_id"]]
    publish = one(publish_of(receiver.wait_for_trace(None, publish_of, "the relay's span of the order")),
                  "the relay's span of the order")
    spans = receiver.wait_for_trace(publish.trace_id, lambda found: any(s.service == "order-ms" for s in found),
                                    "order-ms's spans of the order")
    post = one([s for s in spans if s.kind == "SERVER"], "order-ms's SERVER span", service="order-ms")
    assert post.parent_span_id is None, "a new trace starts at order-ms"
