"""One order, one trace: from the POST through the outbox, Kafka and both consumers to the status the customer sees,
staff's moves and a customer's cancel included, with every parent link in place, in the logs and in the local trace
UI (CASE-0160..CASE-0163, CASE-0172, CASE-0173)."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.acceptance.uat.checks import wait_until
from tests.acceptance.uat.flows import orders_path, place_order, wait_for_delivery
from tests.acceptance.ui_support import CHROMIUM, CHROMIUM_ARGS
from tests.support.accounts import new_customer
from tests.support.polling import wait_for
from tests.tracing.trace_flow import (
    MOVES,
    SIX_PROCESSES,
    Caller,
    by_service,
    move_path,
    one,
    order_status,
    order_through,
    server_span,
)

# The trace page as the test saw it, for a person to look at (make test keeps test-results/).
SCREENSHOTS = Path(os.environ.get("TEST_RESULTS") or "test-results") / "tracing"


@pytest.fixture(scope="module")
def completed(api, customer_for_module, staff, receiver):
    """One order placed with a known traceparent and moved to COMPLETED by staff without one (as the web UI does),
    and every span of its trace once the status consumer's spans of all three changes arrived."""
    caller = Caller.new()
    flow = order_through(api, customer_for_module, staff, caller)
    spans = receiver.wait_for_trace(caller.trace_id, whole_with_status_changes(caller, 3),
                                    "the order's trace from all six processes, every parent arrived")
    return {**flow, "caller": caller, "spans": spans}


def whole_with_status_changes(caller: Caller, changes: int, processes=SIX_PROCESSES):
    """Each process exports in batches of its own: the trace is whole once every one of `processes` sent spans, the
    status consumer processed `changes` changes and every span's parent has arrived too (the client's own span is
    the one parent outside it)."""
    def complete(spans) -> bool:
        statuses = [s for s in spans if s.service == "order-status-consumer" and s.kind == "CONSUMER"]
        known = {s.span_id for s in spans} | {caller.span_id}
        return (set(processes) <= {s.service for s in spans} and len(statuses) >= changes
                and all(s.parent_span_id in known for s in spans))
    return complete


@pytest.fixture(scope="module")
def customer_for_module(tracing_stack):
    return new_customer(tracing_stack.state.base_url, prefix="trace")


@pytest.mark.case("CASE-0160")
def test_one_order_is_one_trace_across_six_processes(completed, receiver):
    spans, caller = completed["spans"], completed["caller"]
    assert set(SIX_PROCESSES) <= set(by_service(spans)), sorted(by_service(spans))
    ids = {span.span_id for span in spans}
    orphans = [(s.service, s.name, s.parent_span_id) for s in spans if s.parent_span_id not in ids | {caller.span_id}]
    assert orphans == [], "every span's parent is a span of the trace or the client's"

    post = server_span(spans, "order-ms", "POST", caller.span_id)
    order_ms_ids = {s.span_id for s in spans if s.service == "order-ms"}
    publish = one(spans, "new_orders PRODUCER span", service="order-relay", kind="PRODUCER", name="new_orders publish")
    assert publish.parent_span_id in order_ms_ids and publish.attributes["messaging.system"] == "kafka"
    process = one(spans, "new_orders CONSUMER span", service="delivery-consumer", kind="CONSUMER",
                  name="new_orders process")
    assert process.parent_span_id == publish.span_id
    assert post.parent_span_id == caller.span_id

    # The delivery's creation (CONFIRMED) and staff's two moves each publish a "delivery_status publish" that
    # order-ms's status consumer's "delivery_status process" is the child of: the creation from the consumer's
    # span, each move from delivery-ms's change span, itself the child of that same consumer span (the context the
    # delivery kept), though the staff's requests came without a traceparent.
    status_publishes = [s for s in spans if s.service == "delivery-relay" and s.kind == "PRODUCER"]
    status_processes = [s for s in spans if s.service == "order-status-consumer" and s.kind == "CONSUMER"]
    created = [s for s in status_publishes if s.parent_span_id == process.span_id]
    for status in MOVES:
        change = one(spans, f"delivery-ms's change span of {status}", service="delivery-ms", kind="INTERNAL",
                     name=f"delivery {status}")
        assert change.parent_span_id == process.span_id
        assert change.attributes["delivery.id"] == completed["delivery"]["delivery_id"]
        statements = {s.name for s in spans if s.kind == "CLIENT" and s.parent_span_id == change.span_id}
        assert {"UPDATE delivery_status", "INSERT delivery_outbox"} <= statements
        published = [s for s in status_publishes if s.parent_span_id == change.span_id]
        assert [s.name for s in published] == ["delivery_status publish"]
        created.extend(published)
    assert len(created) == 3, "the creation's and both moves' events"
    for published in created:
        processed = [s for s in status_processes if s.parent_span_id == published.span_id]
        assert [s.name for s in processed] == ["delivery_status process"]
    # The staff's requests are traces of their own: no SERVER span of delivery-ms is in the order's trace.
    assert not [s for s in spans if s.service == "delivery-ms" and s.kind == "SERVER"]


