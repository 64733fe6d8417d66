"""The order of one `make bench` run: the stack, the ceilings, each measurement, the report and the exit code."""
from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator

from scripts.bench import machine
from scripts.bench.ceilings import (
    THREADED_WORKERS,
    database_commits_per_second,
    echo_server,
    floor_server,
    gunicorn_settings,
)
from scripts.bench.config import PORT_OFFSET, PROFILE, ROOT, BenchConfig, read_config
from scripts.bench.load import GET_WITH_TOKEN, POST_ORDER, new_customer, paced_post, wrk
from scripts.bench.pipeline import (
    CONSUMER_DOWNSTREAM,
    Databases,
    backlog_rates,
    delivery_latencies,
    keeping_up,
    post_one_at_a_time,
)
from scripts.bench.processes import CpuMeter, peak_memory_mib, stack_components
from scripts.bench.report import render, render_tracing, replace_section
from scripts.bench.streams import raise_open_files_limit, stream_capacity, visible_latencies
from scripts.bench.targets import Measurements, check, tracing_checks
from scripts.bench.tracing import OTEL_VARIABLES, measure_tracing
from scripts.stack.kafka_dist import kafka_version
from scripts.stack.layout import environment_for_own_stack
from scripts.stack.state import StackState
from scripts.stack.waiting import log
from services.platform.settings import DEFAULT_STREAM_MAX_PER_INSTANCE


@contextlib.contextmanager
def bench_stack(config: BenchConfig) -> Iterator[StackState]:
    """The state of the stack to measure: BENCH_STATE's, or a `bench` stack started here and stopped afterwards."""
    if config.state_file:
        yield StackState.read(config.state_file)
        return
    # Production's defaults: tracing off, and no trace backend in the stack, whatever the caller's shell sets (the
    # tracing section sets its own and brings its own receiver).
    env = {name: value for name, value in environment_for_own_stack(STACK_PORT_OFFSET=str(PORT_OFFSET)).items()
           if name not in OTEL_VARIABLES and name != "TRACING"}
    if config.private_database:
        env["STACK_PRIVATE_DB"] = "1"
        # Every run starts from an empty server: the rows of earlier runs (tens of thousands each) would
        # outgrow the buffer pool and make each run slower than the one before. The same for the topics.
        shutil.rmtree(config.private_database_dir, ignore_errors=True)
        env["STACK_FRESH_DATABASES"] = "1"
    command = [sys.executable, "-m", "scripts.stack"]
    subprocess.run([*command, "up", "--profile", PROFILE], cwd=ROOT, env=env, check=True)
    try:
        yield StackState.read(config.run_dir / "state.json")
    finally:
        subprocess.run([*command, "down", "--profile", PROFILE], cwd=ROOT, env=env)


def restarts(state: StackState) -> int:
    return sum(state.again().restarts().values())


def idle_cpu_percent(components: dict, seconds: float) -> dict[str, float]:
    """Each component's CPU over `seconds` with no requests, in % of one core."""
    meter = CpuMeter(components)
    meter.start()
    started = time.monotonic()
    time.sleep(seconds)
    return {name: cpu / (time.monotonic() - started) * 100 for name, cpu in meter.stop().items()}


