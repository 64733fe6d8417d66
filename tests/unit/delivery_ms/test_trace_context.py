"""A delivery keeps the trace it was created in, and every later change of it continues that trace, whoever asked for
it: a staff member's move (a request without a traceparent, as the web UI sends it) and a customer's cancel record
(its own trace) are linked both ways with the change's span, and the change's event carries the delivery's trace
on. With the OpenTelemetry SDK's in-memory exporter and a fake database connection (docs/tracing.md)."""
from __future__ import annotations

import contextlib
import json
import uuid
from datetime import datetime

from opentelemetry import trace

from services.contracts import order_cancel_requested, order_created
from services.contracts.envelope import TypedEvent
from services.delivery_ms import store
from services.delivery_ms.lifecycle import Delivery, plan_batch
from services.platform import db, tracing
from tests.support.topics import new_order

NOW = datetime(2026, 12, 7, 16, 0, 0)
# The order's trace, as the consumer's process span of its new_orders record wrote it on the delivery's row.
ORDER_TRACE, ORDER_SPAN = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
ORDER_TRACEPARENT = f"00-{ORDER_TRACE}-{ORDER_SPAN}-01"


def ids(span_context) -> tuple[str, str]:
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


def traceparent_of(span) -> str:
    """The traceparent a message made in `span` carries (the SDK's trace ids have the W3C random flag too)."""
    context = span.get_span_context()
    trace_id, span_id = ids(context)
    return f"00-{trace_id}-{span_id}-{int(context.trace_flags):02x}"


def trace_header(message) -> str | None:
    return dict(message.trace).get("traceparent")


def named(exporter, name):
    found = [span for span in exporter.get_finished_spans() if span.name == name]
    assert len(found) == 1, [span.name for span in exporter.get_finished_spans()]
    return found[0]


def created(order):
    return TypedEvent(order_created.EVENT_TYPE, order)


def cancel(order):
    return TypedEvent(order_cancel_requested.EVENT_TYPE, {**order, "requested_at": "2026-12-07T16:00:00.000000Z"})


def stored(order, status="CONFIRMED", version=1, origin=ORDER_TRACEPARENT):
    return Delivery(delivery_id=str(uuid.uuid4()), order_id=order["order_id"], user_id=order["user_id"],
                    status=status, version=version, updated_at=NOW, origin_traceparent=origin)


@contextlib.contextmanager
def consumed(*events):
    """Each event's record in a process span of its own trace, as the platform consumer hands them to the write;
    yields the process spans (still open, as while the batch is written)."""
    processes = [tracing._tracer.start_span(f"new_orders process #{n}", kind=trace.SpanKind.CONSUMER)
                 for n, _event in enumerate(events)]
    try:
        with tracing.item_contexts({id(event): trace.set_span_in_context(process)
                                    for event, process in zip(events, processes, strict=True)}):
            yield processes
    finally:
        for process in processes:
            process.end()


# --- the consumer: creations keep their trace, a customer's cancel continues it --------------------------------------

def test_a_new_delivery_keeps_the_trace_of_its_order_s_record(spans):
    order = new_order()
    event = created(order)
    with consumed(event) as (process,):
        plan = plan_batch({}, [event], NOW)
    (delivery,) = plan.new_deliveries()
    assert delivery.origin_traceparent == traceparent_of(process)
    assert trace_header(plan.messages[0]) == traceparent_of(process)
    assert not [s for s in spans.get_finished_spans() if s.name.startswith("delivery ")], "a creation is no change"


def test_a_customer_s_cancel_continues_the_delivery_s_trace_linked_both_ways_with_the_cancel_record(spans):
    order = new_order()
    delivery, event = stored(order), cancel(order)
    with consumed(event) as (process,):
        plan = plan_batch({order["order_id"]: delivery}, [event], NOW)
    change = named(spans, "delivery CANCELED")
    assert ids(change.context)[0] == ORDER_TRACE and format(change.parent.span_id, "016x") == ORDER_SPAN
    assert change.kind == trace.SpanKind.INTERNAL
    assert dict(change.attributes) == {
        "delivery.id": delivery.delivery_id, "delivery.order_id": order["order_id"], "delivery.status": "CANCELED",
        "delivery.previous_status": "CONFIRMED", "delivery.version": 2}
    assert [link.context.span_id for link in change.links] == [process.get_span_context().span_id]
    record_span = named(spans, "new_orders process #0")
    assert [link.context.span_id for link in record_span.links] == [change.context.span_id]
    # The change's event continues the order's trace under the change's span; the row keeps its origin.
    (moved,) = plan.moved_deliveries()
    assert trace_header(plan.messages[0]) == traceparent_of(change)
    assert moved.origin_traceparent == ORDER_TRACEPARENT


def test_an_order_and_its_cancel_in_one_batch_the_cancel_continues_the_creation_s_trace(spans):
    order = new_order()
    creation, request = created(order), cancel(order)
    with consumed(creation, request) as (created_in, cancel_in):
        plan = plan_batch({}, [creation, request], NOW)
    change = named(spans, "delivery CANCELED")
    assert change.parent.span_id == created_in.get_span_context().span_id
    assert [link.context.span_id for link in change.links] == [cancel_in.get_span_context().span_id]
    (delivery,) = plan.new_deliveries()
    assert delivery.origin_traceparent == traceparent_of(created_in), "the row keeps the creation's trace"
    assert [trace_header(m) for m in plan.messages] == [traceparent_of(created_in), traceparent_of(change)]