@pytest.mark.case("CASE-0172")
def test_a_staff_move_s_request_and_the_order_s_trace_are_linked_both_ways(completed, receiver):
    spans, delivery_id = completed["spans"], completed["delivery"]["delivery_id"]
    for status in MOVES:
        change = one(spans, f"the change span of {status}", service="delivery-ms", name=f"delivery {status}")
        assert len(change.links) == 1, change.links
        request = linked_span(receiver, change, f"the request span of the move to {status}")
        assert request.trace_id != change.trace_id, "the move's request started a trace of its own"
        assert (request.service, request.kind, request.parent_span_id) == ("delivery-ms", "SERVER", None)
        assert request.name == "PUT /delivery-ms/deliveries/<delivery_id>/status"
        assert request.attributes["http.target"] == move_path(delivery_id)
        assert (change.trace_id, change.span_id) in request.links, "the request points at the order's trace"


def linked_span(receiver, span, what: str):
    """The span `span`'s one link names, once the receiver got it (its trace is another process's export)."""
    (trace_id, span_id), = span.links
    found = receiver.wait_for_trace(trace_id, lambda spans: any(s.span_id == span_id for s in spans), what)
    return one(found, what, span_id=span_id)


@pytest.mark.case("CASE-0173")
def test_a_customer_s_cancel_continues_the_order_s_trace(api, customer_for_module, receiver):
    caller = Caller.new()
    order = place_order(api, customer_for_module, headers=caller.headers)
    delivery = wait_for_delivery(api, customer_for_module.token, order["order_id"])
    cancel = api.post(f"{orders_path(customer_for_module.user_id)}/{order['order_id']}/cancel",
                      token=customer_for_module.token)
    assert cancel.status_code == 202, cancel.text[:300]
    wait_until(lambda: order_status(api, customer_for_module, order["order_id"]) == "CANCELED",
               f"order {order['order_id']} showing CANCELED")
    no_staff = tuple(process for process in SIX_PROCESSES if process != "delivery-ms")
    spans = receiver.wait_for_trace(caller.trace_id, whole_with_status_changes(caller, 2, no_staff),
                                    "the order's trace with its creation and its cancel")
    process = one(spans, "the order's new_orders process span", service="delivery-consumer", kind="CONSUMER")
    change = one(spans, "the cancel's change span", service="delivery-consumer", name="delivery CANCELED")
    assert change.parent_span_id == process.span_id and change.attributes["delivery.id"] == delivery["delivery_id"]
    published = one(spans, "the cancel's publish", service="delivery-relay", parent_span_id=change.span_id)
    one(spans, "the status consumer's span of the cancel", service="order-status-consumer",
        parent_span_id=published.span_id)
    # The cancel came as a record of the customer's cancel request, in that request's trace: linked both ways.
    (cancel_trace, cancel_span), = change.links
    assert cancel_trace != caller.trace_id
    cancel_process = linked_span(receiver, change, "the cancel record's process span")
    assert cancel_process.span_id == cancel_span
    assert (cancel_process.service, cancel_process.name) == ("delivery-consumer", "new_orders process")
    assert (change.trace_id, change.span_id) in cancel_process.links


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
    # Whichever consumer of the group holds the record's partition logs it.
    consumers = [name for name in tracing_stack.state.processes if name.startswith("consumer-")]
    lines = wait_for(lambda: [line for name in consumers for line in logged(tracing_stack, name, dead.trace_id)],
                     "the consumer's dead-letter line")
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
