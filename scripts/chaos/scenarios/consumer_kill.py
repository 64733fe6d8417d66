"""Consumer SIGKILL every few seconds while orders stream in: the supervisor restarts each killed consumer, the
group hands its partitions over, and the records it had not committed are read again and made no-ops."""
from __future__ import annotations

import signal

from scripts.chaos import faults
from scripts.chaos.scenario import Scenario, ScenarioResult

NAME = "consumer SIGKILL"
KILL_EVERY = (2.0, 4.0)  # seconds a consumer gets to work between kills


def run(scenario: Scenario) -> ScenarioResult:
    stack = scenario.stack
    total = scenario.settings.count(5000, 300)
    # Long enough for several kills even in a small run; 5,000 orders in 40 s is well under what order-ms takes.
    rate = total / scenario.settings.seconds(40, 10)
    consumers = stack.names("consumer-")
    orders = scenario.place_orders(total, rate)
    scenario.fault_begins()
    kills = 0
    while not orders.finished:
        victim = consumers[kills % len(consumers)]
        # Only a running consumer is killed: one in the supervisor's restart back-off is down already.
        while not orders.finished and not stack.processes()[victim].running:
            orders.wait(0.1)
        if orders.wait(scenario.rng.uniform(*KILL_EVERY)):
            break
        faults.send(stack, victim, signal.SIGKILL)
        scenario.restarted_by_fault(victim)
        kills += 1
    scenario.fault_ends()
    return scenario.finish(
        f"SIGKILL a consumer every {KILL_EVERY[0]:.0f}-{KILL_EVERY[1]:.0f} s of its running time ({kills} kills, "
        f"{' and '.join(consumers)} in turn) while {total} orders were placed at {rate:.0f}/s", orders)
