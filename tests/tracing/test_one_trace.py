"""One order, one trace: from the POST through the outbox, Kafka and both consumers to the status the customer sees,
with every parent link in place, in the logs and in the local trace UI (CASE-0160..CASE-0163)."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.acceptance.uat.flows import orders_path, place_order
from tests.acceptance.ui_support import CHROMIUM, CHROMIUM_ARGS
from tests.support.accounts import new_customer
from tests.support.polling import wait_for
from tests.tracing.trace_flow import SIX_PROCESSES, Caller, by_service, one, order_through, server_span

# The trace page as the test saw it, for a person to look at (make test keeps test-results/).
SCREENSHOTS = Path(os.environ.get("TEST_RESULTS") or "test-results") / "tracing"


@pytest.fixture(scope="module")
def completed(api, customer_for_module, staff, receiver):
    """One order placed with a known traceparent and moved to COMPLETED, and every span of its trace once the
    status consumer's spans of both moves arrived."""
    caller = Caller.new()
    flow = order_through(api, customer_for_module, staff, caller)

    client_spans = {caller.span_id, *(put.span_id for put in flow["puts"])}

    def complete(spans) -> bool:
        # Each process exports in batches of its own: the trace is whole once the status consumer processed all
        # three changes (CONFIRMED, IN_DELIVERY, COMPLETED) and every span's parent has arrived too.
        statuses = [s for s in spans if s.service == "order-status-consumer" and s.kind == "CONSUMER"]
        known = {s.span_id for s in spans} | client_spans
        return (set(SIX_PROCESSES) <= {s.service for s in spans} and len(statuses) >= 3
                and all(s.parent_span_id in known for s in spans))
    spans = receiver.wait_for_trace(caller.trace_id, complete,
                                    "the order's trace from all six processes, every parent arrived")
    return {**flow, "caller": caller, "spans": spans}


@pytest.fixture(scope="module")
def customer_for_module(tracing_stack):
    return new_customer(tracing_stack.state.base_url, prefix="trace")


@pytest.mark.case("CASE-0160")
def test_one_order_is_one_trace_across_six_processes(completed, receiver):
    spans, caller = completed["spans"], completed["caller"]
    assert set(SIX_PROCESSES) <= set(by_service(spans)), sorted(by_service(spans))
    ids = {span.span_id for span in spans}
    # The client's own spans are the only parents outside what the processes sent.
    client_spans = {caller.span_id, *(put.span_id for put in completed["puts"])}
    orphans = [(s.service, s.name, s.parent_span_id) for s in spans
               if s.parent_span_id not in ids | client_spans]
    assert orphans == [], "every span's parent is a span of the trace or the client's"

    post = server_span(spans, "order-ms", "POST", caller.span_id)
    order_ms_ids = {s.span_id for s in spans if s.service == "order-ms"}
    publish = one(spans, "new_orders PRODUCER span", service="order-relay", kind="PRODUCER", name="new_orders publish")
    assert publish.parent_span_id in order_ms_ids and publish.attributes["messaging.system"] == "kafka"
    process = one(spans, "new_orders CONSUMER span", service="delivery-consumer", kind="CONSUMER",
                  name="new_orders process")
    assert process.parent_span_id == publish.span_id
    assert post.parent_span_id == caller.span_id

    # Both moves: delivery-ms's SERVER span under the client's PUT, its event published by the delivery relay,
    # processed by order-ms's status consumer as a child of that publish.
    status_publishes = [s for s in spans if s.service == "delivery-relay" and s.kind == "PRODUCER"]
    status_processes = [s for s in spans if s.service == "order-status-consumer" and s.kind == "CONSUMER"]
    for put in completed["puts"]:
        move = server_span(spans, "delivery-ms", "PUT", put.span_id)
        descendants = descendants_of(move, spans)
        published = [s for s in status_publishes if s.span_id in descendants]
        assert len(published) == 1 and published[0].name == "delivery_status publish", published
        processed = [s for s in status_processes if s.parent_span_id == published[0].span_id]
        assert [s.name for s in processed] == ["delivery_status process"]
    # The delivery's creation (CONFIRMED) goes the same way, from the consumer's span.
    created = [s for s in status_publishes if s.span_id in descendants_of(process, spans)]
    assert len(created) == 1
    assert any(s.parent_span_id == created[0].span_id for s in status_processes)


