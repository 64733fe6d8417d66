"""Latency and failure figures of the chaos run, within and around a fault's window."""
from scripts.chaos.latency import Window, failed, failure_summary, latency_summary, p99_ms, percentile
from scripts.chaos.load import Attempt


def attempt(started: float, ms: float, status: int | None = 201) -> Attempt:
    return Attempt("POST order", started, ms / 1000, status, "" if status else "ConnectionError: refused")


def test_percentile_of_nothing_is_none_and_of_a_hundred_values_the_99th():
    assert percentile([], 0.99) is None
    assert percentile([float(v) for v in range(1, 101)], 0.99) == 99.0


def test_p99_counts_only_attempts_that_started_inside_the_window():
    attempts = [attempt(1.0, 10), attempt(5.0, 900), attempt(9.0, 10)]
    assert p99_ms(attempts, Window(4.0, 6.0)) == 900
    assert p99_ms(attempts, Window(8.0, 10.0)) == 10


def test_failures_inside_and_outside_a_window():
    attempts = [attempt(1.0, 5, 503), attempt(5.0, 5, 503), attempt(5.5, 5, None), attempt(7.0, 5)]
    window = Window(4.0, 6.0)
    assert len(failed(attempts)) == 3
    assert len(failed(attempts, window)) == 2
    assert [a.started for a in failed(attempts, window, outside=True)] == [1.0]
    assert failure_summary(attempts) == {"POST order 503": 2, "POST order ConnectionError": 1}


def test_a_request_in_flight_when_the_fault_began_failed_inside_it():
    in_flight = attempt(3.9, 200, 503)  # started 0.1 s before the window, answered 0.1 s into it
    assert failed([in_flight], Window(4.0, 6.0)) == [in_flight]
    assert failed([in_flight], Window(4.0, 6.0), outside=True) == []


def test_latency_before_during_and_after_the_fault():
    summary = latency_summary([attempt(1.0, 10), attempt(5.0, 300), attempt(9.0, 20)], Window(4.0, 6.0))
    assert {phase: (s["count"], s["p99"]) for phase, s in summary.items()} == {
        "before": (1, 10), "during": (1, 300), "after": (1, 20)}
