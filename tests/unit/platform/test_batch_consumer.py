"""Unit tests for the generic batch consumer with fakes: one transaction and one commit per batch, commit only
after the database, rewind and retry when it is down, dead letters (the unparsable and the refused), liveness."""
import json
from dataclasses import replace

import mariadb
import pytest
from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError

from services.platform import consumer as platform_consumer
from services.platform import worker as runtime
from services.platform.consumer import BatchConsumer, Subscription, UnusableItem
from services.platform.db import DatabaseUnavailable
from services.platform.progress import ProgressWatch
from services.platform.settings import Settings, platform_fields

TOPIC, GROUP, DEAD_LETTER_TOPIC = "items", "item-writers", "items.dlq"
P0, P2 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 2)


class NotAnItem(ValueError):
    """What the test subscription's parse raises for a record that is no item."""


def parse(value, _headers):
    try:
        return json.loads(value)
    except (TypeError, ValueError) as exc:
        raise NotAnItem(f"not JSON: {exc}") from None


def item_record(partition, offset, number=0):
    return ConsumerRecord(TOPIC, partition, -1, offset, 0, 0, b"k", json.dumps({"n": number}).encode(), [], None,
                          0, 0, 0)


class FakeKafkaConsumer:
    """Hands out scripted poll results, then asks the loop to stop; records seeks and commits."""

    def __init__(self, polls, stop):
        self.polls, self.stop = list(polls), stop
        self.seeks, self.commits, self.closed_with = [], [], None
        self.commit_error = None
        self.poll_timeouts = []

    def poll(self, timeout_ms):
        self.poll_timeouts.append(timeout_ms)
        if not self.polls:
            self.stop()
            return {}
        return self.polls.pop(0)

    def assignment(self):
        return {P0, P2}

    def seek(self, partition, offset):
        self.seeks.append((partition.partition, offset))

    def commit(self, offsets):
        if self.commit_error:
            raise self.commit_error
        self.commits.append({tp.partition: meta.offset for tp, meta in offsets.items()})

    def position(self, partition, timeout_ms):
        return 0

    def highwater(self, partition):
        return 0

    def close(self, autocommit):
        self.closed_with = autocommit


@pytest.fixture
def loop(monkeypatch):
    """A BatchConsumer wired to a fake consumer and a scripted `write`; no waiting between retries."""
    writes = []
    db_results = []

    def write(_pool, items):
        result = db_results.pop(0)
        if isinstance(result, Exception):
            raise result
        writes.append(items)
        return result

    subscription = Subscription(topic=TOPIC, group=GROUP, dead_letter_topic=DEAD_LETTER_TOPIC, parse=parse,
                                invalid=(NotAnItem,), write=write)
    consumer = BatchConsumer(Settings(**platform_fields(db_name="items")), subscription, "test-consumer",
                             stall_seconds=120)
    consumer.backoff = runtime.Backoff(first=0, maximum=0)

    def script(polls, results):
        fake = FakeKafkaConsumer(polls, consumer.stop)
        consumer._consumer = fake
        db_results[:] = results
        return fake

    return consumer, script, writes


def counted(result):
    return platform_consumer.MESSAGES.labels(topic=TOPIC, group=GROUP, result=result)._value.get()


def test_one_transaction_per_batch_then_one_commit_covering_every_partition(loop):
    consumer, script, writes = loop
    batch = {P0: [item_record(0, 5), item_record(0, 6)], P2: [item_record(2, 9)]}
    fake = script([batch], [3])
    consumer.run()
    assert len(writes) == 1 and len(writes[0]) == 3
    assert fake.commits == [{0: 7, 2: 10}]
    assert fake.closed_with is False


def test_database_down_means_no_commit_and_the_same_records_again(loop):
    consumer, script, writes = loop
    batch = {P0: [item_record(0, 5), item_record(0, 6)], P2: [item_record(2, 9)]}
    fake = script([batch, batch], [DatabaseUnavailable("down"), 3])
    consumer.run()
    assert sorted(fake.seeks) == [(0, 5), (2, 9)]  # rewound to the first record of each partition
    assert fake.commits == [{0: 7, 2: 10}]  # committed once, after the write that worked
    assert len(writes) == 1


def test_a_rebalance_during_the_batch_is_not_an_error(loop):
    consumer, script, writes = loop
    fake = script([{P0: [item_record(0, 1)]}], [1])
    fake.commit_error = CommitFailedError()
    consumer.run()
    assert len(writes) == 1 and fake.seeks == [] and fake.commits == []


def poison_record(partition, offset):
    return ConsumerRecord(TOPIC, partition, -1, offset, 0, 0, b"p", b"{not json", [], None, 0, 0, 0)


def test_a_failed_dead_letter_send_rewinds_and_commits_nothing_until_it_works(loop, monkeypatch):
    consumer, script, writes = loop
    batch = {P0: [item_record(0, 5), poison_record(0, 6)]}
    fake = script([batch, batch], [1, 0])
    sends = []

    def send_acknowledged(records):
        sends.append([r.topic for r in records])
        if len(sends) == 1:
            raise runtime.PublishFailed(0, "broker timed out")
        return len(records)

    monkeypatch.setattr(consumer, "send_acknowledged", send_acknowledged)
    consumer.run()
    assert sends == [[DEAD_LETTER_TOPIC], [DEAD_LETTER_TOPIC]]
    assert fake.seeks == [(0, 5)]  # rewound to the batch's first record
    assert fake.commits == [{0: 7}]  # committed once, after the dead letter was acknowledged