def descendants_of(root, spans) -> set[str]:
    found, frontier = set(), {root.span_id}
    while frontier:
        children = {s.span_id for s in spans if s.parent_span_id in frontier} - found
        found |= children
        frontier = children
    return found


@pytest.mark.case("CASE-0161")
def test_an_incoming_traceparent_is_honoured_through_the_ingress(api, customer_for_module, receiver):
    caller = Caller.new()
    order = place_order(api, customer_for_module, headers=caller.headers)
    spans = receiver.wait_for_trace(
        caller.trace_id, lambda found: {"order-ms", "order-relay"} <= {s.service for s in found},
        "order-ms's and the relay's spans of the order")
    post = server_span(spans, "order-ms", "POST", caller.span_id)
    assert post.trace_id == caller.trace_id
    publish = one(spans, "the relay's publish", service="order-relay", kind="PRODUCER")
    assert publish.attributes["messaging.kafka.message.key"] == order["order_id"]


@pytest.mark.case("CASE-0162")
def test_log_lines_carry_the_trace_and_span_ids(api, customer_for_module, producer, tracing_stack, receiver):
    caller = Caller.new()
    refused = api.post(orders_path(customer_for_module.user_id), json={"coffee_name": ""},
                       token=customer_for_module.token, headers=caller.headers)
    assert refused.status_code == 422
    spans = receiver.wait_for_trace(caller.trace_id, lambda found: any(s.service == "order-ms" for s in found),
                                    "order-ms's span of the refused POST")
    post = server_span(spans, "order-ms", "POST", caller.span_id)
    lines = wait_for(lambda: logged(tracing_stack, "order-ms", caller.trace_id), "order-ms's line of the 422")
    assert {(line["span_id"], line.get("request_id")) for line in lines} == {
        (post.span_id, refused.headers["X-Request-ID"])}

    dead = Caller.new()
    producer.send_raw(f"trace-log-{dead.trace_id[:12]}".encode(), b"not an order",
                      [("traceparent", dead.traceparent.encode())])
    spans = receiver.wait_for_trace(dead.trace_id, lambda found: any(s.kind == "CONSUMER" for s in found),
                                    "the consumer's span of the dead-lettered record")
    process = one(spans, "the record's process span", service="delivery-consumer", kind="CONSUMER")
    lines = wait_for(lambda: logged(tracing_stack, "consumer-1", dead.trace_id), "the consumer's dead-letter line")
    assert [(line["message"], line["span_id"]) for line in lines] == [
        ("dead-lettered an unusable message", process.span_id)]


def logged(tracing_stack, process: str, trace_id: str) -> list[dict]:
    return [line for line in json_lines(tracing_stack.log_lines(process)) if line.get("trace_id") == trace_id]


def json_lines(lines: list[str]) -> list[dict]:
    parsed = []
    for line in lines:
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            parsed.append(value)
    return parsed


@pytest.mark.case("CASE-0163")
def test_the_trace_is_found_in_the_local_trace_ui(completed, tracing_stack):
    trace_id = completed["caller"].trace_id
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            page.goto(f"{tracing_stack.state.trace_ui}/zipkin/")
            # Zipkin's "Search by trace ID" box, as a person would use it with the id from a log line.
            lookup = page.get_by_placeholder("Trace ID")
            lookup.fill(trace_id)
            lookup.press("Enter")
            page.wait_for_url(f"**/traces/{trace_id}")
            # Each span's row reads "<service>: <span name>".
            for service in SIX_PROCESSES:
                expect(page.get_by_text(re.compile(rf"^{re.escape(service)}: ")).first).to_be_visible()
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "order-trace.png"), full_page=True)
        finally:
            browser.close()
