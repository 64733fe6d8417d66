"""A poison flood: malformed records produced straight to `new_orders`, interleaved with real orders placed
through the API. Every order must be delivered, every poison record must reach `new_orders.dlq`, and none
may become a delivery."""
from __future__ import annotations

import uuid
from collections import Counter

from scripts.chaos.poison import PoisonProducer, poison_records
from scripts.chaos.scenario import EXAMPLES, Scenario, ScenarioResult

NAME = "poison flood"
RATE = 50  # orders/s; the poison is spread over the same time


def _missing_dead_letters(scenario: Scenario, keys: set[bytes]) -> set[bytes]:
    """The keys not in the DLQ. No waiting needed: finish() waited until the consumers committed every record (or
    gave up on them), and a consumer commits a record only after the broker acknowledged its dead letter."""
    scenario.run.dead_letters.catch_up()
    return {key for key in keys if scenario.run.dead_letters.counts[key] == 0}


def run(scenario: Scenario) -> ScenarioResult:
    total_orders = scenario.settings.count(1000, 200)
    poison = poison_records(uuid.uuid4().hex[:8], scenario.settings.count(1000, 200), scenario.settings.count(6, 3))
    producer = PoisonProducer(scenario.stack.kafka_servers, scenario.stack.kafka_login)
    orders = scenario.place_orders(total_orders, RATE)
    scenario.fault_begins()
    try:
        producer.send_paced(poison, total_orders / RATE)
    finally:
        producer.close()
    scenario.fault_ends()
    kinds = Counter(record.kind for record in poison)
    result = scenario.finish(f"{len(poison)} poison records produced to new_orders ({dict(kinds)}) interleaved with "
                             f"{total_orders} orders at {RATE}/s", orders)

    expected = {record.key for record in poison if record.key not in producer.refused}
    missing = _missing_dead_letters(scenario, expected)
    by_key = {record.key: record for record in poison}
    if producer.refused:
        result.notes.append(f"the broker refused {len(producer.refused)} poison records: "
                            f"{Counter(by_key[key].kind for key in producer.refused)}")
    if missing:
        result.failures.append(
            f"{len(missing)} of {len(expected)} poison records never reached new_orders.dlq, by kind: "
            f"{dict(Counter(by_key[key].kind for key in missing))}")
    dead_lettered_twice = sum(1 for key in expected if scenario.run.dead_letters.counts[key] > 1)
    if dead_lettered_twice:
        result.notes.append(f"{dead_lettered_twice} poison records were dead-lettered more than once")
    became_deliveries = scenario.stack.delivery_count([r.order_id for r in poison if r.order_id])
    if became_deliveries:
        result.failures.append(f"{became_deliveries} poison records became deliveries")
    result.notes.append(f"{len(expected) - len(missing)} of {len(expected)} poison records are in new_orders.dlq")
    result.details.update(poison_missing=[key.decode("utf-8", "replace") for key in sorted(missing)[:200]],
                          poison_errors=dict(Counter(scenario.run.dead_letters.errors.get(key, "")[:80]
                                                     for key in expected - missing).most_common(EXAMPLES * 4)))
    return result
