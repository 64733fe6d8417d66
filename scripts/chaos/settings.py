"""How big and how long a chaos run is, and where its stack and results live, read once from the environment.

CHAOS_SCALE shrinks every count and fault duration (1 is the full run of `make chaos`; `make test` uses a
small one); each has a floor so that even a tiny run still exercises its fault. CHAOS_LATENCY_LIMITS=0 reports
latency promises without judging them: `make test` checks that nothing is lost, duplicated or failed, while
speed is for runs on a quiet machine (`make chaos`, `make bench`)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ChaosSettings:
    scale: float
    # The stack profile the run starts for itself; its ports are the usual ones plus `port_offset`.
    profile: str
    port_offset: int
    results_dir: Path
    # How long an accepted order may take to become a delivery once its scenario's fault is over.
    delivery_wait: float
    # Whether a POST p99 over a scenario's promise fails the scenario.
    latency_limits: bool

    def count(self, full: int, floor: int) -> int:
        return max(floor, round(full * self.scale))

    def seconds(self, full: float, floor: float) -> float:
        return max(floor, full * self.scale)


def load_settings() -> ChaosSettings:
    results = Path(os.environ.get("TEST_RESULTS", ROOT / "test-results")) / "chaos"
    return ChaosSettings(
        scale=float(os.environ.get("CHAOS_SCALE", "1")),
        profile=os.environ.get("CHAOS_PROFILE", "chaos"),
        # Below the kernel's ephemeral range (32768+), and clear of dev (0), test (+10000) and bench (+4000).
        port_offset=int(os.environ.get("CHAOS_PORT_OFFSET", "15000")),
        results_dir=Path(os.environ.get("CHAOS_RESULTS", results)),
        delivery_wait=float(os.environ.get("CHAOS_DELIVERY_WAIT", "90")),
        latency_limits=os.environ.get("CHAOS_LATENCY_LIMITS", "1") != "0",
    )
