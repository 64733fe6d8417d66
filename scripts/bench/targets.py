"""The targets of issue 13 for a 2-core machine, checked against one run's measurements."""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from scripts.bench.load import WrkResult
from scripts.bench.pipeline import BacklogRates, KeepingUp, Latencies
from scripts.bench.streams import StreamCapacity, VisibleLatencies
from scripts.bench.tracing import NO_SDK, OFF, OFF_COST_RATIO, TracingPrice

POST_TO_ECHO_RATIO = 0.25
POST_TO_FLOOR_RATIO = 0.75
CPU_MS_PER_ORDER = 1.5
IDLE_PERCENT_OF_A_CORE = 5.0
IDLE_P50_MS, IDLE_P99_MS = 20.0, 100.0
HALF_LOAD_P99_MS = 250.0
BACKLOG_EVENTS_PER_SECOND = 10_000
RESIDENT_MIB = 100.0
# The components that are servers we run rather than ship (see processes.stack_components): the database server
# and the Kafka broker (a JVM), whose memory is reported on its own.
DATABASE_SERVER = "mariadb"
BROKER = "broker"
# Keeping up: once the load stops, every order of the run is a delivery within this long.
CAUGHT_UP_SECONDS = 1.0
# Issue 23: a change appears on the customer's open stream within a second.
VISIBLE_P99_MS = 1000.0
# The chart's memory limit of a stream process (charts/coffee-order/values.yaml orderMsStream.resources).
STREAM_INSTANCE_LIMIT_MIB = 256.0


@dataclass
class Measurements:
    """Everything one run measured; each field is filled by one step of scripts.bench.cli."""

    database_commits_1: float = 0.0
    database_commits_8: float = 0.0
    echo: list[WrkResult] = field(default_factory=list)  # before and after the POST run
    echo_threaded: WrkResult | None = None  # under gunicorn's gthread worker (4 threads), for comparison
    floor: WrkResult | None = None  # the same-stack floor (scripts/bench/floor_app.py)
    broker_ready_seconds: float | None = None  # from the broker's start until its users, ACLs and topics were set up
    post: WrkResult | None = None
    post_keeping_up: KeepingUp | None = None
    # Of one core, by component: just after the start, and after the idle stack's first orders (the target's).
    idle_start_cpu_percent: dict[str, float] = field(default_factory=dict)
    idle_cpu_percent: dict[str, float] = field(default_factory=dict)
    idle_latency: Latencies | None = None
    cpu_rate: float = 0.0  # orders per second achieved during the CPU accounting
    cpu_ms_per_order: dict[str, float] = field(default_factory=dict)  # by component
    echo_cpu_ms: float = 0.0  # the echo's CPU per request, paced like the CPU accounting's POSTs
    half_load: WrkResult | None = None
    half_load_latency: Latencies | None = None
    half_load_keeping_up: KeepingUp | None = None
    get_orders: WrkResult | None = None
    get_deliveries: WrkResult | None = None
    backlog: BacklogRates | None = None
    peak_mib: dict[str, float] = field(default_factory=dict)  # by component
    visible: VisibleLatencies | None = None  # order → visible on the customer's open stream
    streams: StreamCapacity | None = None  # what one stream instance holds
    restarts: int = 0  # processes the supervisor restarted during the run
    held_restarts: int = 0  # of those, the ones the bench stopped and let start again on purpose (the backlog's)

    @property
    def echo_rate(self) -> float:
        """The ceiling: the better of the echo runs (other work on a shared machine only ever lowers one)."""
        return max(run.rate for run in self.echo)


@dataclass(frozen=True)
class Check:
    measurement: str
    target: str
    result: str
    met: bool | None  # None: reported, no target


