"""The consumer as a real process: redelivery, poison messages, SIGKILL, SIGTERM, two at once, database outage.

Each test runs its own consumers with their own group and throwaway database and produces straight to
`new_orders`, so the stack's consumer (reading the same topic) cannot make these assertions pass."""
import json
import signal

import pytest

from services.contracts import order_created
from services.contracts.envelope import HEADER_ERROR
from tests.support.broker import private_broker
from tests.support.polling import wait_for
from tests.support.tcp_proxy import TcpProxy
from tests.support.topics import OrderProducer, TopicReader, committed_offsets, new_order

# Joining a group, and rejoining after a member died without leaving, takes a few session timeouts.
JOIN_TIMEOUT = 60


@pytest.fixture
def producer(kafka_servers):
    order_producer = OrderProducer(kafka_servers)
    yield order_producer
    order_producer.close()


def wait_for_deliveries(consumers, order_ids, timeout=JOIN_TIMEOUT):
    """{order_id: number of deliveries} once every order has one."""

    def all_there():
        counts = consumers.delivery_counts(order_ids)
        return counts if len(counts) == len(order_ids) else None

    return wait_for(all_there, f"{len(order_ids)} deliveries", timeout)


def test_an_order_becomes_one_confirmed_delivery_with_the_same_order(consumers, producer):
    consumer = consumers.start()
    order = new_order()
    producer.send_orders([order])
    wait_for_deliveries(consumers, [order["order_id"]])
    with consumers.connect() as conn:
        cursor = conn.cursor(dictionary=True)
        cursor.execute("SELECT * FROM delivery_status WHERE order_id = ?", (order["order_id"],))
        row = cursor.fetchone()
    assert row["status"] == "CONFIRMED" and row["user_id"] == order["user_id"]
    assert json.loads(row["order_json"]) == order
    assert len(row["delivery_id"]) == 36 and row["created_at"] == row["updated_at"]
    assert wait_for(lambda: (consumer.metric("consumer_messages_total", topic="new_orders",
                                             result="created") or 0) >= 1, "created metric")


def test_the_same_event_delivered_twice_makes_one_delivery(consumers, producer):
    consumers.start()
    message = order_created.build(new_order())
    producer.send_message(message, partition=0)
    producer.send_message(message, partition=0)
    # Records of one partition are handled in order: once the later order is there, both copies were seen.
    later = new_order()
    producer.send_orders([later], partition=0)
    counts = wait_for_deliveries(consumers, [message.key, later["order_id"]])
    assert counts[message.key] == 1


def test_a_poison_message_goes_to_the_dlq_and_the_consumer_keeps_going(consumers, producer, kafka_servers):
    consumer = consumers.start()
    key = f"poison-{consumers.group}".encode()
    original_headers = [("event_id", b"e-poison"), ("event_type", b"OrderCreated")]
    producer.send_raw(key, b"this is not json", original_headers, partition=1)
    good = new_order()
    producer.send_orders([good], partition=1)
    wait_for_deliveries(consumers, [good["order_id"]])

    dlq = TopicReader(kafka_servers, order_created.DEAD_LETTER_TOPIC)
    try:
        dead = dlq.wait_for(lambda r: r.key == key, "the poison message on the DLQ")[0]
    finally:
        dlq.close()
    assert dead.value == b"this is not json"
    assert dead.headers[:2] == original_headers
    assert "not JSON" in dict(dead.headers)[HEADER_ERROR].decode()
    # Our consumer (not only the stack's) dead-lettered it, logged why, and is still running. It
    # dead-letters after its database commit, so the good delivery can be visible a moment before.
    wait_for(lambda: consumer.logged("dead-lettered", key=key.decode()), "our consumer's dead-letter log entry")
    assert consumer.alive


def test_sigkill_in_the_middle_of_a_stream_then_restart_gives_one_delivery_per_order(consumers, producer):
    first = consumers.start()
    orders = [new_order() for _ in range(600)]
    ids = [order["order_id"] for order in orders]
    producer.send_orders(orders[:300])
    wait_for(lambda: consumers.delivery_counts(ids[:300]), "the first deliveries", JOIN_TIMEOUT)
    first.signal(signal.SIGKILL)
    assert first.wait() == -signal.SIGKILL
    producer.send_orders(orders[300:])
    consumers.start()
    counts = wait_for_deliveries(consumers, ids, timeout=120)
    assert set(counts.values()) == {1}


