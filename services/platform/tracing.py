"""OpenTelemetry tracing for every process, configured the standard way (the OTEL_* variables), and the few spans
and W3C trace-context headers the platform makes itself: it is off, and imports nothing of OpenTelemetry, unless an
OTLP endpoint is set (docs/tracing.md)."""
from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from services.platform.settings import SettingsError

log = logging.getLogger(__name__)

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
TRACE_HEADERS = (TRACEPARENT, TRACESTATE)
# The one protocol the exporter speaks (OTLP over HTTP, protobuf bodies): what every backend and Collector takes.
PROTOCOL = "http/protobuf"
SAMPLERS = ("always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off",
            "parentbased_traceidratio")
DEFAULT_SAMPLER = "parentbased_always_on"
INSTRUMENTATION_NAME = "coffee-order"
# What a span helper returns while tracing is off (or no span is wanted): reusable, free to enter.
_NO_SPAN = contextlib.nullcontext()


@dataclass(frozen=True)
class TracingConfig:
    """What the OTEL_* variables ask for, checked; made without importing OpenTelemetry."""

    endpoint: str  # the full URL spans are POSTed to (…/v1/traces)
    service_name: str
    sampler: str
    ratio: float  # the sampler's argument for the *traceidratio samplers, else 1.0


def read_config(service_name: str, environ: Mapping[str, str] | None = None) -> TracingConfig | None:
    """The tracing this process's environment asks for, or None for none (no endpoint, OTEL_SDK_DISABLED=true or
    OTEL_TRACES_EXPORTER=none). A value that cannot work raises SettingsError naming its variable, so that a
    misconfigured process stops at start-up rather than silently exporting nothing."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    exporter = env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() or "otlp"
    if exporter == "none":
        return None
    if exporter != "otlp":
        raise SettingsError(f"OTEL_TRACES_EXPORTER={exporter!r} is not supported: use otlp (or none for no tracing)")
    endpoint = _endpoint(env)
    if endpoint is None:
        return None
    for name in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        protocol = env.get(name, "").strip()
        if protocol:
            if protocol != PROTOCOL:
                raise SettingsError(f"{name}={protocol!r} is not supported: the exporter speaks {PROTOCOL} only "
                                    f"(OTLP/HTTP, port 4318 on most receivers)")
            break
    sampler = env.get("OTEL_TRACES_SAMPLER", "").strip().lower() or DEFAULT_SAMPLER
    if sampler not in SAMPLERS:
        raise SettingsError(f"OTEL_TRACES_SAMPLER={sampler!r} is not supported: use one of {', '.join(SAMPLERS)}")
    ratio = 1.0
    raw_ratio = env.get("OTEL_TRACES_SAMPLER_ARG", "").strip()
    if sampler.endswith("traceidratio") and raw_ratio:
        try:
            ratio = float(raw_ratio)
        except ValueError:
            ratio = -1.0
        if not 0.0 <= ratio <= 1.0:
            raise SettingsError(f"OTEL_TRACES_SAMPLER_ARG={raw_ratio!r} is not a ratio: give a number from 0 to 1 "
                                f"(the share of new traces {sampler} keeps)")
    name = env.get("OTEL_SERVICE_NAME", "").strip() or service_name
    return TracingConfig(endpoint=endpoint, service_name=name, sampler=sampler, ratio=ratio)


def _endpoint(env: Mapping[str, str]) -> str | None:
    """The signal-specific endpoint as given, else the base endpoint with `v1/traces` appended (the OTLP exporter
    specification's rule); None when neither is set."""
    for name, suffix in (("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ""), ("OTEL_EXPORTER_OTLP_ENDPOINT", "v1/traces")):
        raw = env.get(name, "").strip()
        if not raw:
            continue
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingsError(f"{name}={raw!r} is not an http(s) URL: give the OTLP/HTTP receiver's address, "
                                f"e.g. http://localhost:4318")
        return raw if not suffix else raw.rstrip("/") + "/" + suffix
    return None


# --- the process's tracer -----------------------------------------------------------------------------------------
# None while tracing is off: every function below then returns at once, without touching OpenTelemetry.
_tracer = None
_provider = None


def enabled() -> bool:
    return _tracer is not None


def configure_tracing(service_name: str) -> bool:
    """Start exporting this process's spans as `service_name` (OTEL_SERVICE_NAME overrides it) when the OTEL_*
    variables ask for it; True when tracing is on. Called once per process: a gunicorn worker after the fork, each
    worker process at its start. Off (False, nothing imported, no thread started) without an endpoint, and when the
    OpenTelemetry SDK is not installed."""
    config = read_config(service_name)
    if config is None or _tracer is not None:
        return _tracer is not None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning("an OTLP endpoint is set but the OpenTelemetry SDK is not installed: tracing stays off")
        return False
    provider = tracer_provider(config)
    # The exporter reads its other OTEL_EXPORTER_OTLP_* variables (headers, timeout, compression, certificate)
    # itself; the batch processor its OTEL_BSP_* ones.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=config.endpoint)))
    install(provider)
    log.info("tracing on", extra={"otlp_endpoint": config.endpoint, "sampler": config.sampler,
                                  "sampler_ratio": config.ratio, "trace_service": config.service_name})
    return True


def tracer_provider(config: TracingConfig):
    """An SDK TracerProvider with the config's resource and sampler and no processor yet."""
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider, sampling

    root = {"always_on": sampling.ALWAYS_ON, "always_off": sampling.ALWAYS_OFF,
            "traceidratio": sampling.TraceIdRatioBased(config.ratio)}[config.sampler.removeprefix("parentbased_")]
    sampler = sampling.ParentBased(root) if config.sampler.startswith("parentbased_") else root
    # Resource.create adds OTEL_RESOURCE_ATTRIBUTES and the SDK's own attributes; the name given wins.
    return TracerProvider(resource=Resource.create({SERVICE_NAME: config.service_name}), sampler=sampler)


def install(provider) -> None:
    """Make `provider` this process's: the platform's spans and the Flask instrumentation use it. (Tests install
    one with an in-memory exporter; `uninstall` turns tracing off again.)"""
    global _tracer, _provider
    from opentelemetry import trace

    _provider = provider
    _tracer = provider.get_tracer(INSTRUMENTATION_NAME)
    if not isinstance(trace.get_tracer_provider(), type(provider)):
        trace.set_tracer_provider(provider)  # once per process (the API refuses a second)


def uninstall() -> None:
    global _tracer, _provider
    _tracer = _provider = None


def shutdown() -> None:
    """Export what is still buffered and stop (a clean exit: SIGTERM); nothing when tracing is off."""
    if _provider is not None:
        with contextlib.suppress(Exception):
            _provider.shutdown()


def instrument_flask(app) -> None:
    """Server spans for every request of `app` (OpenTelemetry's Flask instrumentation: an incoming `traceparent`
    is honoured), when tracing is on. Probes and scrapes are left out: they would be most of the traces."""
    if _tracer is None:
        return
    from opentelemetry.instrumentation.flask import FlaskInstrumentor

    FlaskInstrumentor.instrument_app(app, tracer_provider=_provider, excluded_urls="healthz,readyz,metrics")


# --- W3C trace context in message headers ---------------------------------------------------------------------------

def trace_headers() -> list[tuple[str, str]]:
    """`traceparent` (and `tracestate` when there is one) of the current span, for a message made now; [] when
    tracing is off or no span is current."""
    if _tracer is None:
        return []
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return [(name, carrier[name]) for name in TRACE_HEADERS if name in carrier]


def context_from_headers(headers: Iterable[tuple[str, bytes | str | None]] | None):
    """The trace context a message's W3C headers carry (an OpenTelemetry Context), or None when it carries none,
    or none that can be read (a missing, empty or malformed traceparent: the message itself is still used)."""
    if _tracer is None:
        return None
    carrier = {}
    for name, value in headers or ():
        if name in TRACE_HEADERS and value:
            try:
                carrier[name] = value if isinstance(value, str) else value.decode("ascii")
            except UnicodeDecodeError:
                continue
    if TRACEPARENT not in carrier:
        return None
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    context = TraceContextTextMapPropagator().extract(carrier)
    return context if trace.get_current_span(context).get_span_context().is_valid else None


def with_trace_headers(headers: list[tuple[str, bytes]], span) -> list[tuple[str, bytes]]:
    """`headers` with the trace-context headers replaced by `span`'s (the others kept, in order)."""
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier, context=trace.set_span_in_context(span))
    kept = [(name, value) for name, value in headers if name not in TRACE_HEADERS]
    return kept + [(name, carrier[name].encode()) for name in TRACE_HEADERS if name in carrier]


def current_ids() -> tuple[str, str] | None:
    """(trace_id, span_id) of the current span as lowercase hex, for log lines; None when there is none."""
    if _tracer is None:
        return None
    from opentelemetry import trace

    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


# --- database statements --------------------------------------------------------------------------------------------
_OPERATION = re.compile(r"\s*(\w+)")
_TABLE = re.compile(r"\b(?:INTO|FROM|UPDATE)\s+`?(\w+)", re.IGNORECASE)


@contextlib.contextmanager
def _statement_span(sql: str, database: str) -> Iterator[None]:
    from opentelemetry import trace

    operation = _OPERATION.match(sql)
    operation = operation.group(1).upper() if operation else "SQL"
    table = _TABLE.search(sql)
    # The span name is low-cardinality: the operation and its first table (the query text is an attribute).
    name = f"{operation} {table.group(1)}" if table else operation
    with _tracer.start_as_current_span(name, kind=trace.SpanKind.CLIENT, attributes={
            "db.system.name": "mariadb", "db.namespace": database, "db.operation.name": operation,
            "db.query.text": sql}):
        yield


def statement_span(sql: str, database: str):
    """A CLIENT span around one database statement (its SQL with placeholders, never its values), as a child of
    the current span; nothing without one (a relay's or poller's idle queries would each be a trace of their own),
    nor inside one the sampler dropped: its statements would be dropped too, after paying for a span each (measured
    by `make bench`: most of what a POST costs at a sampling ratio of 0.01)."""
    if _tracer is None:
        return _NO_SPAN
    from opentelemetry import trace

    if not trace.get_current_span().is_recording():
        return _NO_SPAN
    return _statement_span(sql, database)


# --- each item of a consumer's batch in its own context ---------------------------------------------------------
# {id(item): Context} while a consumer's write runs: the context each item's record came with (its process span).
_ITEM_CONTEXTS: contextvars.ContextVar[dict | None] = contextvars.ContextVar("item_contexts", default=None)


@contextlib.contextmanager
def item_contexts(contexts: dict) -> Iterator[None]:
    """While inside, `item_context` finds each item's context in `contexts` ({id(item): Context})."""
    token = _ITEM_CONTEXTS.set(contexts)
    try:
        yield
    finally:
        _ITEM_CONTEXTS.reset(token)


def item_context(item):
    """While inside, the trace context `item`'s record came with is the current one: the events a consumer's write
    builds for the item then carry that item's trace, though the batch is written in one transaction. Nothing when
    tracing is off or outside a consumer's write.

        for event in events:
            with item_context(event):
                ...   # the event's statements, change rows and outgoing events"""
    contexts = _ITEM_CONTEXTS.get()
    context = contexts.get(id(item)) if contexts else None
    return _NO_SPAN if context is None else _attached(context)


@contextlib.contextmanager
def _attached(context) -> Iterator[None]:
    from opentelemetry import context as otel_context

    token = otel_context.attach(context)
    try:
        yield
    finally:
        otel_context.detach(token)


# --- work that continues a stored trace -----------------------------------------------------------------------------
def continue_trace(name: str, stored_traceparent: str | None, attributes: dict | None = None):
    """While inside, an INTERNAL span `name` is current as the child of `stored_traceparent`: the context a
    long-lived thing kept from its creation (e.g. a row's `traceparent`), so the work done on it now, and every
    message and statement made inside, continue that thing's trace rather than the caller's. The span and the one
    current on entry (the request or record that asked for the work) are linked both ways, so either trace leads to
    the other. Nothing (the caller's span stays current) when tracing is off, `stored_traceparent` is None (kept by
    a release before, or with tracing off) or cannot be read.

        with continue_trace(f"parcel {status}", row["traceparent"], {"parcel.id": ...}):
            ...   # the change's statements and outgoing events"""
    if _tracer is None or not stored_traceparent:
        return _NO_SPAN
    parent = context_from_headers([(TRACEPARENT, stored_traceparent)])
    return _NO_SPAN if parent is None else _continued(name, parent, attributes or {})


@contextlib.contextmanager
def _continued(name: str, parent, attributes: dict) -> Iterator[None]:
    from opentelemetry import trace

    asking = trace.get_current_span()
    asked_by = asking.get_span_context()
    links = [trace.Link(asked_by)] if asked_by.is_valid else []
    # The stored context's sampled flag decides (the parent-based samplers), as for any message of that trace.
    with _tracer.start_as_current_span(name, context=parent, kind=trace.SpanKind.INTERNAL, links=links,
                                       attributes=attributes) as span:
        if links and span.get_span_context().trace_flags.sampled:
            # Links are fixed at a span's start, except this one way back: the asking span is still open.
            asking.add_link(span.get_span_context())
        yield


# --- messaging spans (the OpenTelemetry messaging conventions: Kafka, PRODUCER and CONSUMER kinds) ------------------
def _header(headers, name: str) -> str | None:
    for header_name, value in headers or ():
        if header_name == name and value is not None:
            return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return None


def _messaging_attributes(topic: str, operation: str, operation_type: str, key: bytes | None, headers) -> dict:
    attributes = {"messaging.system": "kafka", "messaging.destination.name": topic,
                  "messaging.operation.name": operation, "messaging.operation.type": operation_type}
    if key is not None:
        attributes["messaging.kafka.message.key"] = key.decode("utf-8", "replace")
    event_id = _header(headers, "event_id")
    if event_id is not None:
        attributes["messaging.message.id"] = event_id
    return attributes


@contextlib.contextmanager
def publish_spans(records: list, client_id: str) -> Iterator[list]:
    """A PRODUCER span "<topic> publish" per record, each the child of the trace context in the record's own
    headers (the outbox row's: the request or the consumed record that made the event), or a new trace's root; yields
    the records with their trace headers replaced by their span's, to be sent inside. When the send raises, the
    spans of the records not acknowledged (all but the exception's `acknowledged` first) end as errors."""
    if _tracer is None or not records:
        yield records
        return
    from opentelemetry import context as otel_context
    from opentelemetry import trace

    spans = []
    for record in records:
        attributes = _messaging_attributes(record.topic, "publish", "send", record.key, record.headers)
        attributes["messaging.client.id"] = client_id
        spans.append(_tracer.start_span(f"{record.topic} publish", kind=trace.SpanKind.PRODUCER,
                                        context=context_from_headers(record.headers) or otel_context.Context(),
                                        attributes=attributes))
    try:
        yield [type(record)(topic=record.topic, key=record.key, value=record.value,
                            headers=with_trace_headers(record.headers, span))
               for record, span in zip(records, spans, strict=True)]
    except BaseException as exc:
        acknowledged = getattr(exc, "acknowledged", 0)
        for span in spans[acknowledged:]:
            span.set_status(trace.Status(trace.StatusCode.ERROR, f"not acknowledged: {exc}"[:500]))
            span.set_attribute("error.type", type(exc).__name__)
        raise
    finally:
        for span in spans:
            span.end()


class NoProcessSpans:
    """The consumer's spans while tracing is off: nothing."""

    def writing(self, topic: str, accepted: list):
        return _NO_SPAN

    def current(self, record):
        return _NO_SPAN

    def dead_lettered(self, record, error: str) -> None:
        return None

    def end(self, error: BaseException | None = None) -> None:
        return None


NO_PROCESS_SPANS = NoProcessSpans()


class ProcessSpans:
    """A consumer's spans for one poll's records: a CONSUMER span "<topic> process" per record, the child of the
    context the record's headers carry (a new trace's root without one), from its arrival until the batch is
    committed; and per topic an INTERNAL span "<topic> write" around the batch's one transaction (its database
    statements are its children), linked to every record's process span, while each item's own context is what
    `item_context` makes current for it."""

    def __init__(self, batch: dict, group: str):
        from opentelemetry import context as otel_context
        from opentelemetry import trace

        self._trace = trace
        self._spans: dict[tuple[str, int, int], object] = {}
        for partition, records in batch.items():
            for record in records:
                attributes = _messaging_attributes(record.topic, "process", "process", record.key, record.headers)
                attributes.update({"messaging.consumer.group.name": group,
                                   "messaging.destination.partition.id": str(record.partition),
                                   "messaging.kafka.offset": record.offset})
                self._spans[_place(record)] = _tracer.start_span(
                    f"{partition.topic} process", kind=trace.SpanKind.CONSUMER,
                    context=context_from_headers(record.headers) or otel_context.Context(), attributes=attributes)

    def context_of(self, record):
        return self._trace.set_span_in_context(self._spans[_place(record)])

    def current(self, record):
        """While inside, the record's process span is the current one (e.g. for a log line about it)."""
        return self._trace.use_span(self._spans[_place(record)], end_on_exit=False)

    @contextlib.contextmanager
    def writing(self, topic: str, accepted: list) -> Iterator[None]:
        """Around one topic's write of `accepted` [(record, item)]: its span, and each item's context."""
        links = [self._trace.Link(self._spans[_place(record)].get_span_context()) for record, _item in accepted]
        with _tracer.start_as_current_span(
                f"{topic} write", kind=self._trace.SpanKind.INTERNAL, links=links,
                attributes={"messaging.system": "kafka", "messaging.destination.name": topic,
                            "messaging.batch.message_count": len(accepted)}), \
                item_contexts({id(item): self.context_of(record) for record, item in accepted}):
            yield

    def dead_lettered(self, record, error: str) -> None:
        span = self._spans[_place(record)]
        span.add_event("dead-lettered", {"error": error[:1000]})
        span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, error[:500]))

    def end(self, error: BaseException | None = None) -> None:
        for span in self._spans.values():
            if error is not None:
                span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, f"batch not committed: {error}"[:500]))
                span.set_attribute("error.type", type(error).__name__)
            span.end()


