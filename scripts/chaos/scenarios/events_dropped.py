"""Events dropped between the order relay and the broker. The relay is held down while orders are placed; then the
chaos tool marks their outbox rows sent in the database without sending them (what a relay that loses events after
marking them amounts to, or a broker that loses what it acknowledged), and the relay comes back with nothing to
publish. Only the reconciler in the relay's process can still make those orders deliveries: once an order has had
no delivery event for ORDER_OVERDUE_SECONDS it publishes its OrderCreated again. Each must become exactly one
delivery.

The chaos stack is its own instance and sets ORDER_OVERDUE_SECONDS=10 and ORDER_OVERDUE_CHECK_SECONDS=2 for itself
(scripts/chaos/stack.py), so this takes seconds rather than minutes; the product's defaults are 60 and 15."""
from __future__ import annotations

import signal

import requests
from prometheus_client.parser import text_string_to_metric_families

from scripts.chaos import faults
from scripts.chaos.outbox import drop_pending_outbox_rows
from scripts.chaos.scenario import Scenario, ScenarioResult

NAME = "events dropped"
RELAY = "order-relay"
RATE = 50  # orders/s


def run(scenario: Scenario) -> ScenarioResult:
    stack = scenario.stack
    total = scenario.settings.count(1000, 100)
    scenario.fault_begins()
    # A clean stop: what is at stake here is what the relay marks, not how it dies.
    faults.hold_down(stack, RELAY, signal.SIGTERM)
    scenario.restarted_by_fault(RELAY)
    try:
        orders = scenario.place_orders(total, RATE)
        if not orders.wait(total / RATE + 60):
            scenario.failures.append("the load generator did not finish while the relay was held down")
        dropped = set(drop_pending_outbox_rows(stack, "order_ms", "order_outbox"))
    finally:
        faults.release(stack, RELAY)
    scenario.fault_ends()
    accepted = [outcome.order_id for outcome in orders.results if outcome.accepted]
    not_dropped = [order_id for order_id in accepted if order_id not in dropped]
    if not_dropped:
        scenario.failures.append(f"{len(not_dropped)} accepted orders had no waiting outbox row to drop (the fault "
                                 f"did not happen to them), e.g. {not_dropped[:5]}")
    result = scenario.finish(f"hold the order relay down while {total} orders were placed at {RATE}/s, mark their "
                             f"{len(dropped)} outbox rows sent without sending them, release the relay", orders)
    # finish() has read new_orders to its end: every delivered order's event came from the reconciler.
    republished = sum(1 for order_id in accepted if scenario.run.new_orders.counts[order_id.encode()] > 0)
    scenario.notes.append(f"{republished} of the {len(accepted)} dropped orders were published again by the "
                          f"reconciler (orders_republished_total of the relay since its release: "
                          f"{_republished_total(stack)})")
    return result


def _republished_total(stack) -> str:
    try:
        text = requests.get(stack.state.metrics[RELAY], timeout=5).text
    except requests.RequestException as exc:
        return f"unknown ({type(exc).__name__})"
    return str(sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
                   if sample.name == "orders_republished_total"))