def test_two_consumers_share_the_partitions_without_loss_or_duplicates(consumers, producer):
    one, two = consumers.start(), consumers.start()
    def orders_of(process):
        return process.assigned_partitions(order_created.TOPIC)

    wait_for(lambda: orders_of(one) and orders_of(two) and orders_of(one) | orders_of(two) == {0, 1, 2}
             and not orders_of(one) & orders_of(two),
             "the two consumers to split the three partitions", JOIN_TIMEOUT)
    orders = [new_order() for _ in range(300)]
    producer.send_orders(orders)
    counts = wait_for_deliveries(consumers, [order["order_id"] for order in orders])
    assert set(counts.values()) == {1}
    for process in (one, two):
        assert process.metric("consumer_messages_total", topic="new_orders", result="created") > 0
        # Lag is reported per assigned partition and drops to zero once everything is handled.
        for partition in orders_of(process):
            wait_for(lambda process=process, partition=partition:
                     process.metric("consumer_lag", topic="new_orders", partition=str(partition)) == 0,
                     f"{process.name} lag on partition {partition} to reach 0")


def test_sigterm_finishes_the_batch_commits_and_exits_0(consumers, producer, kafka_servers):
    consumer = consumers.start()
    orders = [new_order() for _ in range(2000)]
    ids = [order["order_id"] for order in orders]
    produced = producer.send_orders(orders)
    wait_for(lambda: consumers.delivery_counts(ids), "the first deliveries", JOIN_TIMEOUT)
    consumer.signal(signal.SIGTERM)
    assert consumer.wait() == 0
    assert consumer.logged("consumer stopped")

    committed = committed_offsets(kafka_servers, consumers.group)
    assert any(committed.values())
    # Offsets are committed exactly up to what is in the database: nothing written is left uncommitted,
    # nothing committed is missing.
    below_commit = {order["order_id"] for order, where in zip(orders, produced, strict=True)
                    if committed[where.partition] is not None and where.offset < committed[where.partition]}
    assert set(consumers.delivery_counts(ids)) == below_commit

    consumers.start()
    assert set(wait_for_deliveries(consumers, ids, timeout=120).values()) == {1}


def test_the_consumer_survives_a_database_outage_and_catches_up(consumers, producer, kafka_servers):
    env = consumers.env
    proxy = TcpProxy(env["DB_HOST"], int(env["DB_PORT"]))
    try:
        consumer = consumers.start(DB_HOST="127.0.0.1", DB_PORT=str(proxy.port), DB_CONNECT_TIMEOUT="1")
        before = new_order()
        producer.send_orders([before])
        wait_for_deliveries(consumers, [before["order_id"]])

        proxy.cut()
        during = [new_order() for _ in range(5)]
        produced = producer.send_orders(during)
        wait_for(lambda: len(consumer.logged("retrying")) >= 3, "the consumer to retry several times", 60)
        assert consumer.alive
        # The lag shows the records waiting for the database.
        waiting = {where.partition for where in produced}
        wait_for(lambda: sum(consumer.metric("consumer_lag", topic="new_orders", partition=str(p)) or 0
                             for p in waiting) >= len(during), "the lag to count the waiting records")
        assert consumers.delivery_counts([order["order_id"] for order in during]) == {}
        committed = committed_offsets(kafka_servers, consumers.group)
        assert all(committed[where.partition] is None or committed[where.partition] <= where.offset
                   for where in produced), "offsets were committed while the database was down"

        proxy.restore()
        wait_for_deliveries(consumers, [order["order_id"] for order in during])
        assert consumer.alive
        wait_for(lambda: all((committed_offsets(kafka_servers, consumers.group)[where.partition] or 0) > where.offset
                             for where in produced), "the offsets to be committed after the outage")
    finally:
        proxy.close()


