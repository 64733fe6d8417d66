"""The private MariaDB crashes (SIGKILL) and stays down for a while under load: the supervisor is told to hold
it down, then brings it back. POSTs meanwhile get a quick 503 with Retry-After; a client that retries with its
Idempotency-Key gets its order accepted once, after MariaDB is back, and every accepted order is delivered."""
from __future__ import annotations

import signal

from scripts.chaos import faults
from scripts.chaos.latency import Window
from scripts.chaos.scenario import Scenario, ScenarioResult

NAME = "MariaDB down"
RATE = 50  # orders/s
BEFORE, AFTER = 4.0, 6.0  # seconds of load around the fault
# Requests may fail while MariaDB is down and for this long after it answers again (pools reconnecting).
RECONNECT_GRACE = 2.0


def run(scenario: Scenario) -> ScenarioResult:
    down = scenario.settings.seconds(10, 5)
    total = int(RATE * (BEFORE + down + AFTER))
    orders = scenario.place_orders(total, RATE)
    orders.wait_scheduled(int(RATE * BEFORE), timeout=BEFORE + 30)
    scenario.fault_begins()
    # SIGKILL rather than a clean stop: what a 201 promised must survive a crash, not only a shutdown.
    faults.hold_down(scenario.stack, "mariadb", signal.SIGKILL)
    scenario.restarted_by_fault("mariadb")
    try:
        scenario.keep_fault(down)
    finally:
        faults.release(scenario.stack, "mariadb")
    scenario.fault_ends()
    window = scenario.fault_window
    return scenario.finish(f"SIGKILL the private mariadbd and hold it down for {down:.0f} s (it answered again "
                           f"{window.end - window.start:.1f} s after the kill), while {total} orders were placed at "
                           f"{RATE}/s", orders, failures_allowed=Window(window.start, window.end + RECONNECT_GRACE))
