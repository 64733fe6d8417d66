"""The price of tracing (issue 24): the whole stack's CPU per order and POST ÷ the same-stack floor with the
OpenTelemetry packages not installed, installed but off (no endpoint set: production's default), and sampling
1 % and every trace (parentbased_traceidratio) while exporting over OTLP/HTTP to a real local receiver.

The settings take turns on one stack, round after round (forwards, then backwards, so a drift of the machine
weighs on each alike): before each, every application process is restarted with the setting's environment
(scripts/stack/env_overrides.py), while MariaDB, Kafka and the ingress keep running. "Tracing off costs ≤ 2 %"
is judged on ratios paired within a round, and the spread over the rounds is reported: this machine is shared."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from scripts.bench.ceilings import floor_server
from scripts.bench.config import OTLP_RECEIVER_PORT, ROOT, BenchConfig
from scripts.bench.load import POST_ORDER, Customer, WrkResult, paced_post, wrk
from scripts.bench.pipeline import Databases, keeping_up
from scripts.bench.processes import CpuMeter, stack_components
from scripts.stack.env_overrides import overrides_path, with_overrides, write_overrides
from scripts.stack.holds import hold_process, release_process
from scripts.stack.layout import environment_for_own_stack, layout_for
from scripts.stack.state import StackState
from scripts.stack.waiting import log, port_open

# The folder whose `opentelemetry` package hides the installed one (scripts/bench/no_sdk/opentelemetry).
NO_SDK_PATH = ROOT / "scripts" / "bench" / "no_sdk"
# Every standard variable the settings set; each setting removes the ones it does not set, so a stack started
# with some of them in its environment is measured as the setting says.
OTEL_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
                  "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
                  "OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED")
# The stack's servers, which the settings leave running; every other process is the application's. (A stack
# started with TRACING=1 also runs its trace backend: scripts/stack/trace_backend.py.)
SERVERS = frozenset({"mariadb", "broker", "ingress", "prometheus", "zipkin", "otlp-collector"})
NO_SDK, OFF = "no SDK", "off"
# Each setting starts with this many seconds of paced POSTs, unmeasured: a restarted process's caches (verified
# tokens, account versions, prepared SQL) are cold.
WARM_UP_SECONDS = 3
# Target: tracing off costs at most 2 % against the same run without the SDK installed.
OFF_COST_RATIO = 1.02


@dataclass(frozen=True)
class Setting:
    name: str
    env: dict[str, str | None]  # on top of the stack's own environment; None removes a variable
    exports: bool  # sends spans to the receiver


def tracing_settings(receiver_url: str, sdk_installed: bool) -> list[Setting]:
    """No SDK, off, then (when the SDK is installed here) ratio 0.01 and 1.0 exporting to `receiver_url`."""
    unset = dict.fromkeys(OTEL_VARIABLES)
    path = os.pathsep.join(p for p in (str(NO_SDK_PATH), os.environ.get("PYTHONPATH", "")) if p)
    settings = [Setting(NO_SDK, {**unset, "PYTHONPATH": path}, exports=False),
                Setting(OFF, {**unset, "PYTHONPATH": os.environ.get("PYTHONPATH")}, exports=False)]
    if sdk_installed:
        settings += [Setting(f"ratio {ratio}", {
            **unset, "PYTHONPATH": os.environ.get("PYTHONPATH"),
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver_url, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": ratio}, exports=True)
            for ratio in ("0.01", "1.0")]
    return settings


def sdk_installed() -> bool:
    """The SDK, its OTLP/HTTP exporter and the product's tracing module (which turns them on) are all here."""
    return all(importlib.util.find_spec(name) is not None for name in (
        "opentelemetry.sdk", "opentelemetry.exporter.otlp.proto.http", "services.platform.tracing"))