def _place(record) -> tuple[str, int, int]:
    return record.topic, record.partition, record.offset


@contextlib.contextmanager
def process_spans(batch: dict, group: str) -> Iterator[ProcessSpans | NoProcessSpans]:
    """The consumer's spans for one poll's `batch` ({TopicPartition: [ConsumerRecord]}), ended on the way out (as
    errors when it raises); no spans when tracing is off."""
    if _tracer is None:
        yield NO_PROCESS_SPANS
        return
    spans = ProcessSpans(batch, group)
    try:
        yield spans
    except BaseException as exc:
        spans.end(exc)
        raise
    spans.end()


# --- live streams ---------------------------------------------------------------------------------------------------
def traceparent() -> str | None:
    """The current span's W3C `traceparent`, for a change-log row that a stream pushes later; None without one."""
    return dict(trace_headers()).get(TRACEPARENT)


class _NoPush:
    def end(self) -> None:
        return None


_NO_PUSH = _NoPush()


def current_span_context():
    """The current span's context, to refer to it later from outside the request (a stream's pushes); None when
    tracing is off or no span is current."""
    if _tracer is None:
        return None
    from opentelemetry import trace

    span_context = trace.get_current_span().get_span_context()
    return span_context if span_context.is_valid else None


def start_push_span(event: str, event_id: int, change_traceparent: str | None, stream=None, replayed: bool = False):
    """A PRODUCER span "<event> push" for one event written to a client's live stream (call its `end()` once written):
    the child of the trace the change was made in (the change-log row's `traceparent`), linked to `stream` (the
    stream request's span context, `current_span_context()` while it was handled); the child of that request span when
    the row has none. Nothing (a no-op) when tracing is off."""
    if _tracer is None:
        return _NO_PUSH
    from opentelemetry import context as otel_context
    from opentelemetry import trace

    parent = context_from_headers([(TRACEPARENT, change_traceparent)]) if change_traceparent else None
    links = []
    if parent is None:
        parent = trace.set_span_in_context(trace.NonRecordingSpan(stream)) if stream else otel_context.Context()
    elif stream is not None:
        links = [trace.Link(stream)]
    return _tracer.start_span(f"{event} push", kind=trace.SpanKind.PRODUCER, context=parent, links=links,
                              attributes={"sse.event": event, "sse.event_id": event_id, "sse.replayed": replayed})
