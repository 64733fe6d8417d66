"""Tracing across real processes: an outbox row written in a known trace is published by the order relay process and
turned into a delivery by the delivery consumer process, over a private Apache Kafka node, each exporting its spans
over OTLP/HTTP to a real receiver when it stops (SIGTERM); the trace goes on in the delivery's own outbox row and
change row, and a record the consumer dead-letters keeps the trace headers it came with.

The processes are the test's own, started with an OTLP endpoint; the stack's own processes keep the production
default (no endpoint: tracing off). The whole path through the ingress and all six processes: tests/e2e of H2."""
from __future__ import annotations

import json
import os
import uuid
from dataclasses import replace

import pytest

from services.contracts import order_created
from services.order_ms.store import ORDER_OUTBOX
from tests.integration.platform.test_relay_processes import RelayProcess
from tests.support.broker import private_broker
from tests.support.databases import ThrowawayDatabase
from tests.support.otlp_receiver import OtlpReceiver
from tests.support.polling import wait_for
from tests.support.processes import IsolatedConsumers
from tests.support.topics import OrderProducer, TopicReader, new_order

TRACE_ID, CALLER_SPAN_ID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN_ID}-01"


@pytest.fixture
def traced(stack, tmp_path):
    """(receiver, environment of traced processes on a private broker, the relay's database, the consumers)."""
    order_database = ThrowawayDatabase(stack, "order_ms").create()
    consumers = IsolatedConsumers(stack, tmp_path)
    consumers.create_database()
    with OtlpReceiver() as receiver, private_broker(tmp_path) as servers:
        otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "KAFKA_BOOTSTRAP_SERVERS": servers}
        yield receiver, otel, order_database, consumers
        consumers.stop_all()
    consumers.drop_database()
    order_database.drop()


def headers_of(row_headers: str) -> dict:
    return dict(json.loads(row_headers))


def test_one_trace_from_an_outbox_row_through_the_relay_and_the_consumer_into_the_delivery_s_events(traced, tmp_path):
    receiver, otel, order_database, consumers = traced
    order = new_order(user_id="trace-test")
    with order_database.connect() as conn:
        # As order-ms writes it inside a request whose span is the caller's child.
        event = replace(order_created.build(order), trace=[("traceparent", TRACEPARENT)])
        ORDER_OUTBOX.insert(conn.cursor(), event)
        conn.commit()
    relay = RelayProcess({**os.environ, **order_database.app_env(), **otel}, tmp_path / "relay.log")
    consumer = consumers.start(**otel)
    try:
        wait_for(lambda: consumers.delivery_counts([order["order_id"]]), "the order's delivery", timeout=60)
    finally:
        relay.stop()
        consumer.stop()
    with consumers.connect() as conn:
        cursor = conn.cursor(dictionary=True)
        cursor.execute("SELECT headers FROM delivery_outbox WHERE message_key = ?", (order["order_id"],))
        delivery_event = headers_of(cursor.fetchone()["headers"])

    spans = receiver.wait_for(lambda spans: spans if {"order-relay", "delivery-consumer"} <= {s.service for s in spans}
                              else None, "both processes' spans")
    publish = next(s for s in spans if s.name == "new_orders publish")
    process = next(s for s in spans if s.name == "new_orders process")
    write = next(s for s in spans if s.name == "new_orders write")
    assert (publish.service, publish.kind, publish.trace_id, publish.parent_span_id) == (
        "order-relay", "PRODUCER", TRACE_ID, CALLER_SPAN_ID)
    assert publish.attributes["messaging.destination.name"] == "new_orders"
    assert publish.attributes["messaging.message.id"] == event.event_id
    # The consumer continued the record's context: the relay's span is its parent, across Kafka.
    assert (process.service, process.kind, process.trace_id, process.parent_span_id) == (
        "delivery-consumer", "CONSUMER", TRACE_ID, publish.span_id)
    assert (TRACE_ID, process.span_id) in write.links
    # The delivery's event (which is also the board stream's row) was made in the record's process span.
    assert delivery_event["traceparent"].split("-")[1:3] == [TRACE_ID, process.span_id]
    # The transaction's statements are children of the consumer's write span.
    statements = [s for s in spans if s.kind == "CLIENT" and s.parent_span_id == write.span_id]
    assert any(s.name == "INSERT delivery_outbox" for s in statements)


def test_a_dead_lettered_record_keeps_the_trace_it_came_with(traced, tmp_path):
    receiver, otel, _order_database, consumers = traced
    consumer = consumers.start(**otel)
    producer = OrderProducer(otel["KAFKA_BOOTSTRAP_SERVERS"])
    key = f"poison-{uuid.uuid4().hex[:8]}".encode()
    headers = [("event_id", b"e-poison"), ("traceparent", TRACEPARENT.encode()), ("tracestate", b"vendor=1")]
    try:
        producer.send_raw(key, b"this is not json", headers)
    finally:
        producer.close()
    dlq = TopicReader(otel["KAFKA_BOOTSTRAP_SERVERS"], order_created.DEAD_LETTER_TOPIC)
    try:
        dead = dlq.wait_for(lambda r: r.key == key, "the poison record on the DLQ", timeout=60)[0]
    finally:
        dlq.close()
        consumer.stop()
    assert dead.headers[:3] == headers
    process = receiver.wait_for(lambda spans: next((s for s in spans if s.name == "new_orders process"), None),
                                "the consumer's process span")
    assert (process.trace_id, process.parent_span_id, process.error) == (TRACE_ID, CALLER_SPAN_ID, True)
