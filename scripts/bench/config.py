"""What one `make bench` run does, read once from BENCH_* variables (documented in docs/performance.md)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from scripts.stack.layout import Layout

ROOT = Path(__file__).resolve().parents[2]
# Every port of the bench stack is its dev port + 4000 by default: all stay below 32768, where the kernel's
# ephemeral ports (the source ports of outgoing connections) begin. Another profile and offset let several
# checkouts on one machine measure without taking each other's ports (or their stacks' databases).
PROFILE = os.environ.get("BENCH_PROFILE", "bench")
PORT_OFFSET = int(os.environ.get("BENCH_PORT_OFFSET", "4000"))
ECHO_PORT = 5999 + PORT_OFFSET
# The bench's OTLP/HTTP receiver (scripts/bench/otlp_receiver.py): the OTLP/HTTP port 4318 + the offset.
OTLP_RECEIVER_PORT = 4318 + PORT_OFFSET
# The sections BENCH_ONLY may name: the whole bench without it.
SECTIONS = ("tracing",)


@dataclass(frozen=True)
class BenchConfig:
    state_file: Path | None  # a running stack to measure instead of starting one
    seconds: int  # each wrk run
    connections: int  # wrk's connections, as in the figures
    idle_orders: int  # orders timed one at a time on an idle stack
    stream_orders: int  # orders timed from POST to their events on the customer's open stream
    cpu_rate: int  # orders per second of the fixed load the CPU per order is measured under
    backlog_events: int
    idle_seconds: int  # how long the idle stack's CPU is measured
    settle_seconds: int  # at most this long, wait for the 1-minute load average to fall below settle_load
    settle_load: float
    private_database: bool  # a MariaDB of the bench's own, so its CPU is the stack's alone
    only: str | None  # one section of SECTIONS instead of the whole bench
    tracing_rounds: int  # rounds of the tracing section, each measuring every tracing setting once

    @property
    def results_file(self) -> Path:
        return ROOT / "bench" / "results.md"

    @property
    def run_dir(self) -> Path:
        return ROOT / ".run" / PROFILE

    @property
    def private_database_dir(self) -> Path:
        """Where the stack keeps the bench profile's private MariaDB."""
        return Layout(PROFILE, PORT_OFFSET, db_prefix="").private_db_dir


def read_config() -> BenchConfig:
    state = os.environ.get("BENCH_STATE")
    return BenchConfig(
        state_file=Path(state) if state else None,
        seconds=int(os.environ.get("BENCH_SECONDS", "10")),
        connections=int(os.environ.get("BENCH_CONNECTIONS", "8")),
        idle_orders=int(os.environ.get("BENCH_ORDERS", "300")),
        stream_orders=int(os.environ.get("BENCH_STREAM_ORDERS", "100")),
        cpu_rate=int(os.environ.get("BENCH_CPU_RATE", "500")),
        backlog_events=int(os.environ.get("BENCH_BACKLOG", "50000")),
        idle_seconds=int(os.environ.get("BENCH_IDLE_SECONDS", "20")),
        settle_seconds=int(os.environ.get("BENCH_SETTLE_SECONDS", "600")),
        settle_load=float(os.environ.get("BENCH_SETTLE_LOAD", "1.0")),
        private_database=os.environ.get("BENCH_SHARED_DB") != "1",
        only=_section(os.environ.get("BENCH_ONLY") or None),
        tracing_rounds=int(os.environ.get("BENCH_TRACING_ROUNDS", "3")),
    )


def _section(name: str | None) -> str | None:
    if name is not None and name not in SECTIONS:
        raise SystemExit(f"BENCH_ONLY={name!r}: the sections are {', '.join(SECTIONS)} (unset: the whole bench)")
    return name