def test_a_record_the_database_refuses_is_dead_lettered_and_the_rest_written(loop, monkeypatch):
    consumer, script, writes = loop
    refused = mariadb.DataError("Data too long for column 'user_id'")
    refused.errno = 1406
    first, bad, last = item_record(0, 1), item_record(0, 2), item_record(0, 3)
    fake = script([{P0: [first, bad, last]}], [refused, 1, refused, 1])
    letters = []
    monkeypatch.setattr(consumer, "send_acknowledged", lambda records: letters.extend(records) or len(records))
    consumer.run()
    assert len(writes) == 2  # the batch failed as a whole, then two of its three records one by one
    assert [dict(r.headers)["error"].decode() for r in letters] == [
        "the database refused it: Data too long for column 'user_id'"]
    assert letters[0].value == bad.value
    assert fake.commits == [{0: 4}]


def test_an_item_the_write_cannot_use_is_dead_lettered_with_its_own_reason_and_the_rest_written(loop, monkeypatch):
    consumer, script, writes = loop
    unusable = UnusableItem("unknown order: the service has no order 42")
    first, bad, last = item_record(0, 1), item_record(0, 2), item_record(0, 3)
    fake = script([{P0: [first, bad, last]}], [unusable, 1, unusable, 1])
    letters = []
    monkeypatch.setattr(consumer, "send_acknowledged", lambda records: letters.extend(records) or len(records))
    consumer.run()
    assert len(writes) == 2
    assert [dict(r.headers)["error"].decode() for r in letters] == ["unknown order: the service has no order 42"]
    assert letters[0].value == bad.value
    assert fake.commits == [{0: 4}]


def test_results_are_counted_under_the_subscription_s_topic_and_group(loop, monkeypatch):
    consumer, script, _writes = loop
    before = {result: counted(result) for result in ("created", "duplicate", "dead_lettered")}
    script([{P0: [item_record(0, 1), item_record(0, 2), item_record(0, 3), poison_record(0, 4)]}], [2])
    monkeypatch.setattr(consumer, "send_acknowledged", len)
    consumer.run()
    assert {result: counted(result) - before[result] for result in before} == {
        "created": 2, "duplicate": 1, "dead_lettered": 1}


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def advance_on_poll(fake, clock, seconds):
    """Each poll of `fake` takes `seconds` of the clock."""
    original_poll = fake.poll

    def slow_poll(timeout_ms):
        clock.now += seconds
        return original_poll(timeout_ms)

    fake.poll = slow_poll


def test_health_turns_503_when_the_database_holds_the_batch_past_the_limit_and_back_once_committed(loop, monkeypatch):
    consumer, script, _writes = loop
    clock = Clock()
    consumer._progress = ProgressWatch(60, clock)
    batch = {P0: [item_record(0, 5)]}
    fake = script([batch, batch], [])
    health_while_frozen = []

    def write(_pool, items):
        if not health_while_frozen:
            clock.now += 61  # the write hung for longer than the limit, then timed out
            health_while_frozen.append(consumer.health())
            raise DatabaseUnavailable("read timeout")
        return len(items)

    monkeypatch.setattr(consumer, "subscriptions", (replace(consumer.subscription, write=write),))
    consumer.run()
    assert not health_while_frozen[0][0] and "no progress for 61s" in health_while_frozen[0][1]
    assert fake.commits == [{0: 6}] and consumer.health() == (True, "making progress")


def test_an_idle_caught_up_consumer_stays_healthy_however_long_it_waits(loop):
    consumer, script, _writes = loop
    clock = Clock()
    consumer._progress = ProgressWatch(60, clock)
    fake = script([{}, {}, {}], [])
    advance_on_poll(fake, clock, 3600)
    consumer.run()
    assert consumer.health()[0]


def test_an_idle_consumer_polls_no_more_often_than_the_broker_answers_an_empty_fetch(loop):
    """Each poll wakes the loop and kafka-python's network thread: a timeout shorter than the broker's wait for an
    empty fetch (KAFKA_FETCH_MAX_WAIT_MS) would loop several times per fetch on an idle topic, for nothing."""
    consumer, script, _writes = loop
    fake = script([{}, {}], [])
    consumer.run()
    assert fake.poll_timeouts and min(fake.poll_timeouts) >= 1000  # KAFKA_FETCH_MAX_WAIT_MS's default


def test_a_consumer_behind_that_polls_nothing_is_not_caught_up(loop):
    consumer, script, _writes = loop
    clock = Clock()
    consumer._progress = ProgressWatch(60, clock)
    fake = script([{}, {}], [])
    fake.highwater = lambda partition: 10  # lag 10 on each partition, e.g. the fetches fail
    advance_on_poll(fake, clock, 40)
    consumer.run()
    assert not consumer.health()[0]
