"""One made-up set of `make bench` measurements for the report's and the targets' unit tests; each test overrides
what it is about."""
from __future__ import annotations

from scripts.bench.load import WrkResult
from scripts.bench.pipeline import BacklogRates, KeepingUp, Latencies
from scripts.bench.streams import StreamCapacity, VisibleLatencies
from scripts.bench.targets import Measurements


def sample_measurements(**overrides) -> Measurements:
    wrk_result = WrkResult(1000, 500.0, 5.0, 9.0, 0)
    latencies = Latencies([5.0, 8.0, 12.0])
    fields = dict(database_commits_1=2000, database_commits_8=6000, echo=[wrk_result], echo_threaded=wrk_result,
                  floor=wrk_result, post=wrk_result, post_keeping_up=KeepingUp(0, 0, 0.1),
                  idle_start_cpu_percent={"order-ms": 1.0}, idle_cpu_percent={"order-ms": 1.0},
                  idle_latency=latencies, cpu_rate=500, cpu_ms_per_order={"order-ms": 1.0}, echo_cpu_ms=0.5,
                  half_load=wrk_result, half_load_latency=latencies, half_load_keeping_up=KeepingUp(0, 0, 0.1),
                  get_orders=wrk_result, get_deliveries=wrk_result, backlog=BacklogRates(12000, 12000, 6000),
                  peak_mib={"order-ms": 80}, visible=VisibleLatencies(latencies, latencies, 0),
                  streams=StreamCapacity(1000, 58, 79, True, 200.0))
    return Measurements(**{**fields, **overrides})