@dataclass(frozen=True)
class SettingRun:
    """One setting measured once."""

    setting: str
    round: int
    floor_rate: float  # the same-stack floor of this round, req/s
    post: WrkResult
    cpu_rate: float  # orders per second achieved during the CPU accounting
    cpu_ms_per_order: dict[str, float]  # by component
    receiver_cpu_ms: float  # the receiver's CPU per order (not the stack's)
    orders: int  # every order placed while the setting ran (warm-up included)
    spans: int  # spans the receiver got from the setting's processes, flushed at their stop included
    exports: int  # export requests the receiver got
    spans_by_service: dict[str, int] = field(default_factory=dict)
    unexpected_restarts: int = 0
    in_process_us: float = 0.0  # order-ms's CPU per POST in one process, no HTTP (scripts/bench/post_in_process.py)
    calls_per_post: float = 0.0  # the Python function calls of one such POST

    @property
    def cpu_total(self) -> float:
        return sum(self.cpu_ms_per_order.values())

    @property
    def floor_ratio(self) -> float:
        return self.post.rate / self.floor_rate


@dataclass
class TracingPrice:
    settings: list[str]
    runs: list[SettingRun]
    rounds: int
    sdk_installed: bool

    def of(self, setting: str) -> list[SettingRun]:
        return [run for run in self.runs if run.setting == setting]

    def paired(self, setting: str, baseline: str, value) -> list[float]:
        """`value(run)` of `setting` ÷ that of `baseline`, per round."""
        base = {run.round: value(run) for run in self.of(baseline)}
        return [value(run) / base[run.round] for run in self.of(setting) if base.get(run.round)]