def check(m: Measurements) -> list[Check]:
    ratio = m.post.rate / m.echo_rate
    kept_up = m.post_keeping_up.drained_seconds <= CAUGHT_UP_SECONDS
    cpu_total = sum(m.cpu_ms_per_order.values())
    idle_total = sum(m.idle_cpu_percent.values())
    shipped_peaks = {name: mib for name, mib in m.peak_mib.items() if name not in (DATABASE_SERVER, BROKER)}
    floor_ratio = m.post.rate / m.floor.rate
    largest = max(shipped_peaks, key=shipped_peaks.get)
    return [
        Check(
            "POST /order-ms/{user}/orders ÷ Flask echo (8 connections, relay and consumer running)",
            f"≥ {POST_TO_ECHO_RATIO}, 0 errors, keeping up (all delivered ≤ {CAUGHT_UP_SECONDS:.0f} s after)",
            f"{ratio:.3f} ({m.post.rate:,.0f} ÷ {m.echo_rate:,.0f} req/s), {m.post.errors} errors;"
            f" {m.post_keeping_up.summary()}",
            ratio >= POST_TO_ECHO_RATIO and m.post.errors == 0 and kept_up,
        ),
        Check(
            "POST ÷ the same-stack floor (8 connections, relay and consumer running during the POSTs)",
            f"≥ {POST_TO_FLOOR_RATIO}",
            f"{floor_ratio:.3f} ({m.post.rate:,.0f} ÷ {m.floor.rate:,.0f} req/s,"
            f" floor p50 {m.floor.p50_ms:.1f} ms, {m.floor.errors} errors)",
            floor_ratio >= POST_TO_FLOOR_RATIO and m.floor.errors == 0,
        ),
        Check(
            "whole-stack CPU per order (every process, MariaDB and the broker included)",
            f"≤ {CPU_MS_PER_ORDER} ms",
            f"{cpu_total:.2f} ms at {m.cpu_rate:,.0f} orders/s",
            cpu_total <= CPU_MS_PER_ORDER,
        ),
        Check(
            "whole-stack CPU per order ÷ the echo's CPU per request at the same rate",
            "reported",
            f"{cpu_total / m.echo_cpu_ms:.1f} ({cpu_total:.2f} ÷ {m.echo_cpu_ms:.2f} ms)",
            None,
        ),
        Check(
            "idle stack CPU (after its first orders)",
            f"≤ {IDLE_PERCENT_OF_A_CORE:.0f} % of one core",
            f"{idle_total:.1f} %",
            idle_total <= IDLE_PERCENT_OF_A_CORE,
        ),
        Check(
            "idle stack CPU just after the start (the broker's JVM still compiling)",
            "reported",
            f"{sum(m.idle_start_cpu_percent.values()):.1f} %",
            None,
        ),
        Check(
            "order → delivery, idle stack (one order at a time)",
            f"p50 ≤ {IDLE_P50_MS:.0f} ms, p99 ≤ {IDLE_P99_MS:.0f} ms",
            m.idle_latency.summary(),
            m.idle_latency.p50 <= IDLE_P50_MS and m.idle_latency.p99 <= IDLE_P99_MS,
        ),
        Check(
            "order → delivery at half the maximum POST rate",
            f"p99 ≤ {HALF_LOAD_P99_MS:.0f} ms",
            f"{m.half_load_latency.summary()} at {m.half_load.rate:,.0f} orders/s; {m.half_load_keeping_up.summary()}",
            m.half_load_latency.p99 <= HALF_LOAD_P99_MS,
        ),
        Check(
            "order relay from a backlog",
            f"≥ {BACKLOG_EVENTS_PER_SECOND:,} events/s",
            f"{m.backlog.relay:,.0f} events/s",
            m.backlog.relay >= BACKLOG_EVENTS_PER_SECOND,
        ),
        Check(
            "consumer from a backlog (its downstream held down, as the consumer waits while the relay is measured)",
            f"≥ {BACKLOG_EVENTS_PER_SECOND:,} events/s",
            f"{m.backlog.consumer:,.0f} deliveries/s",
            m.backlog.consumer >= BACKLOG_EVENTS_PER_SECOND,
        ),
        Check(
            "the consumer's downstream from that backlog (delivery relay, Kafka, order-ms's status consumer)",
            "reported",
            f"{m.backlog.read_model:,.0f} deliveries/s into order-ms's read model",
            None,
        ),
        Check(
            "the Kafka broker: peak resident memory; start until ready (users, ACLs, topics set up)",
            "reported",
            f"{m.peak_mib.get(BROKER, 0):.0f} MiB; "
            + (f"{m.broker_ready_seconds:.1f} s" if m.broker_ready_seconds is not None else "an external broker"),
            None,
        ),
        Check(
            "peak resident memory of each process (the database server and the broker apart, see below)",
            f"≤ {RESIDENT_MIB:.0f} MiB",
            f"largest {shipped_peaks[largest]:.0f} MiB ({largest})",
            shipped_peaks[largest] <= RESIDENT_MIB,
        ),
        Check(
            "GET /order-ms/{user}/orders?limit=50 ÷ Flask echo",
            "0 errors",
            f"{m.get_orders.rate / m.echo_rate:.3f} ({m.get_orders.summary()})",
            m.get_orders.errors == 0,
        ),
        Check(
            "GET /delivery-ms/deliveries?limit=50 (a customer's) ÷ Flask echo",
            "0 errors",
            f"{m.get_deliveries.rate / m.echo_rate:.3f} ({m.get_deliveries.summary()})",
            m.get_deliveries.errors == 0,
        ),
        Check(
            "POST ÷ Flask echo under the gthread worker (4 threads), for comparison",
            "reported",
            f"{m.post.rate / m.echo_threaded.rate:.3f} ({m.post.rate:,.0f} ÷ {m.echo_threaded.rate:,.0f} req/s)",
            None,
        ),
        Check(
            "POST ÷ MariaDB INSERT + COMMIT (8 connections)",
            "reported",
            f"{m.post.rate / m.database_commits_8:.3f} ({m.post.rate:,.0f} ÷ {m.database_commits_8:,.0f}/s)",
            None,
        ),
        *stream_checks(m),
        Check("processes restarted during the run", "0", str(m.restarts), m.restarts == 0),
    ]


