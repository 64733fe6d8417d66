"""The broker frozen (SIGSTOP) under load: it neither answers nor closes connections. Orders must still be
accepted at full speed, since order-ms only writes its outbox, and be delivered once the broker thaws."""
from __future__ import annotations

from scripts.chaos import faults
from scripts.chaos.outbox import pending_outbox_rows
from scripts.chaos.scenario import Scenario, ScenarioResult

NAME = "broker frozen"
RATE = 60  # orders/s
BEFORE, AFTER = 5.0, 5.0  # seconds of load around the fault
P99_LIMIT_MS = 250


def run(scenario: Scenario) -> ScenarioResult:
    freeze = scenario.settings.seconds(20, 8)
    total = int(RATE * (BEFORE + freeze + AFTER))
    orders = scenario.place_orders(total, RATE)
    orders.wait_scheduled(int(RATE * BEFORE), timeout=BEFORE + 30)
    with faults.frozen(scenario.stack, "broker"):
        scenario.fault_begins()
        scenario.keep_fault(freeze)
        backlog = pending_outbox_rows(scenario.stack, "order_ms", "order_outbox")
        scenario.fault_ends()
    scenario.notes.append(f"order-ms's outbox held {backlog} unpublished events when the broker thawed")
    return scenario.finish(f"SIGSTOP the broker for {freeze:.0f} s, then SIGCONT, while {total} orders were placed "
                           f"at {RATE}/s", orders, p99_limit_ms=P99_LIMIT_MS)
