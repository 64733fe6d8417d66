"""Tracing, hop by hop, with the OpenTelemetry SDK's in-memory exporter and fakes for the database and the broker:
the request's context stored with the outbox row, restored by the relay into the record's headers under its producer
span, continued by the consumer's process span and carried by the events its write builds, dead letters keeping it,
log lines and statements and stream pushes in it; with tracing off none of it; and the OTEL_* variables parsed."""
from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import textwrap

import pytest
from flask import Flask
from kafka.consumer.fetcher import ConsumerRecord
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.contracts.envelope import Message
from services.platform import db, streams, tracing
from services.platform.consumer import BatchConsumer, Subscription
from services.platform.logs import JsonFormatter
from services.platform.outbox import Outbox, OutboxRelay
from services.platform.settings import Settings, SettingsError, platform_fields
from services.platform.worker import PublishFailed
from tests.unit.platform.test_batch_consumer import P0, FakeKafkaConsumer
from tests.unit.platform.test_outbox_relay import RecordingCursor

# A caller's context, as a client or the ingress sends it.
TRACE_ID, PARENT_ID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}


def hex_ids(span) -> tuple[str, str]:
    return format(span.context.trace_id, "032x"), format(span.context.span_id, "016x")


def traceparent_for(span) -> str:
    """The traceparent a message made in `span` carries (the SDK's own trace ids have the W3C random flag too)."""
    return f"00-{hex_ids(span)[0]}-{hex_ids(span)[1]}-{int(span.context.trace_flags):02x}"


def parent_id(span) -> str | None:
    return format(span.parent.span_id, "016x") if span.parent else None


def traceparent_of(headers) -> str | None:
    found = [value for name, value in headers if name == "traceparent"]
    return (found[0].decode() if isinstance(found[0], bytes) else found[0]) if found else None


def one(finished, name):
    matching = [span for span in finished if span.name == name]
    assert len(matching) == 1, [span.name for span in finished]
    return matching[0]


def message() -> Message:
    return Message(topic="unit_topic", key="k1", value={"n": 1}, event_type="Thing", schema_version=1)


# --- configuration -------------------------------------------------------------------------------------------------

def test_no_endpoint_means_no_tracing():
    assert tracing.read_config("svc", {}) is None
    assert tracing.read_config("svc", {"OTEL_TRACES_SAMPLER": "always_on", "OTEL_SERVICE_NAME": "x"}) is None


