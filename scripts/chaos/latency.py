"""Latency and failure figures from recorded HTTP attempts, within a time window (e.g. while a fault lasted)."""
from __future__ import annotations

from dataclasses import dataclass

from scripts.chaos.load import Attempt


@dataclass(frozen=True)
class Window:
    """[start, end] in time.monotonic() seconds."""

    start: float
    end: float

    def holds(self, moment: float) -> bool:
        return self.start <= moment <= self.end

    def overlaps(self, attempt: Attempt) -> bool:
        """The attempt was in flight at some moment of the window (e.g. it started just before a crash)."""
        return attempt.started <= self.end and attempt.started + attempt.seconds >= self.start


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def p99_ms(attempts: list[Attempt], window: Window | None = None) -> float | None:
    """p99 of the attempts that started inside `window` (all of them without one), in milliseconds."""
    chosen = [a.seconds * 1000 for a in attempts if window is None or window.holds(a.started)]
    return percentile(chosen, 0.99)


def latency_summary(attempts: list[Attempt], window: Window) -> dict[str, dict]:
    """p50 and p99 (ms) and count of the attempts that started before, during and after `window`."""
    phases = {"before": lambda t: t < window.start, "during": window.holds, "after": lambda t: t > window.end}
    summary = {}
    for phase, inside in phases.items():
        seconds = [a.seconds * 1000 for a in attempts if inside(a.started)]
        summary[phase] = {"count": len(seconds), "p50": percentile(seconds, 0.5), "p99": percentile(seconds, 0.99)}
    return summary


def describe(summary: dict[str, dict]) -> str:
    """'before 12/40 ms (n=300), during ...' for a report line."""
    def ms(value):
        return "-" if value is None else f"{value:.0f}"
    return ", ".join(f"{phase} {ms(s['p50'])}/{ms(s['p99'])} ms (n={s['count']})" for phase, s in summary.items())


def failed(attempts: list[Attempt], window: Window | None = None, outside: bool = False) -> list[Attempt]:
    """Attempts without a 2xx answer: those in flight during `window`, or with outside=True all the others."""
    return [a for a in attempts if not a.ok and (window is None or window.overlaps(a) != outside)]


def failure_summary(attempts: list[Attempt]) -> dict[str, int]:
    """How many failed attempts of each kind and answer, e.g. {"POST order 503": 12}."""
    summary: dict[str, int] = {}
    for attempt in attempts:
        if not attempt.ok:
            label = f"{attempt.kind} {attempt.status or attempt.error.split(':')[0]}"
            summary[label] = summary.get(label, 0) + 1
    return summary
