"""Tracing in the HTTP processes, served by real gunicorn (the API's sync worker and the stream process's gevent
worker) on the stack's databases, exporting to a real OTLP/HTTP receiver: a request continues the caller's
`traceparent`, its statements are its children, the order's outbox row and log lines carry the trace, and a stream's
push of a change continues the change's trace. The instances are the test's own, started with an OTLP endpoint;
the stack's keep the production default (tracing off)."""
from __future__ import annotations

import json
import uuid

import requests

from tests.support.accounts import new_customer
from tests.support.gunicorn import gunicorn
from tests.support.otlp_receiver import OtlpReceiver

TRACE_ID, CALLER_SPAN_ID = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN_ID}-01"
ORDER = {"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 2}
STREAM_ENV = {"GUNICORN_WORKER_CLASS": "gevent", "GUNICORN_WORKERS": "1", "GUNICORN_GRACEFUL_TIMEOUT": "2"}


def test_an_order_request_continues_the_caller_s_trace_into_its_statements_outbox_row_and_logs(stack, base_url,
                                                                                             order_db, tmp_path):
    customer = new_customer(base_url)
    with OtlpReceiver() as receiver:
        env = {**stack.http_env_of("order_ms"), "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "ACCESS_LOG": "all"}
        with gunicorn("services.order_ms:create_app()", env, tmp_path) as url:
            response = requests.post(f"{url}/order-ms/{customer.user_id}/orders", json=ORDER,
                                     headers={**customer.headers, "traceparent": TRACEPARENT}, timeout=10)
            assert response.status_code == 201, response.text
            requests.get(f"{url}/order-ms/healthz", timeout=10)
        # gunicorn stopped (SIGTERM): its worker exported what it held before it exited.
        spans = receiver.received()
    server = next(s for s in spans if s.kind == "SERVER")
    assert (server.service, server.name, server.trace_id, server.parent_span_id) == (
        "order-ms", "POST /order-ms/<user_id>/orders", TRACE_ID, CALLER_SPAN_ID)
    assert [s for s in spans if s.kind == "SERVER"] == [server]  # the probe made none
    statements = {s.name for s in spans if s.kind == "CLIENT" and s.parent_span_id == server.span_id}
    assert {"INSERT orders", "INSERT order_outbox"} <= statements

    order_db.commit()
    cursor = order_db.cursor()
    cursor.execute("SELECT headers FROM order_outbox WHERE message_key = ?", (response.json()["order_id"],))
    headers = dict(json.loads(cursor.fetchone()[0]))
    assert headers["traceparent"].split("-")[1:3] == [TRACE_ID, server.span_id]

    lines = [json.loads(line) for line in (tmp_path / "gunicorn.log").read_text().splitlines() if line.startswith("{")]
    access = next(line for line in lines if line.get("logger") == "access" and line.get("method") == "POST")
    assert (access["trace_id"], access["span_id"]) == (TRACE_ID, server.span_id)
    assert access["request_id"]


def test_a_stream_push_continues_the_trace_its_change_was_made_in(stack, base_url, order_db, tmp_path):
    customer = new_customer(base_url)
    change_span_id = "53995c3f42cd8ad8"
    cursor = order_db.cursor()
    order_id = str(uuid.uuid4())
    # A change as the status consumer logs it in a record's process span.
    cursor.execute("INSERT INTO order_status_changes (user_id, order_id, kind, delivery_id, status, updated_at,"
                   " traceparent) VALUES (?, ?, 'DELIVERY', NULL, 'CONFIRMED', NOW(6), ?)",
                   (customer.user_id, order_id, f"00-{TRACE_ID}-{change_span_id}-01"))
    order_db.commit()
    stream_trace_id = "ab" * 16
    with OtlpReceiver() as receiver:
        env = {**stack.http_env_of("order_ms"), **STREAM_ENV, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
        with gunicorn("services.order_ms:create_stream_app()", env, tmp_path) as url, \
                requests.get(f"{url}/order-ms/{customer.user_id}/orders/events?last_event_id=0",
                             headers={**customer.headers, "traceparent": f"00-{stream_trace_id}-{'cd' * 8}-01"},
                             stream=True, timeout=10) as stream:
            assert stream.status_code == 200
            lines = stream.iter_lines(decode_unicode=True)
            assert next(line for line in lines if line.startswith("event:")) == "event: order-status"
            # Exported by the batch processor within its delay while the stream stays open (a stream process that
            # stops kills the streams still open after its graceful timeout, and with them what they hold).
            push = receiver.wait_for(lambda spans: next((s for s in spans if s.name == "order-status push"), None),
                                     "the push's span")
    assert (push.service, push.kind, push.trace_id, push.parent_span_id) == (
        "order-ms-stream", "PRODUCER", TRACE_ID, change_span_id)
    assert [trace_id for trace_id, _span_id in push.links] == [stream_trace_id]  # the stream's own request span
    assert push.attributes["sse.replayed"] is True
