"""bench/results.md: the checks, the ceilings, CPU and memory by process, the machine, and how to reproduce."""
from __future__ import annotations

import time

from scripts.bench.config import BenchConfig
from scripts.bench.post_in_process import BATCHES, PER_BATCH, PROFILED, WARM_UP
from scripts.bench.targets import Check, Measurements, median_range
from scripts.bench.tracing import NO_SDK, OFF, WARM_UP_SECONDS, TracingPrice

TRACING_HEADING = "## The price of tracing (issue 24)"
TRACING_COLUMNS = ("| setting | whole-stack CPU ms per order | order-ms CPU ms per POST | POST req/s | POST ÷ floor"
                   " | spans per order | receiver CPU ms per order | order-ms POST in process, CPU µs | calls |")


def _mark(met: bool | None) -> str:
    return {True: "met", False: "**MISSED**", None: "–"}[met]


def render(config: BenchConfig, m: Measurements, checks: list[Check], tracing_checks: list[Check], machine: str,
           loads: tuple[float, float], stack_note: str, tracing_section: str) -> str:
    """The whole report; the tracing section carries its own checks (`tracing_checks`), counted in "Missed"."""
    rows = "\n".join(f"| {c.measurement} | {c.target} | {c.result} | {_mark(c.met)} |" for c in checks)
    cpu_rows = "\n".join(
        f"| {name} | {ms:.3f} | {m.idle_cpu_percent.get(name, 0.0):.2f} | {m.idle_start_cpu_percent.get(name, 0.0):.2f}"
        f" | {m.peak_mib.get(name, 0.0):.0f} |"
        for name, ms in sorted(m.cpu_ms_per_order.items(), key=lambda item: -item[1]))
    idle_total, idle_at_start_total = sum(m.idle_cpu_percent.values()), sum(m.idle_start_cpu_percent.values())
    missed = [c.measurement for c in checks + tracing_checks if c.met is False]
    tracing_section = tracing_section.rstrip("\n") + "\n\n" if tracing_section else ""
    echo = " and ".join(f"{run.rate:,.0f}" for run in m.echo)
    return f"""# Benchmark results

Measured by `make bench` on {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}: {machine}. 1-minute load average
{loads[0]:.2f} when the run began and {loads[1]:.2f} when it ended (other work on this shared machine shows up as
noise; the ratios, measured within the run, count most). {stack_note}

| measurement | target | result | |
| --- | --- | --- | --- |
{rows}

{"Every target met." if not missed else "Missed: " + "; ".join(missed) + "."}

## Ceilings, in the same run

- Flask JSON echo (`scripts/bench/echo_app.py`) under the services' gunicorn config and `GUNICORN_*` settings,
  the same wrk load as POST: {echo} req/s (before and after the POST run; the better one is the ratios' divisor).
  The same echo under gunicorn's gthread worker (4 threads each), for comparison: {m.echo_threaded.rate:,.0f} req/s.
- The echo's CPU per request (gunicorn's master and workers) under POSTs paced like the CPU accounting's below:
  {m.echo_cpu_ms:.3f} ms, the floor of what any request costs the stack's HTTP layer.
- The same-stack floor (`scripts/bench/floor_app.py`): a Flask app under the same gunicorn settings that only
  parses the body, inserts the order and its outbox row into a scratch copy of order-ms's tables on the stack's
  MariaDB, commits and answers 201 (no token, no checks, nothing published); the same wrk load as POST, with the
  relay and the consumer idle: {m.floor.summary()}.
- MariaDB single-row INSERT + COMMIT on the stack's database server: {m.database_commits_1:,.0f}/s on one
  connection, {m.database_commits_8:,.0f}/s on 8.

## CPU and memory by process

CPU per order during {config.seconds} s of POSTs paced at {config.cpu_rate}/s ({m.cpu_rate:,.0f}/s achieved),
until every one of them was a delivery; idle CPU over {config.idle_seconds} s with no requests, after the idle
stack's {config.idle_orders} orders and just after the start; peak resident set (VmHWM) of the largest process of
each component over its whole life, start-up included.

| process | CPU ms per order | idle, % of one core | idle just after the start | peak MiB |
| --- | --- | --- | --- | --- |
{cpu_rows}
| **total** | **{sum(m.cpu_ms_per_order.values()):.3f}** | **{idle_total:.2f}** | **{idle_at_start_total:.2f}** | |

The database server's memory is its buffer pool and caches, sized by its own configuration, and the broker's is
a JVM's (its heap capped at 384 MiB by scripts/stack/broker.py), so the ≤ 100 MiB target applies to the other
processes.

{tracing_section}## What was measured, and how

- Load: `wrk` with {config.connections} connections for {config.seconds} s straight to each service's gunicorn port
  (no ingress), POST with `bench/post_order.lua`, GETs with `bench/get_with_token.lua`; errors are non-2xx answers
  and socket errors. Paced runs use 32 connections, each waiting between its requests (wrk's `delay()`); the
  achieved rate is the one reported.
- Keeping up: after the POST run, the outbox rows not yet published and the orders without a delivery, and how
  long until every order of the run was a delivery.
- CPU: user + system time from `/proc/<pid>/stat` of every process of the stack, each counted once under the
  nearest component above it: the supervisor (which also writes every process's log), the broker, each
  service's gunicorn master and workers, the relays, the consumer, nginx, and the MariaDB server.
- Order → delivery: from the order's `ordered_at` to its delivery's `created_at`, both written with the same
  clock. Idle: {config.idle_orders} orders, each sent after the previous answer and a random pause of 50 to 150 ms.
  Half load: every order of a {config.seconds} s run paced at half the POST rate above.
- Order → visible to the customer: {config.stream_orders} orders of a new customer, one at a time, each POSTed
  through the ingress while the customer's stream (`GET /order-ms/<user_id>/orders/events`, through the ingress)
  is open, timed from sending the POST to its first `order-status` event (CONFIRMED: order-ms's relay, Kafka,
  delivery-ms's consumer and relay, Kafka, order-ms's status consumer, the stream's poller); then staff moves the
  delivery to IN_DELIVERY (PUT through the ingress), timed to that event.
- One stream instance: an order-ms stream process of the bench's own (gunicorn's gevent worker, the stack's
  settings and production defaults) gets STREAM_MAX_PER_INSTANCE idle streams on raw connections, then one more
  (which must be refused with 503); its worker's resident set (VmRSS) with one stream open and with all of them
  gives the memory per stream. Then one change of the customer's is written to `order_status_changes` and timed
  until every stream has read its event.
- Backlog: with the relay and the consumer paused (SIGSTOP), {config.backlog_events:,} orders and their outbox rows are
  written as order-ms writes them; the relay is resumed and publishes them all while the consumer waits, then
  the consumer is resumed while its downstream (the delivery relay and order-ms's status consumer) is held down
  (stopped with SIGTERM and kept down by the supervisor), and last the downstream is let go and order-ms's read
  model takes the deliveries in. Each rate counts from its first batch to its last (`sent_at`, `created_at`, and
  for the read model, which keeps no time of its own, row counts sampled every 0.2 s).

Reproduce with `make bench` (docs/performance.md lists the `BENCH_*` settings; `BENCH_STATE`
measures a running stack instead of starting one).
"""