def measure(config: BenchConfig, state: StackState) -> Measurements:
    m = Measurements()
    order_url, delivery_url = state.services["order-ms"], state.services["delivery-ms"]
    components = stack_components(state)
    db = Databases(state)
    customer = new_customer(order_url)
    post_url = f"{order_url}/order-ms/{customer.user_id}/orders"
    seconds, connections = config.seconds, config.connections

    log("bench: MariaDB INSERT + COMMIT ceiling")
    scratch = f"{state.databases['order_ms'].database}_ceiling"
    m.database_commits_1 = database_commits_per_second(state, scratch, 1, seconds / 2)
    m.database_commits_8 = database_commits_per_second(state, scratch, 8, seconds / 2)

    log(f"bench: idle CPU for {config.idle_seconds} s, just after the start")
    m.idle_start_cpu_percent = idle_cpu_percent(components, config.idle_seconds)

    log(f"bench: order → delivery, {config.idle_orders} orders one at a time")
    before = db.last_order_id()
    post_one_at_a_time(order_url, customer, config.idle_orders)
    m.idle_latency = delivery_latencies(db, before, db.last_order_id())
    # Again once every process has done its first work: what an idle stack costs for as long as it runs, without
    # the start-up (half a minute after its start the broker's JVM is still compiling: docs/performance.md).
    log(f"bench: idle CPU for {config.idle_seconds} s, after those orders")
    m.idle_cpu_percent = idle_cpu_percent(components, config.idle_seconds)

    log("bench: Flask echo, POST orders, Flask echo, Flask echo under the gthread worker")
    with echo_server(config.run_dir) as echo:
        m.echo.append(wrk(echo.url, POST_ORDER, customer.token, seconds, connections))
        before = db.last_order_id()
        m.post = wrk(post_url, POST_ORDER, customer.token, seconds, connections)
        m.post_keeping_up = keeping_up(db, before)
        m.echo.append(wrk(echo.url, POST_ORDER, customer.token, seconds, connections))
        log(f"bench: the echo's CPU per request at {config.cpu_rate} requests/s")
        echo_meter = CpuMeter({"echo": echo.pid})
        echo_meter.start()
        paced = paced_post(echo.url, customer.token, config.cpu_rate, seconds)
        m.echo_cpu_ms = echo_meter.stop()["echo"] / paced.requests * 1000
    with echo_server(config.run_dir, THREADED_WORKERS) as echo:
        m.echo_threaded = wrk(echo.url, POST_ORDER, customer.token, seconds, connections)
    log("bench: the same-stack floor (parse, insert the order and its outbox row, commit, 201)")
    with floor_server(config.run_dir, state) as floor:
        m.floor = wrk(floor.url, POST_ORDER, customer.token, seconds, connections)

    log(f"bench: CPU per order at {config.cpu_rate} orders/s")
    before = db.last_order_id()
    meter = CpuMeter(components)
    meter.start()
    paced = paced_post(post_url, customer.token, config.cpu_rate, seconds)
    keeping_up(db, before)
    cpu = meter.stop()
    orders = db.last_order_id() - before
    m.cpu_rate = paced.rate
    m.cpu_ms_per_order = {name: seconds_spent / orders * 1000 for name, seconds_spent in cpu.items()}

    log(f"bench: order → delivery at half the POST rate ({m.post.rate / 2:,.0f}/s)")
    before = db.last_order_id()
    m.half_load = paced_post(post_url, customer.token, m.post.rate / 2, seconds)
    m.half_load_keeping_up = keeping_up(db, before)
    m.half_load_latency = delivery_latencies(db, before, db.last_order_id())

    log("bench: GET orders and deliveries")
    m.get_orders = wrk(f"{post_url}?limit=50", GET_WITH_TOKEN, customer.token, seconds, connections)
    m.get_deliveries = wrk(f"{delivery_url}/delivery-ms/deliveries?limit=50", GET_WITH_TOKEN, customer.token,
                           seconds, connections)

    log(f"bench: order → visible on the customer's open stream, {config.stream_orders} orders through the ingress")
    staff = new_customer(order_url, state.staff["user_id"], state.staff["password"])
    m.visible = visible_latencies(state.base_url, new_customer(order_url), staff.token, config.stream_orders)
    log(f"bench: one stream instance holding {DEFAULT_STREAM_MAX_PER_INSTANCE:,} idle streams")
    m.streams = stream_capacity(state, customer, config.run_dir)

    # Before the backlog: it holds the consumer's downstream down and starts it again, as new processes.
    m.peak_mib = peak_memory_mib(components)
    log(f"bench: relay and consumer from a backlog of {config.backlog_events:,} events")
    m.backlog = backlog_rates(db, state, f"{customer.user_id}-backlog", config.backlog_events)
    m.held_restarts = len(CONSUMER_DOWNSTREAM)
    for name, peak in peak_memory_mib(stack_components(state.again())).items():
        m.peak_mib[name] = max(peak, m.peak_mib.get(name, 0.0))
    m.broker_ready_seconds = state.kafka_ready_seconds
    db.close()
    return m


def main() -> int:
    config = read_config()
    raise_open_files_limit()
    load_before = machine.wait_for_quiet_machine(config.settle_load, 0 if config.state_file else config.settle_seconds)
    m, price = None, None
    with bench_stack(config) as state:
        if config.only is None:
            restarts_before = restarts(state)
            m = measure(config, state)
            m.restarts = restarts(state) - restarts_before - m.held_restarts
        if config.tracing_rounds > 0:
            # Last: it restarts the application processes between its settings.
            price = measure_tracing(config, state, new_customer(state.services["order-ms"]))
        database = "a private MariaDB of its own" if "mariadb" in state.processes else "the system's MariaDB"
    stack_note = (f"The stack ran with {database}, Apache Kafka {kafka_version()} (one KRaft node, SASL/SCRAM and"
                  f" ACLs) and {gunicorn_settings()} per service;"
                  " wrk ran on the same machine.")
    loads = (load_before, machine.load_average())
    traced = tracing_checks(price) if price else []
    if m is None:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        note = (f"\nMeasured alone by `make bench BENCH_ONLY=tracing` on {when}: {machine.description()}."
                f" 1-minute load average {loads[0]:.2f} when the run began and {loads[1]:.2f} when it ended."
                f" {stack_note}\n")
        existing = config.results_file.read_text() if config.results_file.exists() else "# Benchmark results\n\n"
        report = replace_section(existing, render_tracing(config, price, traced, note) if price else "")
        checks = traced
    else:
        checks = check(m)
        section = render_tracing(config, price, traced) if price else ""
        report = render(config, m, checks, traced, machine.description(), loads, stack_note, section)
        checks += traced
    config.results_file.write_text(report)
    print(report)
    return 1 if any(c.met is False for c in checks) else 0
