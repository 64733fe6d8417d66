"""The order relay SIGKILLed mid-publish. A backlog builds in the outbox while the relay is frozen. The first
kill is exact: the broker is frozen, the relay thaws and sends a batch, and it dies while it waits for the ack,
so the broker appends rows the relay never marked sent. Later kills come as soon as the relay has marked part
of what is pending. Whatever was published but not marked goes out again after the restart; the consumer turns
the second copy into a no-op."""
from __future__ import annotations

import signal
import time

from scripts.chaos import faults
from scripts.chaos.outbox import pending_outbox_rows
from scripts.chaos.scenario import Scenario, ScenarioResult
from scripts.chaos.sockets import unread_bytes

NAME = "relay SIGKILL"
RELAY = "order-relay"
RATE = 100  # orders/s
PROGRESS_TIMEOUT = 60.0
WARM_UP_ORDERS = 20
# A produce request of a batch of outbox rows; the relay's other requests (metadata, versions) are far smaller.
BATCH_BYTES = 4096


def _pending(scenario: Scenario) -> int:
    return pending_outbox_rows(scenario.stack, "order_ms", "order_outbox")


def _poll(condition, what: str, interval: float) -> None:
    deadline = time.monotonic() + PROGRESS_TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {PROGRESS_TIMEOUT:.0f} s")
        time.sleep(interval)


def _kill_while_waiting_for_the_ack(scenario: Scenario) -> tuple[int, int]:
    """Returns how many bytes of the relay's batch the frozen broker held when the relay died, and how many rows
    were unpublished then."""
    stack = scenario.stack
    broker_port = int(stack.kafka_servers.split(",")[0].rsplit(":", 1)[1])
    with faults.frozen(stack, "broker"):
        relay_pid = stack.pid(RELAY)
        faults.send(stack, RELAY, signal.SIGCONT)
        # The broker is frozen, so there is no hurry: the batch waits in its socket until the relay dies.
        _poll(
            lambda: unread_bytes(broker_port, relay_pid) > BATCH_BYTES, "the relay sending a batch to the broker", 0.05
        )
        unread, pending = unread_bytes(broker_port, relay_pid), _pending(scenario)
        faults.send(stack, RELAY, signal.SIGKILL)
    return unread, pending


def run(scenario: Scenario) -> ScenarioResult:
    stack = scenario.stack
    # The backlog must span several of the relay's 200-row batches, so that later kills can land between two.
    total = scenario.settings.count(2000, 800)
    wanted_kills = scenario.settings.count(4, 3)
    # A warm-up, all published before the relay is frozen: the relay then has a live Kafka producer (it makes
    # one at its first publish) and no request in flight, which would expire while it is stopped and make it
    # bootstrap again, against a broker that is frozen by then.
    warm_up = scenario.place_orders(WARM_UP_ORDERS, RATE, label="warm-up-")
    warm_up.wait(WARM_UP_ORDERS / RATE + 60)
    _poll(lambda: _pending(scenario) == 0, "the relay publishing the warm-up orders", 0.05)
    scenario.fault_begins()
    faults.send(stack, RELAY, signal.SIGSTOP)
    orders = scenario.place_orders(total, RATE)
    orders.wait_scheduled(int(total * 0.6), timeout=total / RATE + 30)
    backlog = _pending(scenario)
    old_pid = stack.pid(RELAY)
    in_flight, pending_at_first_kill = _kill_while_waiting_for_the_ack(scenario)
    scenario.restarted_by_fault(RELAY)
    stack.wait_restarted(RELAY, old_pid, timeout=60)
    left_at_kills = [pending_at_first_kill]
    while len(left_at_kills) < wanted_kills and (pending := _pending(scenario)) > 0:
        # As soon as it has visibly marked part of what is pending, it is in the middle of publishing the rest.
        _poll(lambda: _pending(scenario) < pending, "the relay marking rows sent", 0.005)
        left_at_kills.append(_pending(scenario))
        pid = faults.send(stack, RELAY, signal.SIGKILL)
        scenario.restarted_by_fault(RELAY)
        stack.wait_restarted(RELAY, pid, timeout=60)
    scenario.fault_ends()
    scenario.notes.append(f"outbox backlog {backlog} rows; the first kill came with {in_flight} bytes of the relay's "
                          f"batch unread by the frozen broker; unpublished rows at each kill: {left_at_kills}")
    return scenario.finish(f"SIGSTOP the order relay while {int(total * 0.6)} of {total} orders were placed at "
                           f"{RATE}/s, then SIGKILL it mid-publish {len(left_at_kills)} times (the first while it "
                           "waited for the frozen broker's ack)", [warm_up, orders])
