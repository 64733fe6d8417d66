"""Record batches from another producer: gzip, snappy, lz4 and zstd batches of orders and a corrupt batch, written
to `new_orders` by confluent-kafka (librdkafka, as a Java client or Kafka Connect would), interleaved with orders.
Every order is delivered once, the corrupt batch is noted on `new_orders.dlq` with its offsets, and afterwards the
consumer idles instead of spinning.

The broker validates batches when they are produced, so the corrupt batch is made between broker and consumer: the
consumer reads through a proxy that spoils the marker bytes of one record (its batch then fails its CRC check)."""
import os
import uuid

from confluent_kafka import Producer

from scripts.stack.kafka_access import confluent_login
from services.contracts import order_created
from services.delivery_ms.settings import load_settings
from tests.integration.delivery_ms.test_consumer_processes import JOIN_TIMEOUT, wait_for_deliveries
from tests.support.kafka_proxy import CorruptingKafkaProxy
from tests.support.polling import wait_for
from tests.support.topics import TopicReader, new_order

PARTITION = 2
FETCH = 1  # the Fetch request's API key
IDLE_FETCHES = 30
CODECS = ("gzip", "snappy", "lz4", "zstd")


def produce(kafka_servers: str, codec: str, records: list[tuple[bytes, bytes, list]]) -> list[int]:
    """`records` in one batch compressed with `codec` ("none" for none); their offsets."""
    offsets = []

    def delivered(error, message):
        assert error is None, error
        offsets.append(message.offset())

    producer = Producer({"bootstrap.servers": kafka_servers, "compression.type": codec, "linger.ms": 1000,
                         "acks": "all", **confluent_login(os.environ)})
    for key, value, headers in records:
        producer.produce(order_created.TOPIC, value=value, key=key, headers=headers, partition=PARTITION,
                         on_delivery=delivered)
    assert producer.flush(30) == 0
    return sorted(offsets)


def order_records(count: int) -> tuple[list[dict], list[tuple[bytes, bytes, list]]]:
    orders = [new_order() for _ in range(count)]
    return orders, [(record.key, record.value, record.headers)
                    for record in (order_created.build(order).record() for order in orders)]


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_every_codec_and_a_corrupt_batch_between_orders_never_stop_the_deliveries(consumers, kafka_servers):
    marker = f"CORRUPT-ME-{uuid.uuid4().hex}".encode()
    proxy = CorruptingKafkaProxy(kafka_servers, marker)
    try:
        consumer = consumers.start(KAFKA_BOOTSTRAP_SERVERS=proxy.address)
        placed = []
        for codec in CODECS:
            orders, records = order_records(20)
            offsets = produce(kafka_servers, codec, records)
            assert offsets == list(range(offsets[0], offsets[0] + 20))
            placed += orders
        corrupt = produce(kafka_servers, "none", [(b"corrupt-" + marker[-8:], b'{"marker":"' + marker + b'"}', []),
                                                  (b"corrupt-2", b"{}", [])])
        after, records = order_records(5)
        produce(kafka_servers, "lz4", records)
        placed += after

        counts = wait_for_deliveries(consumers, [order["order_id"] for order in placed], timeout=JOIN_TIMEOUT)
        assert set(counts.values()) == {1}
        assert proxy.corrupted >= 1, "the consumer never fetched the corrupt batch through the proxy"

        dlq = TopicReader(kafka_servers, order_created.DEAD_LETTER_TOPIC)
        try:
            notes = dlq.wait_for(lambda r: dict(r.headers).get("skipped_first_offset") == str(corrupt[0]).encode()
                                 and dict(r.headers).get("skipped_partition") == str(PARTITION).encode(),
                                 "the skip note of the corrupt batch")
        finally:
            dlq.close()
        headers = dict(notes[0].headers)
        assert headers["skipped_last_offset"] == str(corrupt[-1]).encode()
        assert b"CorruptRecordError" in headers["error"] and headers["skipped_topic"] == b"new_orders"
        assert consumer.logged("skipped an unreadable record batch", first_offset=corrupt[0], last_offset=corrupt[-1])

        # Idle afterwards: the loop keeps fetching, and each idle fetch (which the broker holds up to
        # KAFKA_FETCH_MAX_WAIT_MS) costs the consumer a few ms of CPU. A consumer spinning inside poll() sends no
        # fetch at all and burns a whole core.
        wait_for(lambda: consumer.metric("consumer_lag", topic="new_orders", partition=str(PARTITION)) == 0,
                 "the lag back to 0")
        cpu_before, fetches_before = cpu_seconds(consumer.process.pid), proxy.requests[FETCH]
        wait_for(lambda: proxy.requests[FETCH] >= fetches_before + IDLE_FETCHES, f"{IDLE_FETCHES} idle fetches", 60)
        per_fetch = (cpu_seconds(consumer.process.pid) - cpu_before) / (proxy.requests[FETCH] - fetches_before)
        assert per_fetch < load_settings().kafka_fetch_max_wait_ms / 1000 / 2, (
            f"{per_fetch * 1000:.0f} ms CPU per fetch"
        )
        assert consumer.metric("consumer_stalled_seconds") < 5
        assert consumer.alive and not consumer.logged("retrying")
    finally:
        proxy.close()

