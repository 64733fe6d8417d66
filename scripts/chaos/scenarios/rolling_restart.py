"""A rolling restart under load: each instance of order-ms and delivery-ms in turn gets SIGTERM (gunicorn
finishes what it has read) and the supervisor brings it back before the next goes. nginx sends what meets a
closed instance to the other one, so no request may fail."""
from __future__ import annotations

import signal

from scripts.chaos import faults
from scripts.chaos.scenario import Scenario, ScenarioResult

NAME = "rolling restart"
ORDER_RATE = 40  # orders/s
READ_RATE = 20  # pairs of reads/s (deliveries from delivery-ms, orders from order-ms)
WARM_UP, SETTLE = 3.0, 2.0  # seconds of load before the first restart and after each instance is back
MAX_SECONDS = 300  # the loads' bound; they are stopped once the last instance is back


def run(scenario: Scenario) -> ScenarioResult:
    stack = scenario.stack
    instances = list(stack.instance_urls())
    orders = scenario.place_orders(ORDER_RATE * MAX_SECONDS, ORDER_RATE)
    reads = scenario.read_lists(READ_RATE * MAX_SECONDS, READ_RATE)
    orders.wait_scheduled(int(ORDER_RATE * WARM_UP), timeout=WARM_UP + 30)
    scenario.fault_begins()
    back_after = {}
    for name in instances:
        pid = faults.send(stack, name, signal.SIGTERM)
        scenario.restarted_by_fault(name)
        back_after[name] = round(stack.wait_restarted(name, pid, timeout=60), 1)
        # Let the instance that is back take traffic before the next one goes (a Deployment's minReadySeconds).
        orders.wait_scheduled(orders.scheduled + int(ORDER_RATE * SETTLE), timeout=SETTLE + 30)
    scenario.fault_ends()
    orders.stop()
    reads.stop()
    scenario.notes.append(f"seconds from SIGTERM until each instance answered again: {back_after}")
    return scenario.finish(f"SIGTERM {', '.join(instances)} one at a time, each back (supervisor) before the next, "
                           f"under {ORDER_RATE} orders/s and {READ_RATE * 2} reads/s", orders, reads)