def stream_checks(m: Measurements) -> list[Check]:
    visible, capacity = m.visible, m.streams

    def within(latencies: Latencies | None) -> bool:
        return latencies is not None and visible.missing == 0 and latencies.p99 <= VISIBLE_P99_MS

    return [
        Check(
            "order → visible to the customer: POST through the ingress → its first `order-status` event on the"
            " customer's open stream",
            f"p99 ≤ {VISIBLE_P99_MS:.0f} ms",
            visible.summary(visible.first_event),
            within(visible.first_event),
        ),
        Check(
            "a staff move (PUT through the ingress) → its `order-status` event on the customer's open stream",
            f"p99 ≤ {VISIBLE_P99_MS:.0f} ms",
            visible.summary(visible.staff_move),
            within(visible.staff_move),
        ),
        Check(
            "one stream instance: STREAM_MAX_PER_INSTANCE idle streams open, the next refused (503), resident memory",
            f"refused beyond the limit; ≤ {STREAM_INSTANCE_LIMIT_MIB:.0f} MiB (the chart's limit)",
            f"{capacity.streams:,} streams: {capacity.base_mib:.0f} → {capacity.loaded_mib:.0f} MiB"
            f" ({capacity.kib_per_stream:.0f} KiB per stream); the next one "
            + ("refused 503" if capacity.refused_beyond else "**not refused**")
            + "; one change to every stream in "
            + (f"{capacity.fan_out_ms:.0f} ms" if capacity.fan_out_ms is not None else "(not all got it)"),
            capacity.refused_beyond and capacity.loaded_mib <= STREAM_INSTANCE_LIMIT_MIB
            and capacity.fan_out_ms is not None,
        ),
    ]


def median_range(values: list[float], fmt: str = ".3f") -> str:
    """The median of a setting's rounds and, with more than one, their range: the noise beside the figure."""
    if not values:
        return "–"
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{format(statistics.median(values), fmt)} ({format(min(values), fmt)} to {format(max(values), fmt)})"


def tracing_checks(price: TracingPrice) -> list[Check]:
    cpu = price.paired(OFF, NO_SDK, lambda run: run.cpu_total)
    order_ms = price.paired(OFF, NO_SDK, lambda run: run.cpu_ms_per_order.get("order-ms", 0.0))
    post = price.paired(OFF, NO_SDK, lambda run: run.post.rate)
    in_process = price.paired(OFF, NO_SDK, lambda run: run.in_process_us)
    calls = price.paired(OFF, NO_SDK, lambda run: run.calls_per_post)
    quiet = [run for run in price.runs if run.setting in (NO_SDK, OFF)]
    exported = sum(run.exports for run in quiet)
    rounds = f"{len(cpu)} round{'s' if len(cpu) != 1 else ''}"
    # The target is judged on the call count: on a shared machine every timing of two settings that run the same
    # code moved by 10 to 25 % from round to round (docs/performance.md), so the timings are reported beside it.
    return [
        Check(
            "tracing off (the SDK installed, no endpoint) ÷ the SDK not installed: Python function calls per POST in"
            " process (cProfile's count, which no other work on the machine changes), paired within each round",
            f"≤ {OFF_COST_RATIO:.2f} (median of the rounds)",
            f"{median_range(calls, '.4f')} over {rounds}",
            bool(calls) and statistics.median(calls) <= OFF_COST_RATIO,
        ),
        Check(
            "tracing off ÷ the SDK not installed: whole-stack CPU per order, paired within each round",
            "reported (its range is this machine's noise)",
            f"{median_range(cpu)} over {rounds}; order-ms's own CPU per POST {median_range(order_ms)}",
            None,
        ),
        Check(
            "tracing off ÷ the SDK not installed: order-ms's CPU per POST in process (best batch), paired within each"
            " round",
            "reported (its range is this machine's noise)",
            f"{median_range(in_process)} over {rounds}",
            None,
        ),
        Check(
            "tracing off ÷ the SDK not installed: POST req/s (8 connections), paired within each round",
            "reported",
            f"{median_range(post)} over {rounds}",
            None,
        ),
        Check(
            "nothing exported with tracing off or without the SDK",
            "0 export requests",
            f"{exported} export requests",
            exported == 0,
        ),
        Check(
            "processes restarted during the tracing section other than by its switches",
            "0",
            str(sum(run.unexpected_restarts for run in price.runs)),
            sum(run.unexpected_restarts for run in price.runs) == 0,
        ),
    ]
