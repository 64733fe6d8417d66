"""Two consumers and a rebalance mid-stream: a third of the way through, consumer-2 is stopped (SIGTERM, it
leaves the group) and held down, so consumer-1 takes every partition; two thirds through it comes back and the
partitions are shared again. Every order is still delivered exactly once."""
from __future__ import annotations

import signal

from scripts.chaos import faults
from scripts.chaos.evidence import partition_assignments
from scripts.chaos.scenario import Scenario, ScenarioResult
from services.contracts import order_created

NAME = "consumer rebalance"
STOPPED = "consumer-2"


def run(scenario: Scenario) -> ScenarioResult:
    total = scenario.settings.count(2000, 300)
    # Each third must outlast a rebalance (joining takes half the 6 s session timeout), even in a small run.
    seconds = scenario.settings.seconds(30, 15)
    orders = scenario.place_orders(total, total / seconds)
    orders.wait_scheduled(total // 3, timeout=seconds + 30)
    scenario.fault_begins()
    faults.hold_down(scenario.stack, STOPPED, signal.SIGTERM)
    scenario.restarted_by_fault(STOPPED)
    try:
        orders.wait_scheduled(2 * total // 3, timeout=seconds + 30)
    finally:
        faults.release(scenario.stack, STOPPED)
    scenario.fault_ends()
    result = scenario.finish(f"SIGTERM {STOPPED} a third of the way through {total} orders in {seconds:.0f} s, hold it "
                             "down, release it two thirds through", orders)
    assignments = partition_assignments(scenario.log_lines, order_created.TOPIC)
    result.notes.append("partition assignments seen: " + "; ".join(
        f"{moment[11:19]} {consumer} {partitions}" for moment, consumer, partitions in assignments))
    if not any(consumer != STOPPED and len(partitions) == 3 for _, consumer, partitions in assignments):
        result.failures.append("no rebalance gave the remaining consumer every partition while "
                               f"{STOPPED} was down")
    return result