def test_a_record_near_the_size_limit_is_dead_lettered_cut_down_never_retried(consumers, producer, kafka_servers):
    consumer = consumers.start()
    key = f"huge-{consumers.group}".encode()
    # As large as the producer allows: the copy with its added error header could not be sent as received.
    value = b"{" + b"x" * 1_040_000
    producer.send_raw(key, value, [("event_id", b"e-huge"), ("trace", b"t-1")], partition=2)
    good = new_order()
    producer.send_orders([good], partition=2)
    wait_for_deliveries(consumers, [good["order_id"]])

    dlq = TopicReader(kafka_servers, order_created.DEAD_LETTER_TOPIC)
    try:
        dead = dlq.wait_for(lambda r: r.key == key, "the huge record on the DLQ")[0]
    finally:
        dlq.close()
    headers = dict(dead.headers)
    assert value.startswith(dead.value) and len(dead.value) < len(value)
    assert "value cut from 1040001" in headers["dlq_truncated"].decode()
    assert "not JSON" in headers[HEADER_ERROR].decode()
    assert headers["trace"] == b"t-1"  # the original headers stay, beside the error and the note
    wait_for(lambda: consumer.logged("dead-lettered", key=key.decode()), "our consumer's dead-letter log entry")
    assert consumer.alive and not consumer.logged("retrying")


def test_deep_nesting_and_a_trailing_line_break_are_dead_lettered_not_fatal(consumers, producer, kafka_servers):
    consumer = consumers.start()
    deep_key, newline_key = (f"{name}-{consumers.group}".encode() for name in ("deep", "newline"))
    producer.send_raw(deep_key, b"[" * 5000 + b"]" * 5000, [("event_type", b"OrderCreated")], partition=0)
    producer.send_raw(newline_key, json.dumps(new_order(user_id="USER0001\n")).encode(), [], partition=0)
    good = new_order()
    producer.send_orders([good], partition=0)
    wait_for_deliveries(consumers, [good["order_id"]])
    dlq = TopicReader(kafka_servers, order_created.DEAD_LETTER_TOPIC)
    try:
        deep, newline = (
            dlq.wait_for(lambda r, k=k: r.key == k, f"{k!r} on the DLQ")[0] for k in (deep_key, newline_key)
        )
    finally:
        dlq.close()
    assert "nested too deeply" in dict(deep.headers)[HEADER_ERROR].decode()
    assert "user_id" in dict(newline.headers)[HEADER_ERROR].decode()
    assert consumer.alive and not consumer.logged("retrying")


class UndecodableName(str):
    """A header name whose bytes are not UTF-8, as a producer in another language could send (kafka-python
    cannot decode such a record at all, so it fails every poll of its partition)."""

    def encode(self, *_args, **_kwargs):
        return b"\xff\xfe-not-utf8"


def test_a_record_the_client_cannot_decode_is_stepped_over_and_noted_on_the_dlq(consumers, tmp_path):
    # A private broker: no other reader of the stack's new_orders must meet a record it cannot decode.
    with private_broker(tmp_path) as servers:
        consumer = consumers.start(KAFKA_BOOTSTRAP_SERVERS=servers)
        producer = OrderProducer(servers)
        try:
            before, after = new_order(), new_order()
            producer.send_orders([before], partition=1)
            unreadable = producer.send_raw(b"undecodable", b"{}", [(UndecodableName("x"), b"1")], partition=1)
            producer.send_orders([after], partition=1)
            counts = wait_for_deliveries(consumers, [before["order_id"], after["order_id"]])
        finally:
            producer.close()
        assert set(counts.values()) == {1}

        dlq = TopicReader(servers, order_created.DEAD_LETTER_TOPIC)
        try:
            note = dlq.wait_for(lambda r: r.key is None, "the note of the unreadable record")[0]
        finally:
            dlq.close()
    headers = dict(note.headers)
    assert headers[HEADER_ERROR].decode().startswith(
        f"unreadable record batch at new_orders[1] offset {unreadable.offset}: CorruptRecordError")
    assert (headers["skipped_partition"], headers["skipped_first_offset"], headers["skipped_last_offset"]) == (
        b"1", str(unreadable.offset).encode(), str(unreadable.offset).encode())
    assert consumer.alive and consumer.logged("skipped an unreadable record batch", first_offset=unreadable.offset)