def test_a_cancel_of_a_delivery_that_kept_no_trace_stays_in_the_cancel_s_trace(spans):
    order = new_order()
    event = cancel(order)
    with consumed(event) as (process,):
        plan = plan_batch({order["order_id"]: stored(order, origin=None)}, [event], NOW)
    assert trace_header(plan.messages[0]) == traceparent_of(process)
    assert plan.moved_deliveries()[0].origin_traceparent is None
    assert [s.name for s in spans.get_finished_spans()] == ["new_orders process #0"]


def test_a_refused_cancel_is_no_change_and_answers_in_the_cancel_s_trace(spans):
    order = new_order()
    event = cancel(order)
    with consumed(event) as (process,):
        plan = plan_batch({order["order_id"]: stored(order, "IN_DELIVERY", 2)}, [event], NOW)
    assert [m.event_type for m in plan.messages] == ["OrderCancelRefused"]
    assert trace_header(plan.messages[0]) == traceparent_of(process)
    assert [s.name for s in spans.get_finished_spans()] == ["new_orders process #0"]


# --- staff's moves --------------------------------------------------------------------------------------------------

class FakeDriverCursor:
    """Answers the move's SELECT ... FOR UPDATE with the columns it names (`column AS alias` too) of `row`, a
    delivery_status row; keeps every statement."""

    def __init__(self, row, statements):
        self.row, self.statements = row, statements

    def execute(self, sql, params):
        self.statements.append((sql, params))

    def executemany(self, sql, rows):
        self.statements.append((sql, rows))

    def fetchone(self):
        sql, _params = self.statements[-1]
        names = sql.removeprefix("SELECT ").split(" FROM ")[0].split(", ")
        return {name.split(" AS ")[-1]: self.row[name.split(" AS ")[0]] for name in names}

    def close(self):
        pass


class FakeConnection:
    def __init__(self, row, statements):
        self.row, self.statements = row, statements

    def cursor(self, dictionary):
        return FakeDriverCursor(self.row, self.statements)


class FakePool:
    """One transaction on a fake connection; its statements are spans as on a real one (TransactionCursor)."""

    def __init__(self, row):
        self.row, self.statements = row, []

    @contextlib.contextmanager
    def transaction(self):
        yield db.TransactionCursor(FakeConnection(self.row, self.statements), pooled=False, reconnect=None,
                                   database="delivery_db")

    def params_of(self, sql_start: str):
        (params,) = [params for sql, params in self.statements if sql.startswith(sql_start)]
        return params


def delivery_row(status="CONFIRMED", origin=ORDER_TRACEPARENT) -> dict:
    """A delivery_status row as the consumer wrote it (`traceparent`: the context it was created in)."""
    return {"id": 1, "delivery_id": str(uuid.uuid4()), "order_id": str(uuid.uuid4()), "user_id": "cust-1",
            "order_json": "{}", "status": status, "previous_status": None, "version": 1, "created_at": NOW,
            "updated_at": NOW, "traceparent": origin}


PUT = "PUT /delivery-ms/deliveries/<delivery_id>/status"


def move(pool, status):
    """A staff member's PUT without a traceparent: its SERVER span is a trace of its own."""
    with tracing._tracer.start_as_current_span(PUT, kind=trace.SpanKind.SERVER) as request:
        store.change_status(pool, pool.row["delivery_id"], status)
    return request


def statements_under(exporter, span) -> list[str]:
    return [s.name for s in exporter.get_finished_spans()
            if s.kind == trace.SpanKind.CLIENT and s.parent.span_id == span.context.span_id]


def test_a_staff_move_continues_the_delivery_s_trace_linked_both_ways_with_the_staff_request(spans):
    pool = FakePool(delivery_row())
    move(pool, "IN_DELIVERY")
    change, request = named(spans, "delivery IN_DELIVERY"), named(spans, PUT)
    assert ids(request.context)[0] != ORDER_TRACE, "the request itself is a trace of its own"
    assert ids(change.context)[0] == ORDER_TRACE and format(change.parent.span_id, "016x") == ORDER_SPAN
    assert [link.context.span_id for link in change.links] == [request.context.span_id]
    assert [link.context.span_id for link in request.links] == [change.context.span_id]
    # The change's statements are in the order's trace; finding and locking the delivery is the request's work.
    assert statements_under(spans, change) == ["UPDATE delivery_status", "INSERT delivery_outbox"]
    assert statements_under(spans, request) == ["SELECT delivery_status"]
    headers = dict(json.loads(pool.params_of("INSERT INTO delivery_outbox")[0][4]))
    assert headers["traceparent"] == f"00-{ORDER_TRACE}-{ids(change.context)[1]}-01"


def test_a_staff_move_of_a_delivery_that_kept_no_trace_stays_in_the_request_s_trace(spans):
    pool = FakePool(delivery_row(origin=None))
    request = move(pool, "COMPLETED")
    assert [s.name for s in spans.get_finished_spans() if s.kind != trace.SpanKind.CLIENT] == [PUT]
    headers = dict(json.loads(pool.params_of("INSERT INTO delivery_outbox")[0][4]))
    assert headers["traceparent"].split("-")[1:3] == list(ids(request.get_span_context()))


def test_setting_the_current_status_again_makes_no_change_span(spans):
    pool = FakePool(delivery_row(status="IN_DELIVERY"))
    move(pool, "IN_DELIVERY")
    assert not [s for s in spans.get_finished_spans() if s.name.startswith("delivery ")]
    assert [sql.split()[0] for sql, _params in pool.statements] == ["SELECT"]


def test_with_tracing_off_a_move_writes_no_trace_context():
    pool = FakePool(delivery_row())
    store.change_status(pool, pool.row["delivery_id"], "IN_DELIVERY")
    assert "traceparent" not in dict(json.loads(pool.params_of("INSERT INTO delivery_outbox")[0][4]))
