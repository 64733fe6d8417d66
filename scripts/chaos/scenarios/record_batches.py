"""Record batches from another producer under load: a batch of orders in each codec Kafka defines (gzip, snappy,
lz4, zstd: librdkafka writes them as a Java client, Kafka Connect or a broker-side compression.type would) and a
corrupt batch, interleaved with orders placed through the API. Every order must be delivered, those in the
compressed batches too, and the corrupt batch must be stepped over with a skip note on `new_orders.dlq`.

The broker checks every batch when it is produced, so the corrupt batch is made the way it happens to a real log:
with the consumers held down, a batch is produced, the broker is stopped cleanly, one byte run of that batch is
flipped in its segment file (its CRC no longer matches) and the broker started again on the same data."""
from __future__ import annotations

import signal
import uuid

from confluent_kafka import Producer

from scripts.chaos import faults
from scripts.chaos.scenario import Scenario, ScenarioResult
from scripts.stack.kafka_access import confluent_login
from services.contracts import order_created

NAME = "record batches"
RATE = 50  # orders/s
CODECS = ("gzip", "snappy", "lz4", "zstd")
BATCH_ORDERS = 20
CORRUPT_PARTITION = 0
BROKER_NAMES = ("kafka", "broker")


def produce_batch(scenario: Scenario, codec: str, records: list[tuple[bytes, bytes, list]],
                  partition: int | None = None) -> list[tuple[int, int]]:
    """`records` as one batch compressed with `codec` ("none": none); (partition, offset) of each."""
    placed, errors = [], []

    def delivered(error, message):
        if error is not None:
            errors.append(str(error))
        else:
            placed.append((message.partition(), message.offset()))

    producer = Producer({"bootstrap.servers": scenario.stack.kafka_servers, "compression.type": codec, "acks": "all",
                         "linger.ms": 1000, "enable.idempotence": False, **confluent_login(scenario.stack.kafka_login)})
    for key, value, headers in records:
        producer.produce(order_created.TOPIC, value=value, key=key, headers=headers, on_delivery=delivered,
                         **({"partition": partition} if partition is not None else {}))
    left = producer.flush(30)
    if left or errors:
        raise RuntimeError(f"the {codec} batch was not acknowledged: {left} left, errors {errors[:3]}")
    return sorted(placed)


def order_batch(codec: str) -> tuple[list[str], list[tuple[bytes, bytes, list]]]:
    orders = [{"user_id": f"codec-{codec}", "order_id": str(uuid.uuid4()), "coffee_name": codec, "coffee_price": 100,
               "coffee_qty": 1, "ordered_at": "2026-11-28T15:04:05.123456Z"} for _ in range(BATCH_ORDERS)]
    records = [order_created.build(order).record() for order in orders]
    return [order["order_id"] for order in orders], [(r.key, r.value, r.headers) for r in records]


def flip_in_segments(scenario: Scenario, partition: int, marker: bytes) -> int:
    """Spoil `marker` in the partition's segment files (same length, so only the CRC breaks); how many changed."""
    changed = 0
    for segment in scenario.stack.layout.run_dir.rglob(f"{order_created.TOPIC}-{partition}/*.log"):
        data = segment.read_bytes()
        at = data.find(marker)
        if at < 0:
            continue
        with open(segment, "r+b") as handle:
            handle.seek(at)
            handle.write(bytes(b ^ 0x20 for b in marker))
        changed += 1
    return changed


def corrupt_batch(scenario: Scenario) -> tuple[list[tuple[int, int]], int]:
    """Produce a batch no client can decode; its (partition, offset)s and how many segment files were spoiled."""
    stack = scenario.stack
    broker = next(name for name in BROKER_NAMES if name in stack.processes())
    consumers = stack.names("consumer")
    marker = f"CORRUPT-{uuid.uuid4().hex}".encode()
    # Held down, the consumers cannot read the batch before it is spoiled; SIGTERM: they commit and leave.
    for name in consumers:
        faults.hold_down(stack, name, signal.SIGTERM)
        scenario.restarted_by_fault(name)
    try:
        placed = produce_batch(scenario, "none", [(b"corrupt-" + marker, b'{"marker":"' + marker + b'"}', []),
                                                             (b"corrupt-2-" + marker, b"{}", [])], CORRUPT_PARTITION)
        # A clean stop flushes the segment and marks the log clean, so the broker does not re-check it on start.
        faults.hold_down(stack, broker, signal.SIGTERM)
        scenario.restarted_by_fault(broker)
        try:
            changed = flip_in_segments(scenario, CORRUPT_PARTITION, marker)
        finally:
            faults.release(stack, broker)
    finally:
        for name in consumers:
            faults.release(stack, name)
    return placed, changed


def run(scenario: Scenario) -> ScenarioResult:
    total = int(RATE * scenario.settings.seconds(20, 10))
    orders = scenario.place_orders(total, RATE)
    orders.wait_scheduled(total // 5, timeout=60)
    scenario.fault_begins()
    codec_orders = {}
    for codec in CODECS:
        order_ids, records = order_batch(codec)
        produce_batch(scenario, codec, records)
        codec_orders[codec] = order_ids
    corrupt, changed = corrupt_batch(scenario)
    scenario.fault_ends()
    result = scenario.finish(
        f"a batch of {BATCH_ORDERS} orders in each of {', '.join(CODECS)} produced by librdkafka, then a 2-record "
        f"batch spoiled in its segment file while the broker was stopped, interleaved with {total} orders at {RATE}/s",
        orders)

    undelivered = {codec: len(ids) - scenario.stack.delivery_count(ids) for codec, ids in codec_orders.items()}
    if any(undelivered.values()):
        result.failures.append(f"orders of compressed batches without a delivery, by codec: {undelivered}")
    if not changed:
        result.failures.append("the corrupt batch's bytes were not found in any segment file of "
                               f"{order_created.TOPIC}-{CORRUPT_PARTITION} under {scenario.stack.layout.run_dir}")
    offsets = [offset for _partition, offset in corrupt]
    scenario.run.dead_letters.catch_up()
    notes = [note for note in scenario.run.dead_letters.skip_notes
             if note.get("skipped_partition") == str(CORRUPT_PARTITION)
             and int(note.get("skipped_first_offset", -1)) <= offsets[0]
             and int(note.get("skipped_last_offset", -1)) >= offsets[-1]]
    if changed and not notes:
        result.failures.append(f"no skip note on {order_created.DEAD_LETTER_TOPIC} covers the corrupt batch "
                               f"({order_created.TOPIC}[{CORRUPT_PARTITION}] offsets {offsets[0]}-{offsets[-1]})")
    result.notes.append(f"{sum(len(ids) for ids in codec_orders.values()) - sum(undelivered.values())} of "
                        f"{sum(len(ids) for ids in codec_orders.values())} orders of compressed batches delivered; "
                        f"skip notes of the corrupt batch: {[n.get('error', '')[:160] for n in notes]}")
    return result