def test_the_base_endpoint_gets_the_traces_path_and_the_signal_endpoint_is_used_as_given():
    assert tracing.read_config("svc", ENDPOINT).endpoint == "http://collector:4318/v1/traces"
    assert tracing.read_config("svc", {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c/otlp/"}).endpoint == \
        "https://c/otlp/v1/traces"
    assert tracing.read_config("svc", {**ENDPOINT, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:9/x"}).endpoint \
        == "http://t:9/x"


def test_defaults_are_the_specification_s_and_the_service_name_may_be_overridden():
    config = tracing.read_config("order-ms", ENDPOINT)
    assert (config.sampler, config.ratio, config.service_name) == ("parentbased_always_on", 1.0, "order-ms")
    assert tracing.read_config("order-ms", {**ENDPOINT, "OTEL_SERVICE_NAME": "orders-eu"}).service_name == "orders-eu"
    config = tracing.read_config("svc", {**ENDPOINT, "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
                                         "OTEL_TRACES_SAMPLER_ARG": "0.01"})
    assert (config.sampler, config.ratio) == ("parentbased_traceidratio", 0.01)


@pytest.mark.parametrize("switch", [{"OTEL_SDK_DISABLED": "TRUE"}, {"OTEL_TRACES_EXPORTER": "none"}])
def test_tracing_can_be_switched_off_with_an_endpoint_set(switch):
    assert tracing.read_config("svc", {**ENDPOINT, **switch}) is None


@pytest.mark.parametrize(("variables", "named"), [
    ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL='grpc'"),
    ({"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL='http/json'"),
    ({"OTEL_TRACES_SAMPLER": "jaeger_remote"}, "OTEL_TRACES_SAMPLER='jaeger_remote'"),
    ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half"}, "OTEL_TRACES_SAMPLER_ARG='half'"),
    ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"}, "OTEL_TRACES_SAMPLER_ARG='1.5'"),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT='collector:4318'"),
    ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER='zipkin'"),
])
def test_a_value_that_cannot_work_is_refused_naming_its_variable(variables, named):
    with pytest.raises(SettingsError, match=named.replace("(", r"\(")):
        tracing.read_config("svc", {**ENDPOINT, **variables})


def test_http_protobuf_is_accepted():
    assert tracing.read_config("svc", {**ENDPOINT, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}) is not None


def run_python(code: str, env: dict) -> dict:
    """`code` in a fresh interpreter (nothing imported yet), which prints one JSON object."""
    import os

    environ = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env={**environ, **env}, capture_output=True,
                          text=True, timeout=60, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_tracing_off_imports_nothing_of_opentelemetry_and_starts_no_thread():
    found = run_python("""
        import json, sys, threading
        from services.platform import tracing, worker, consumer, outbox, logs, streams
        from services.contracts.envelope import Message
        before = threading.active_count()
        on = tracing.configure_tracing("order-ms")
        record = Message(topic="t", key="k", value={}, event_type="T", schema_version=1).record()
        print(json.dumps({"on": on, "threads": threading.active_count() - before, "headers": [h for h, _ in
              record.headers], "otel": sorted(m for m in sys.modules if m.startswith("opentelemetry"))}))
    """, {})
    assert found == {"on": False, "threads": 0, "headers": ["event_id", "event_type", "schema_version"], "otel": []}


def test_tracing_on_exports_in_a_background_thread_as_the_service_named():
    found = run_python("""
        import json, threading
        from opentelemetry import trace
        from services.platform import tracing
        before = threading.active_count()
        on = tracing.configure_tracing("order-ms")
        resource = trace.get_tracer_provider().resource.attributes
        print(json.dumps({"on": on, "threads": threading.active_count() - before,
                          "service": resource["service.name"], "env": resource.get("deployment.environment")}))
    """, {**ENDPOINT, "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test"})
    assert found == {"on": True, "threads": 1, "service": "order-ms", "env": "test"}


def test_an_endpoint_without_the_sdk_installed_leaves_tracing_off():
    found = run_python("""
        import json, sys
        class NoSdk:
            def find_spec(self, name, path=None, target=None):
                if name.startswith(("opentelemetry.sdk", "opentelemetry.exporter")):
                    raise ImportError(name)
        sys.meta_path.insert(0, NoSdk())
        from services.platform import tracing
        print(json.dumps({"on": tracing.configure_tracing("order-ms"), "enabled": tracing.enabled()}))
    """, ENDPOINT)
    assert found == {"on": False, "enabled": False}


# --- the outbox and the relay ----------------------------------------------------------------------------------------

def test_an_event_made_in_a_span_stores_its_context_in_the_outbox_row(spans):
    cursor = RecordingCursor()
    with tracing._tracer.start_as_current_span("POST /orders") as request:
        Outbox("unit_outbox", "unit_topic").insert(cursor, message())
    _sql, (row,) = cursor.statements[0]
    headers = json.loads(row[4])
    assert request.get_span_context().is_valid
    assert ["traceparent", traceparent_for(spans.get_finished_spans()[0])] in headers
    assert [name for name, _ in headers][:3] == ["event_id", "event_type", "schema_version"]


def test_an_event_made_with_tracing_off_has_no_trace_headers():
    assert message().trace == [] and "traceparent" not in dict(message().record().headers)


class ScriptedRelay(OutboxRelay):
    """The real relay; the database answers with `pending` rows, the broker is `broker(records)`."""

    def __init__(self, pending, broker):
        super().__init__(Settings(**platform_fields(db_name="unit")), Outbox("unit_outbox", "unit_topic"), "unit-relay")
        self.pending, self.broker = pending, broker

    def _query(self, sql, params=()):
        if sql.startswith("SELECT GET_LOCK"):
            return [{"acquired": 1}]
        return self.pending[:params[0]] if sql.startswith("SELECT id") else []

    def send_acknowledged(self, records):
        return self.broker(records)


def row(number, headers):
    return {"id": number, "topic": "unit_topic", "message_key": f"k{number}".encode(), "payload": b"{}",
            "headers": json.dumps(headers)}


def test_the_relay_publishes_each_row_under_a_producer_span_child_of_the_row_s_context(spans):
    sent = []
    relay = ScriptedRelay([row(1, [["event_id", "e1"], ["traceparent", TRACEPARENT]])],
                          lambda records: sent.extend(records) or len(records))
    assert relay.publish_batch() == 1
    publish = one(spans.get_finished_spans(), "unit_topic publish")
    assert publish.kind == trace.SpanKind.PRODUCER
    assert (hex_ids(publish)[0], parent_id(publish)) == (TRACE_ID, PARENT_ID)
    assert traceparent_of(sent[0].headers) == f"00-{TRACE_ID}-{hex_ids(publish)[1]}-01"
    assert [name for name, _ in sent[0].headers] == ["event_id", "traceparent"]
    assert dict(publish.attributes) == {
        "messaging.system": "kafka", "messaging.destination.name": "unit_topic", "messaging.operation.name": "publish",
        "messaging.operation.type": "send", "messaging.kafka.message.key": "k1", "messaging.message.id": "e1",
        "messaging.client.id": "unit-relay"}


def test_a_row_without_context_is_published_in_a_new_trace(spans):
    sent = []
    relay = ScriptedRelay([row(1, [["event_id", "e1"]])], lambda records: sent.extend(records) or len(records))
    relay.publish_batch()
    publish = one(spans.get_finished_spans(), "unit_topic publish")
    assert publish.parent is None
    assert traceparent_of(sent[0].headers) == traceparent_for(publish)


def test_records_the_broker_did_not_acknowledge_end_their_spans_as_errors(spans):
    def broker(records):
        raise PublishFailed(1, "no acknowledgement in time")

    relay = ScriptedRelay([row(1, []), row(2, [])], broker)
    with pytest.raises(PublishFailed):
        relay.publish_batch()
    first, second = sorted(spans.get_finished_spans(), key=lambda s: s.attributes["messaging.kafka.message.key"])
    assert first.status.status_code == trace.StatusCode.UNSET
    assert second.status.status_code == trace.StatusCode.ERROR


def test_with_tracing_off_the_relay_sends_the_rows_headers_as_they_are():
    sent = []
    relay = ScriptedRelay([row(1, [["event_id", "e1"], ["traceparent", TRACEPARENT]])],
                          lambda records: sent.extend(records) or len(records))
    relay.publish_batch()
    assert sent[0].headers == [("event_id", b"e1"), ("traceparent", TRACEPARENT.encode())]


# --- the consumer ----------------------------------------------------------------------------------------------------

def record(offset, value, headers):
    return ConsumerRecord("items", 0, -1, offset, 0, 0, b"key", value, headers, None, 0, 0, 0)


class NotAnItem(ValueError):
    pass


def parse(value, _headers):
    try:
        return json.loads(value)
    except ValueError as exc:
        raise NotAnItem(str(exc)) from None


@pytest.fixture
def consume(monkeypatch):
    """run(batch) -> (events the write built, one per item, in order; records sent to the dead-letter topic)."""
    def run(batch):
        built, letters = [], []

        def write(_pool, items):
            for item in items:
                with tracing.item_context(item):
                    built.append(message())
            return len(items)

        subscription = Subscription(topic="items", group="item-writers", dead_letter_topic="items.dlq", parse=parse,
                                    invalid=(NotAnItem,), write=write)
        consumer = BatchConsumer(Settings(**platform_fields(db_name="items")), subscription, "unit-consumer",
                                 stall_seconds=120)
        monkeypatch.setattr(consumer, "send_acknowledged", lambda records: letters.extend(records) or len(records))
        consumer._consumer = FakeKafkaConsumer([{P0: batch}], consumer.stop)
        consumer.run()
        return built, letters

    return run


def test_each_record_is_processed_in_a_span_child_of_its_context_and_its_events_carry_it_on(spans, consume):
    other_trace = "0af7651916cd43dd8448eb211c80319c"
    built, _letters = consume([record(5, b"{}", [("traceparent", TRACEPARENT.encode())]),
                               record(6, b"{}", [("traceparent", f"00-{other_trace}-b7ad6b7169203331-01".encode())])])
    finished = spans.get_finished_spans()
    processes = sorted((s for s in finished if s.name == "items process"),
                       key=lambda s: s.attributes["messaging.kafka.offset"])
    assert [(hex_ids(s)[0], parent_id(s)) for s in processes] == [(TRACE_ID, PARENT_ID),
                                                                  (other_trace, "b7ad6b7169203331")]
    assert all(s.kind == trace.SpanKind.CONSUMER for s in processes)
    assert dict(processes[0].attributes) == {
        "messaging.system": "kafka", "messaging.destination.name": "items", "messaging.operation.name": "process",
        "messaging.operation.type": "process", "messaging.kafka.message.key": "key",
        "messaging.consumer.group.name": "item-writers", "messaging.destination.partition.id": "0",
        "messaging.kafka.offset": 5}
    # Each item's event continues its own record's trace, under that record's process span.
    assert [traceparent_of(event.trace) for event in built] == [traceparent_for(s) for s in processes]
    write = one(finished, "items write")
    assert {link.context.span_id for link in write.links} == {s.context.span_id for s in processes}
    assert write.attributes["messaging.batch.message_count"] == 2


def test_a_record_without_trace_headers_is_written_in_a_new_trace(spans, consume):
    built, letters = consume([record(5, b"{}", [])])
    process = one(spans.get_finished_spans(), "items process")
    assert process.parent is None and letters == []
    assert traceparent_of(built[0].trace) == traceparent_for(process)


@pytest.mark.parametrize("bad", [b"not-a-traceparent", b"", b"\xff\xfe", None])
def test_a_record_with_an_unreadable_traceparent_is_still_written(spans, consume, bad):
    built, letters = consume([record(5, b"{}", [("traceparent", bad)])])
    assert len(built) == 1 and letters == []
    assert one(spans.get_finished_spans(), "items process").parent is None


def test_a_dead_letter_keeps_the_trace_headers_it_came_with_and_its_span_is_an_error(spans, consume):
    headers = [("traceparent", TRACEPARENT.encode()), ("tracestate", b"vendor=1")]
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(JsonFormatter("consumer"))
    logging.getLogger("services.platform.consumer").addHandler(handler)
    try:
        _built, letters = consume([record(5, b"{not json", headers)])
    finally:
        logging.getLogger("services.platform.consumer").removeHandler(handler)
    assert letters[0].topic == "items.dlq" and letters[0].headers[:2] == headers
    process = one(spans.get_finished_spans(), "items process")
    assert (hex_ids(process)[0], parent_id(process)) == (TRACE_ID, PARENT_ID)
    assert process.status.status_code == trace.StatusCode.ERROR
    assert [event.name for event in process.events] == ["dead-lettered"]
    logged = [json.loads(line) for line in output.getvalue().splitlines() if "dead-lettered" in line]
    assert logged[0]["trace_id"] == TRACE_ID and logged[0]["span_id"] == hex_ids(process)[1]


def test_an_item_s_context_is_left_when_its_handling_raises(spans):
    record_context = tracing.context_from_headers([("traceparent", TRACEPARENT)])
    item = {"n": 1}
    with tracing.item_contexts({id(item): record_context}):
        with pytest.raises(ValueError), tracing.item_context(item):
            assert tracing.current_ids()[0] == TRACE_ID
            raise ValueError("a statement failed")
        assert tracing.current_ids() is None
    assert tracing.item_context(item) is tracing.item_context({"other": 1})  # outside a write: nothing to enter


def test_with_tracing_off_a_consumer_makes_no_spans_and_its_events_carry_no_context(consume):
    exporter = InMemorySpanExporter()
    TracerProvider().add_span_processor(SimpleSpanProcessor(exporter))
    built, _letters = consume([record(5, b"{}", [("traceparent", TRACEPARENT.encode())])])
    assert built[0].trace == [] and exporter.get_finished_spans() == ()


# --- logs, statements, streams, HTTP ---------------------------------------------------------------------------------

def log_line(**extra) -> dict:
    entry = logging.makeLogRecord({"msg": "hello", "levelname": "INFO", "name": "unit", **extra})
    return json.loads(JsonFormatter("unit").format(entry))


def test_a_log_line_inside_a_span_carries_its_trace_and_span_ids(spans):
    with tracing._tracer.start_as_current_span("work") as span:
        line = log_line()
    context = span.get_span_context()
    assert (line["trace_id"], line["span_id"]) == (format(context.trace_id, "032x"), format(context.span_id, "016x"))
    assert "trace_id" not in log_line() and "span_id" not in log_line()


def test_log_lines_carry_no_trace_ids_with_tracing_off():
    assert {"trace_id", "span_id"}.isdisjoint(log_line())


class FakeDriverCursor:
    def execute(self, sql, params):
        self.sql = sql


class FakeConnection:
    def cursor(self, dictionary):
        return FakeDriverCursor()


def statement_spans(exporter):
    return [s for s in exporter.get_finished_spans() if s.kind == trace.SpanKind.CLIENT]


def test_a_statement_inside_a_span_is_its_child_and_one_outside_makes_none(spans):
    cursor = db.TransactionCursor(FakeConnection(), pooled=False, reconnect=None, database="orders_db")
    cursor.execute("SELECT id FROM unit_outbox WHERE sent_at IS NULL LIMIT ?", (5,))
    assert statement_spans(spans) == []
    with tracing._tracer.start_as_current_span("POST /things") as request:
        cursor.execute("INSERT INTO things (a, b) VALUES (?, ?)", ("secret-value", 2))
    statement = one(statement_spans(spans), "INSERT things")
    assert statement.parent.span_id == request.get_span_context().span_id
    assert dict(statement.attributes) == {
        "db.system.name": "mariadb", "db.namespace": "orders_db", "db.operation.name": "INSERT",
        "db.query.text": "INSERT INTO things (a, b) VALUES (?, ?)"}


def test_a_stream_push_continues_the_change_s_trace_linked_to_the_stream_s_request(spans):
    with tracing._tracer.start_as_current_span("GET /events") as stream:
        request = tracing.current_span_context()
    log = streams.ChangeLog("thing-changed", "thing_changes", ("n",), "owner", lambda row: {"n": row["n"]})
    # The pushes happen after the request's span ended, outside it.
    frames = list(streams._push(log, {"id": 7, "n": 1, "traceparent": TRACEPARENT}, request))
    list(streams._push(log, {"id": 8, "n": 2, "traceparent": None}, request))
    assert len(frames) == 1 and "thing-changed" in frames[0]
    pushes = sorted((s for s in spans.get_finished_spans() if s.name == "thing-changed push"),
                    key=lambda s: s.attributes["sse.event_id"])
    assert (hex_ids(pushes[0])[0], parent_id(pushes[0])) == (TRACE_ID, PARENT_ID)
    assert [link.context.span_id for link in pushes[0].links] == [stream.get_span_context().span_id]
    assert pushes[1].parent.span_id == stream.get_span_context().span_id  # a row from before tracing
    assert pushes[0].kind == trace.SpanKind.PRODUCER


def test_a_change_log_that_keeps_the_trace_elsewhere_names_it_with_trace_of(spans):
    """The staff board reads the delivery outbox, whose rows keep traceparent among their headers."""
    def trace_of(row):
        return dict(json.loads(row["headers"])).get("traceparent")

    log = streams.ChangeLog("thing-changed", "thing_outbox", ("headers", "n"), "owner", lambda row: {"n": row["n"]},
                            trace_of=trace_of)
    assert "traceparent" not in log._select  # no such column: the trace is in the headers
    list(streams._push(log, {"id": 9, "n": 1, "headers": json.dumps([["traceparent", TRACEPARENT]])}, None))
    push = one(spans.get_finished_spans(), "thing-changed push")
    assert (hex_ids(push)[0], parent_id(push)) == (TRACE_ID, PARENT_ID)


def test_no_statement_span_inside_a_span_the_sampler_dropped(spans):
    dropped = trace.SpanContext(int(TRACE_ID, 16), int(PARENT_ID, 16), is_remote=True,
                                trace_flags=trace.TraceFlags(trace.TraceFlags.DEFAULT))
    with trace.use_span(trace.NonRecordingSpan(dropped)):
        assert tracing.statement_span("SELECT 1", "coffee") is tracing._NO_SPAN
    with tracing._tracer.start_as_current_span("sampled"):
        with tracing.statement_span("SELECT 1 FROM orders", "coffee"):
            pass
    assert one(spans.get_finished_spans(), "SELECT orders").kind == trace.SpanKind.CLIENT


def test_a_server_span_continues_an_incoming_traceparent(spans):
    app = Flask("unit")
    app.add_url_rule("/things", "things", lambda: {"ok": True})
    app.add_url_rule("/healthz", "healthz", lambda: {"status": "ok"})
    tracing.instrument_flask(app)
    client = app.test_client()
    assert client.get("/things", headers={"traceparent": TRACEPARENT}).status_code == 200
    assert client.get("/healthz", headers={"traceparent": TRACEPARENT}).status_code == 200
    server = one(spans.get_finished_spans(), "GET /things")
    assert server.kind == trace.SpanKind.SERVER
    assert (hex_ids(server)[0], parent_id(server)) == (TRACE_ID, PARENT_ID)
    assert len(spans.get_finished_spans()) == 1  # probes make no spans


def test_instrumenting_an_app_with_tracing_off_changes_nothing():
    app = Flask("unit")
    wsgi = app.wsgi_app
    tracing.instrument_flask(app)
    assert app.wsgi_app == wsgi and app.before_request_funcs == {}


# --- work that continues a stored trace ------------------------------------------------------------------------------

def test_work_on_a_thing_continues_the_trace_it_stored_linked_both_ways_with_the_asking_request(spans):
    with tracing._tracer.start_as_current_span("PUT /things/<id>", kind=trace.SpanKind.SERVER) as request:
        with tracing.continue_trace("thing moved", TRACEPARENT, {"thing.id": "t-1"}):
            made = message()
            inside = tracing.traceparent()
        after = tracing.current_ids()
    finished = spans.get_finished_spans()
    work, server = one(finished, "thing moved"), one(finished, "PUT /things/<id>")
    assert (hex_ids(work)[0], parent_id(work)) == (TRACE_ID, PARENT_ID)
    assert work.kind == trace.SpanKind.INTERNAL and dict(work.attributes) == {"thing.id": "t-1"}
    assert [link.context.span_id for link in work.links] == [request.get_span_context().span_id]
    assert [link.context.span_id for link in server.links] == [work.context.span_id]
    # What is made inside (an outbox event, a change row's traceparent) continues the thing's trace, not the request's.
    assert traceparent_of(made.trace) == inside == traceparent_for(work)
    assert after == hex_ids(server), "the request's span is current again after the work"


@pytest.mark.parametrize("stored", [None, "", "00-not-a-trace-01", f"00-{'0' * 32}-{PARENT_ID}-01"])
def test_work_on_a_thing_that_stored_no_readable_trace_stays_in_the_asking_request_s(spans, stored):
    with tracing._tracer.start_as_current_span("PUT /things/<id>") as request:
        with tracing.continue_trace("thing moved", stored):
            made = message()
    assert [s.name for s in spans.get_finished_spans()] == ["PUT /things/<id>"]
    assert traceparent_of(made.trace) == traceparent_for(spans.get_finished_spans()[0])
    assert not spans.get_finished_spans()[0].links and request.get_span_context().is_valid


def test_work_on_a_thing_whose_trace_was_not_sampled_stays_unsampled_and_the_request_gets_no_link(spans):
    unsampled = f"00-{TRACE_ID}-{PARENT_ID}-00"
    with tracing._tracer.start_as_current_span("PUT /things/<id>"):
        with tracing.continue_trace("thing moved", unsampled):
            made = message()
    (server,) = spans.get_finished_spans()
    assert server.name == "PUT /things/<id>" and not server.links
    # The sampling decision travels on with the thing's trace: downstream spans of it are not recorded either.
    version, trace_id, _span_id, flags = traceparent_of(made.trace).split("-")
    assert (version, trace_id, flags) == ("00", TRACE_ID, "00")


def test_work_outside_any_span_continues_the_stored_trace_without_links(spans):
    with tracing.continue_trace("thing moved", TRACEPARENT):
        made = message()
    (work,) = spans.get_finished_spans()
    assert (hex_ids(work)[0], parent_id(work), work.links) == (TRACE_ID, PARENT_ID, ())
    assert traceparent_of(made.trace) == traceparent_for(work)


def test_with_tracing_off_continuing_a_stored_trace_does_nothing():
    with tracing.continue_trace("thing moved", TRACEPARENT):
        made = message()
        assert tracing.traceparent() is None
    assert made.trace == []
