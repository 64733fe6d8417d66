"""The bench's idle figures: the target judges the stack once its processes have done their first work; the window
just after the start (the broker's JVM still compiling) is reported beside it, never judged."""
from __future__ import annotations

from scripts.bench.load import WrkResult
from scripts.bench.pipeline import BacklogRates, KeepingUp, Latencies
from scripts.bench.streams import StreamCapacity, VisibleLatencies
from scripts.bench.targets import Measurements, check

IDLE_TARGET = "idle stack CPU (after its first orders)"
IDLE_AT_START = "idle stack CPU just after the start (the broker's JVM still compiling)"


def measurements(idle: dict[str, float], idle_at_start: dict[str, float]) -> Measurements:
    wrk_result = WrkResult(1000, 500.0, 5.0, 9.0, 0)
    latencies = Latencies([5.0, 8.0, 12.0])
    return Measurements(database_commits_1=2000, database_commits_8=6000, echo=[wrk_result], echo_threaded=wrk_result,
                        floor=wrk_result, post=wrk_result, post_keeping_up=KeepingUp(0, 0, 0.1),
                        idle_start_cpu_percent=idle_at_start, idle_cpu_percent=idle, idle_latency=latencies,
                        cpu_rate=500, cpu_ms_per_order={"order-ms": 1.0}, echo_cpu_ms=0.5, half_load=wrk_result,
                        half_load_latency=latencies, half_load_keeping_up=KeepingUp(0, 0, 0.1), get_orders=wrk_result,
                        get_deliveries=wrk_result, backlog=BacklogRates(12000, 12000, 6000),
                        peak_mib={"order-ms": 80}, visible=VisibleLatencies(latencies, latencies, 0),
                        streams=StreamCapacity(1000, 58, 79, True, 200.0))


def by_measurement(m: Measurements) -> dict:
    return {c.measurement: c for c in check(m)}


def test_the_target_judges_the_idle_stack_after_its_first_orders_and_reports_the_start():
    checks = by_measurement(measurements(idle={"broker": 2.5, "consumer-1": 0.3}, idle_at_start={"broker": 7.0}))
    assert checks[IDLE_TARGET].met is True and checks[IDLE_TARGET].result == "2.8 %"
    assert checks[IDLE_AT_START].met is None and checks[IDLE_AT_START].result == "7.0 %"


def test_an_idle_stack_over_the_target_after_its_first_orders_misses_it_however_quiet_its_start():
    checks = by_measurement(measurements(idle={"broker": 4.0, "consumer-1": 1.5}, idle_at_start={"broker": 1.0}))
    assert checks[IDLE_TARGET].met is False