class Receiver:
    """The bench's OTLP/HTTP receiver (scripts/bench/otlp_receiver.py), a process of its own."""

    def __init__(self, port: int, run_dir):
        self.url = f"http://127.0.0.1:{port}"
        run_dir.mkdir(parents=True, exist_ok=True)
        with open(run_dir / "otlp-receiver.log", "ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "scripts.bench.otlp_receiver", str(port)],
                                            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not port_open("127.0.0.1", port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the OTLP receiver did not start; see {run_dir / 'otlp-receiver.log'}")
            time.sleep(0.1)

    def counts(self) -> tuple[int, dict[str, int]]:
        """(export requests, spans by service.name) so far."""
        with urllib.request.urlopen(f"{self.url}/counts", timeout=10) as answer:
            counts = json.load(answer)
        return counts["requests"], counts["spans"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@contextmanager
def receiver(config: BenchConfig, needed: bool) -> Iterator[Receiver | None]:
    if not needed:
        yield None
        return
    running = Receiver(OTLP_RECEIVER_PORT, config.run_dir)
    try:
        yield running
    finally:
        running.stop()


def application_processes(state: StackState) -> list[str]:
    return [name for name in state.processes if name not in SERVERS]


def switch(state: StackState, env: dict[str, str | None]) -> StackState:
    """Every application process stopped, then started again with `env` on top of its own; returns the state
    once all of them answer. Stopping first flushes their span exporters (at SIGTERM)."""
    layout = layout_for(state.profile, starting=False)
    names = application_processes(state)
    with ThreadPoolExecutor(len(names)) as pool:
        list(pool.map(lambda name: hold_process(layout, name), names))
    write_overrides(overrides_path(layout), env)
    with ThreadPoolExecutor(len(names)) as pool:
        list(pool.map(lambda name: release_process(layout, name), names))
    return state.again()


def _restarts(state: StackState) -> int:
    return sum(state.again().restarts().values())


def measure_setting(config: BenchConfig, state: StackState, db: Databases, customer: Customer, post_url: str,
                    setting: Setting, round_number: int, floor_rate: float, otlp: Receiver | None) -> SettingRun:
    """On an application just restarted with `setting`: a warm-up, the CPU per order at the paced rate, then POSTs
    as fast as they go. Its spans are counted once the next switch has stopped (and flushed) its processes."""
    restarts_before = _restarts(state)
    first_order = db.last_order_id()
    paced_post(post_url, customer.token, config.cpu_rate, WARM_UP_SECONDS)
    keeping_up(db, first_order)

    meter = CpuMeter(stack_components(state))
    receiver_meter = CpuMeter({"receiver": otlp.process.pid} if otlp else {})
    before = db.last_order_id()
    meter.start()
    receiver_meter.start()
    paced = paced_post(post_url, customer.token, config.cpu_rate, config.seconds)
    keeping_up(db, before)
    cpu = meter.stop()
    receiver_cpu = receiver_meter.stop().get("receiver", 0.0)
    orders = db.last_order_id() - before

    before = db.last_order_id()
    post = wrk(post_url, POST_ORDER, customer.token, config.seconds, config.connections)
    keeping_up(db, before)
    in_process, calls = post_in_process(config, state, customer, setting)
    return SettingRun(
        setting=setting.name, round=round_number, floor_rate=floor_rate, post=post, cpu_rate=paced.rate,
        cpu_ms_per_order={name: seconds / orders * 1000 for name, seconds in cpu.items()},
        receiver_cpu_ms=receiver_cpu / orders * 1000, orders=db.last_order_id() - first_order, spans=0,
        exports=0, unexpected_restarts=_restarts(state) - restarts_before, in_process_us=in_process,
        calls_per_post=calls)


def post_in_process(config: BenchConfig, state: StackState, customer: Customer,
                    setting: Setting) -> tuple[float, float]:
    """order-ms's (CPU µs, Python function calls) per POST in a process of the bench's own with the setting's
    environment."""
    metrics_dir = config.run_dir / "prometheus-in-process"
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):
        stale.unlink()
    env = with_overrides(environment_for_own_stack(**state.http_env_of("order_ms"), BENCH_TOKEN=customer.token,
                                                   PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)), setting.env)
    done = subprocess.run([sys.executable, "-m", "scripts.bench.post_in_process", customer.user_id], cwd=ROOT,
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the in-process POSTs failed under tracing {setting.name}:\n{done.stderr[-3000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return figures["cpu_us_per_post"], figures["calls_per_post"]


def _with_spans(run: SettingRun, before: tuple[int, dict[str, int]], after: tuple[int, dict[str, int]]) -> SettingRun:
    by_service = {name: count - before[1].get(name, 0) for name, count in after[1].items()
                  if count - before[1].get(name, 0)}
    return replace(run, spans=sum(by_service.values()), exports=after[0] - before[0], spans_by_service=by_service)


def measure_tracing(config: BenchConfig, state: StackState, customer: Customer) -> TracingPrice:
    installed = sdk_installed()
    if not installed:
        log("bench: tracing: the OpenTelemetry SDK or services.platform.tracing is not installed here;"
            " measuring only 'no SDK' against 'off'")
    settings = tracing_settings(f"http://127.0.0.1:{OTLP_RECEIVER_PORT}", installed)
    db = Databases(state)
    post_url = f"{state.services['order-ms']}/order-ms/{customer.user_id}/orders"
    runs: list[SettingRun] = []
    no_counts = (0, {})
    with receiver(config, any(s.exports for s in settings)) as otlp:
        pending: SettingRun | None = None
        counts_before = no_counts

        def switch_to(env: dict[str, str | None]) -> StackState:
            """Switches, and credits the previous setting with every span its stopped processes sent."""
            nonlocal pending, counts_before
            switched = switch(state, env)
            if pending is not None:
                counts_after = otlp.counts() if otlp else no_counts
                runs.append(_with_spans(pending, counts_before, counts_after))
                counts_before, pending = counts_after, None
            return switched

        for round_number in range(1, config.tracing_rounds + 1):
            log(f"bench: tracing round {round_number}: the same-stack floor")
            with floor_server(config.run_dir, state) as floor:
                floor_run = wrk(floor.url, POST_ORDER, customer.token, config.seconds, config.connections)
            if floor_run.errors or not floor_run.rate:
                raise SystemExit(f"the same-stack floor failed ({floor_run.summary()});"
                                 f" see {config.run_dir / 'floor_app.log'}")
            floor_rate = floor_run.rate
            order = settings if round_number % 2 else list(reversed(settings))
            for setting in order:
                log(f"bench: tracing {setting.name} (round {round_number}): restarting the application processes")
                state = switch_to(setting.env)
                pending = measure_setting(config, state, db, customer, post_url, setting, round_number, floor_rate,
                                          otlp)
        log("bench: tracing: back to the stack's own environment")
        state = switch_to({})
    db.close()
    return TracingPrice([s.name for s in settings], runs, config.tracing_rounds, installed)

