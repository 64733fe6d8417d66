"""The bench's idle figures: the target judges the stack once its processes have done their first work; the window
just after the start (the broker's JVM still compiling) is reported beside it, never judged."""
from __future__ import annotations

from scripts.bench.targets import Measurements, check
from tests.unit.bench.sample import sample_measurements

IDLE_TARGET = "idle stack CPU (after its first orders)"
IDLE_AT_START = "idle stack CPU just after the start (the broker's JVM still compiling)"


def by_measurement(m: Measurements) -> dict:
    return {c.measurement: c for c in check(m)}


def test_the_target_judges_the_idle_stack_after_its_first_orders_and_reports_the_start():
    checks = by_measurement(sample_measurements(idle_cpu_percent={"broker": 2.5, "consumer-1": 0.3},
                                                idle_start_cpu_percent={"broker": 7.0}))
    assert checks[IDLE_TARGET].met is True and checks[IDLE_TARGET].result == "2.8 %"
    assert checks[IDLE_AT_START].met is None and checks[IDLE_AT_START].result == "7.0 %"


def test_an_idle_stack_over_the_target_after_its_first_orders_misses_it_however_quiet_its_start():
    checks = by_measurement(sample_measurements(idle_cpu_percent={"broker": 4.0, "consumer-1": 1.5},
                                                idle_start_cpu_percent={"broker": 1.0}))
    assert checks[IDLE_TARGET].met is False