def render_tracing(config: BenchConfig, price: TracingPrice, checks: list[Check], heading_note: str = "") -> str:
    """The tracing section: each setting's figures over the rounds, the paired ratios, how it was measured."""
    def figures(setting: str) -> str:
        runs = price.of(setting)
        spans = sum(run.spans for run in runs) / max(1, sum(run.orders for run in runs))
        return (f"| {setting} | {median_range([r.cpu_total for r in runs])}"
                f" | {median_range([r.cpu_ms_per_order.get('order-ms', 0.0) for r in runs])}"
                f" | {median_range([r.post.rate for r in runs], ',.0f')}"
                f" | {median_range([r.floor_ratio for r in runs])}"
                f" | {spans:.2f} | {median_range([r.receiver_cpu_ms for r in runs])}"
                f" | {median_range([r.in_process_us for r in runs], '.0f')}"
                f" | {median_range([r.calls_per_post for r in runs], '.0f')} |")

    def ratio(setting: str, baseline: str, what: str, value) -> str:
        return f"| {setting} ÷ {baseline}: {what} | {median_range(price.paired(setting, baseline, value))} |"

    def ratios_to(setting: str, baseline: str) -> list[str]:
        return [ratio(setting, baseline, "whole-stack CPU per order", lambda r: r.cpu_total),
                ratio(setting, baseline, "order-ms CPU per POST", lambda r: r.cpu_ms_per_order.get("order-ms", 0.0)),
                ratio(setting, baseline, "POST req/s", lambda r: r.post.rate),
                ratio(setting, baseline, "order-ms POST in process, CPU", lambda r: r.in_process_us),
                ratio(setting, baseline, "order-ms POST in process, Python function calls", lambda r: r.calls_per_post)]

    ratios = ratios_to(OFF, NO_SDK)
    for setting in price.settings:
        if setting not in (NO_SDK, OFF):
            ratios += ratios_to(setting, OFF)
    by_service = {}
    for run in price.runs:
        if run.setting == price.settings[-1]:
            for name, count in run.spans_by_service.items():
                by_service[name] = by_service.get(name, 0) + count
    exporters = ", ".join(f"{name} {count:,}" for name, count in sorted(by_service.items())) or "none"
    exported = (f"\nSpans received at {price.settings[-1]}, by service.name, over all rounds: {exporters}.\n"
                if price.sdk_installed else "")
    rows = "\n".join(f"| {c.measurement} | {c.target} | {c.result} | {_mark(c.met)} |" for c in checks)
    missing = "" if price.sdk_installed else (
        "\n**The OpenTelemetry SDK (or services/platform/tracing.py) was not installed for this run**: only the"
        " two settings without tracing were measured, which makes it an A/A comparison of the noise.\n")
    nl = "\n"
    rounds = f"{price.rounds} round{'s' if price.rounds != 1 else ''}"
    return f"""{TRACING_HEADING}
{heading_note}{missing}
{rounds} on one stack; in each, every setting in turn (forwards in odd rounds, backwards in even
ones), and before each setting every application process (both services, their stream processes, the relays and
the consumers) restarted with its environment, while MariaDB, Kafka and the ingress kept running:

- **{NO_SDK}**: the OpenTelemetry packages hidden from every application process by `scripts/bench/no_sdk`
  first on its `PYTHONPATH` (a regular package `opentelemetry` that raises ModuleNotFoundError on import, as
  Python does for a missing package; the installed one is a namespace package, which a regular package earlier
  on the path overrides), so the product runs as if they were not installed, with every other package the same.
- **{OFF}**: the packages installed, no `OTEL_*` set: production's default.
- **ratio 0.01** and **ratio 1.0**: `OTEL_EXPORTER_OTLP_ENDPOINT` set to the bench's OTLP/HTTP receiver
  (`scripts/bench/otlp_receiver.py`, its own process: decodes each export with opentelemetry-proto and counts
  its spans), `OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`, `OTEL_TRACES_SAMPLER=parentbased_traceidratio` with
  `OTEL_TRACES_SAMPLER_ARG` 0.01 or 1.0.

Each setting: {WARM_UP_SECONDS} s of POSTs paced at {config.cpu_rate}/s to warm the restarted processes (not
measured); the whole stack's CPU per order over {config.seconds} s of POSTs paced at {config.cpu_rate}/s until every
one was a delivery (as above: every process, MariaDB and the broker included; the receiver apart); then POSTs at
{config.connections} connections for {config.seconds} s, divided by the same-stack floor measured at the start of the
round; last, order-ms's own CPU per POST in a process of the bench's own with the setting's environment
(`scripts/bench/post_in_process.py`: the app as a gunicorn worker runs it, tracing set up by the same hook,
called as a WSGI function on the stack's MariaDB, no HTTP; {BATCHES} batches of {PER_BATCH} POSTs after
{WARM_UP} unmeasured, the best batch's process CPU time per POST, the exporter's thread included: other work on
the machine only ever adds to a batch), and the Python function calls of {PROFILED} more (cProfile's count, the
same whatever else the machine runs). Spans per order: everything the receiver got from the setting's processes
(their last batch flushed when the next switch stopped them) ÷ every order placed under the setting. Each cell:
the median of the rounds, and their range.

{TRACING_COLUMNS}
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
{nl.join(figures(setting) for setting in price.settings)}

| ratio, paired within each round | median (range) |
| --- | --- |
{nl.join(ratios)}
{exported}
| measurement | target | result | |
| --- | --- | --- | --- |
{rows}

Reproduce only this section with `make bench BENCH_ONLY=tracing` (it starts its own stack and replaces this
section of bench/results.md; `BENCH_TRACING_ROUNDS` sets the rounds, `0` leaves the section out of `make bench`).
"""


def replace_section(report: str, section: str) -> str:
    """`report` with its tracing section replaced by `section` (added before "What was measured" if absent)."""
    start = report.find(TRACING_HEADING)
    if start < 0:
        anchor = report.find("## What was measured, and how")
        start = end = anchor if anchor >= 0 else len(report)
    else:
        following = report.find("\n## ", start + len(TRACING_HEADING))
        end = following + 1 if following >= 0 else len(report)
    return report[:start] + section.rstrip("\n") + "\n\n" + report[end:]
