"""The broker SIGKILLed under load and restarted by the supervisor on its log directory: orders are still accepted
(order-ms only writes its outbox), the relays and consumers reconnect, and every record the broker acknowledged
before it died is still there afterwards (each partition's end offset goes on from where it was). POST latency
during the fault is reported, not promised: the broker's JVM starting takes both cores of a small machine."""
from __future__ import annotations

import signal
import time

from scripts.chaos import faults
from scripts.chaos.outbox import pending_outbox_rows
from scripts.chaos.scenario import Scenario, ScenarioResult

NAME = "broker SIGKILL"
RATE = 60  # orders/s
BEFORE = 5.0  # seconds of load before the kill
# The load goes on this long after the kill: the broker's restart (a JVM start, 10 to 25 s here) and some more.
AFTER = 30.0
RESTART_TIMEOUT = 180.0


def run(scenario: Scenario) -> ScenarioResult:
    stack = scenario.stack
    after = scenario.settings.seconds(AFTER, 20)
    total = int(RATE * (BEFORE + after))
    orders = scenario.place_orders(total, RATE)
    orders.wait_scheduled(int(RATE * BEFORE), timeout=BEFORE + 30)
    tally = scenario.run.new_orders
    if not tally.catch_up():
        scenario.failures.append("new_orders could not be read to its end before the kill")
    acknowledged = tally.ends()
    killed = faults.send(stack, "broker", signal.SIGKILL)
    scenario.restarted_by_fault("broker")
    scenario.fault_begins()
    deadline = time.monotonic() + RESTART_TIMEOUT
    # The supervisor reports the broker running once it answers again with its users, ACLs and topics set up.
    while not (stack.pid("broker") != killed and stack.processes()["broker"].running):
        if time.monotonic() > deadline:
            scenario.failures.append(f"the broker was not back {RESTART_TIMEOUT:.0f} s after its SIGKILL")
            break
        orders.wait(0.2)
    scenario.fault_ends()
    down = scenario.fault_window.end - scenario.fault_window.start
    backlog = pending_outbox_rows(stack, "order_ms", "order_outbox")
    scenario.notes.append(f"the broker was back {down:.1f} s after its SIGKILL; order-ms's outbox then held "
                          f"{backlog} unpublished events")
    if tally.catch_up():
        shrunk = {partition: f"{end} -> {tally.ends()[partition]}" for partition, end in acknowledged.items()
                  if tally.ends()[partition] < end}
        if shrunk:
            scenario.failures.append(f"the restarted broker lost acknowledged records of new_orders (end offset by "
                                     f"partition: {shrunk})")
    return scenario.finish(f"SIGKILL the broker {BEFORE:.0f} s into {total} orders placed at {RATE}/s; the supervisor "
                           "restarts it on its log directory", orders)
