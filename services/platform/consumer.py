"""The one batch consumer every service's consumer is built from: it polls a topic, parses each record, writes
each batch in one transaction, dead-letters what it cannot use, and commits only after the database commit; it
steps over record batches the client cannot decode and tells /healthz whether it still makes progress. A service
names its topic, group, dead-letter topic, `parse` and `write` in a `Subscription`, as it names an `Outbox`; one
consumer may read several subscriptions of one group (one poll loop and one process for all its topics)."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import mariadb
from kafka import ConsumerRebalanceListener, TopicPartition
from kafka.errors import CommitFailedError, KafkaError, MessageSizeTooLargeError
from kafka.structs import OffsetAndMetadata
from prometheus_client import Counter, Gauge

from services.platform import tracing
from services.platform.db import READ_COMMITTED, ConnectionPool
from services.platform.dead_letters import DEAD_LETTER_MAX_BYTES, DeadLetter, skip_note
from services.platform.kafka import create_consumer
from services.platform.progress import ProgressWatch
from services.platform.settings import Settings
from services.platform.undecodable import raised_while_decoding, step_over_undecodable
from services.platform.worker import Backoff, PublishFailed, Worker

log = logging.getLogger(__name__)

MESSAGES = Counter("consumer_messages_total", "Records a consumer handled, by result.", ["topic", "group", "result"])
RESULTS = ("created", "duplicate", "dead_lettered")
# Read at scrape time from the loop's progress watch, so it grows while the loop hangs (CoffeeOrderConsumerStalled).
STALLED = Gauge(
    "consumer_stalled_seconds",
    "Seconds the consumer has had work without committing (0 while it keeps up).",
    ["topic", "group"],
)
LAG = Gauge("consumer_lag", "Messages behind the end of each assigned partition.", ["topic", "group", "partition"])

Item = TypeVar("Item")


class UnusableItem(Exception):
    """A write's refusal of one item the contract allows but the service cannot use (e.g. it names something the
    service does not have): the batch is written item by item and this one is dead-lettered with the message."""


@dataclass(frozen=True)
class Subscription(Generic[Item]):
    """What one consumer reads and what it does with it: the service's whole part of a consumer.

    `parse(value, headers)` turns a record into an item or raises one of `invalid` (the record is dead-lettered);
    `write(pool, items)` stores a batch in one transaction, idempotently, and returns how many items were new (the
    rest were redeliveries). When it raises one of `refused` (the database refuses one item's data, or the write
    raises UnusableItem), the batch is written item by item, so only that item is dead-lettered."""

    topic: str
    group: str
    dead_letter_topic: str
    parse: Callable[[bytes | None, list], Item]
    write: Callable[[ConnectionPool, list[Item]], int]
    invalid: tuple[type[Exception], ...]
    refused: tuple[type[Exception], ...] = (mariadb.DataError, mariadb.IntegrityError, UnusableItem)


@dataclass
class SortedBatch:
    """One poll's records sorted: the items to write (with their records), the dead letters, the offsets to commit,
    and the records' spans when tracing is on."""

    accepted: list[tuple[object, object]] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    offsets: dict[TopicPartition, OffsetAndMetadata] = field(default_factory=dict)
    spans: tracing.ProcessSpans | tracing.NoProcessSpans = tracing.NO_PROCESS_SPANS

    @property
    def items(self) -> list:
        return [item for _record, item in self.accepted]


def _by_topic(partitions) -> dict[str, list[int]]:
    """{topic: [partition, ...]}: a group may read several topics, whose partition numbers repeat."""
    topics: dict[str, list[int]] = {}
    for tp in partitions:
        topics.setdefault(tp.topic, []).append(tp.partition)
    return {topic: sorted(numbers) for topic, numbers in sorted(topics.items())}


class _AssignmentLog(ConsumerRebalanceListener):
    def on_partitions_revoked(self, revoked):
        log.info("partitions revoked", extra={"partitions": _by_topic(revoked)})

    def on_partitions_assigned(self, assigned):
        log.info("partitions assigned", extra={"partitions": _by_topic(assigned)})


def consumer_pool(settings: Settings) -> ConnectionPool:
    """The one connection a consumer writes its batches with, at READ COMMITTED: a batch's locking read locks the
    rows it finds, not the gaps where missing ones would go. At REPEATABLE READ two consumers of a group writing at
    once (replicas, or a rebalance's old and new owner of a partition) each lock the gaps the other inserts into,
    and MariaDB kills one of them as a deadlock: with two writers, most batches (docs/performance.md, "The consumer
    from a backlog"). A second copy of a row is still refused by its unique key, and the batch is then written item
    by item, where the locking read finds the other's row."""
    return ConnectionPool(settings, size=1, isolation=READ_COMMITTED)


# A broker that takes smaller records than DEAD_LETTER_MAX_BYTES: cut the copy down further, at most this far.
SMALLEST_DEAD_LETTER_BYTES = 4096


class BatchConsumer(Worker):
    """Reads one subscription, or several of one group, at least once with an idempotent write, until SIGTERM.

    Every record is either written or sent to its subscription's dead-letter topic with the reason; only a failure
    of the database or the broker themselves holds the batch back (it is rewound and retried, never committed).
    Each subscription's records of a poll are written in a transaction of their own, all before the commit."""

    # poll() returns as soon as records arrive; the timeout only bounds how long a SIGTERM waits
    # to be noticed on an idle topic. As long as the broker holds an empty fetch (KAFKA_FETCH_MAX_WAIT_MS,
    # 1,000 by default): an idle consumer then loops once per fetch, not twice (0.33 % of a core instead of
    # 0.40-0.45, docs/performance.md).
    POLL_TIMEOUT_MS = 1000
    # An empty poll that returns much sooner than its timeout means the group coordinator is unreachable
    # (kafka-python then skips its wait while a heartbeat is overdue): without a pause of our own the
    # consumer would spin on the CPU the services need, e.g. while the broker is frozen.
    EARLY_EMPTY_POLL_SECONDS = 0.05

    def __init__(self, settings: Settings, subscriptions: Subscription | Sequence[Subscription], client_id: str,
                 stall_seconds: float):
        super().__init__(settings, client_id)
        self.subscriptions = (subscriptions,) if isinstance(subscriptions, Subscription) else tuple(subscriptions)
        groups = {subscription.group for subscription in self.subscriptions}
        self._by_topic = {subscription.topic: subscription for subscription in self.subscriptions}
        if len(groups) != 1 or len(self._by_topic) != len(self.subscriptions):
            raise ValueError("one consumer reads subscriptions of one group, each of another topic")
        self.group = groups.pop()
        self._pool = consumer_pool(settings)
        self._consumer = None
        self._empty_poll_backoff = Backoff(first=0.05, maximum=1.0)
        self._lag_partitions: set = set()
        self._progress = ProgressWatch(stall_seconds)
        for topic in self._by_topic:
            STALLED.labels(topic, self.group).set_function(lambda: self._progress.stalled_seconds())
            # Zero from the start, so dashboards and alerts see every series before the first record.
            for result in RESULTS:
                MESSAGES.labels(topic=topic, group=self.group, result=result)

    @property
    def subscription(self) -> Subscription:
        """The first subscription (the only one of most consumers)."""
        return self.subscriptions[0]

    def step(self) -> bool:
        consumer = self._kafka_consumer()
        batch = {}
        behind = True
        try:
            started = time.monotonic()
            try:
                batch = consumer.poll(timeout_ms=self.POLL_TIMEOUT_MS)
            except Exception as exc:  # noqa: BLE001 - whatever a record batch raises while it is decoded
                if not raised_while_decoding(exc):
                    raise
                self._step_over_undecodable(consumer, exc)
                return True
            if batch:
                self._empty_poll_backoff.reset()
                self._handle(consumer, batch)
            elif time.monotonic() - started < self.EARLY_EMPTY_POLL_SECONDS:
                self.wait(self._empty_poll_backoff.next())
        except BaseException:
            # Nothing of this batch is committed: rewind so the next poll returns the same records
            # (polling again, rather than retrying in place, keeps this member in its group).
            self._rewind(batch)
            raise
        finally:
            behind = self._update_lag()
        if not batch and not behind:
            self._progress.progressed()  # caught up: nothing waits
        # Only a handled batch proves an outage is over; an empty poll does not.
        return bool(batch)

    def health(self) -> tuple[bool, str]:
        return self._progress.health()

    def sort(self, batch: dict[TopicPartition, list]) -> SortedBatch:
        """Every partition of the batch, each in offset order: parsed items, dead letters, offsets to commit."""
        result = SortedBatch()
        for partition, records in batch.items():
            subscription = self._by_topic[partition.topic]
            for record in records:
                try:
                    result.accepted.append((record, subscription.parse(record.value, record.headers)))
                except subscription.invalid as exc:
                    result.dead_letters.append(DeadLetter(record, str(exc), subscription.dead_letter_topic))
            if records:
                result.offsets[partition] = OffsetAndMetadata(records[-1].offset + 1, "", -1)
        return result

    def write(self, sorted_batch: SortedBatch) -> tuple[int, int]:
        """Each subscription's items of the batch in one transaction, counted; returns (created, duplicates) of all."""
        created = duplicates = 0
        for subscription in self.subscriptions:
            accepted = [(record, item) for record, item in sorted_batch.accepted if record.topic == subscription.topic]
            if not accepted:
                continue
            new, again = self._write(subscription, accepted, sorted_batch)
            self._count(subscription.topic, "created", new)
            self._count(subscription.topic, "duplicate", again)
            created, duplicates = created + new, duplicates + again
        return created, duplicates

    def _write(self, subscription: Subscription, accepted: list[tuple[object, object]],
               sorted_batch: SortedBatch) -> tuple[int, int]:
        """One subscription's items in one transaction; when the database refuses an item's data, each on its own,
        so that record is dead-lettered and the others are still written. Returns (created, duplicates)."""
        with sorted_batch.spans.writing(subscription.topic, accepted):
            return self._write_traced(subscription, accepted, sorted_batch)

    def _write_traced(self, subscription: Subscription, accepted: list[tuple[object, object]],
                      sorted_batch: SortedBatch) -> tuple[int, int]:
        items = [item for _record, item in accepted]
        try:
            created = subscription.write(self._pool, items)
            return created, len(items) - created
        except subscription.refused:
            log.warning("a record of the batch was refused; writing its records one by one")
        created = duplicates = 0
        for record, item in accepted:
            try:
                new = subscription.write(self._pool, [item])
            except subscription.refused as exc:
                reason = str(exc) if isinstance(exc, UnusableItem) else f"the database refused it: {exc}"
                sorted_batch.dead_letters.append(DeadLetter(record, reason, subscription.dead_letter_topic))
                continue
            created += new
            duplicates += 1 - new
        return created, duplicates

    def _handle(self, consumer, batch: dict) -> None:
        """Write, dead-letter, then commit: the offsets move only once the database has the items. Each record's
        process span lasts until then (docs/tracing.md)."""
        with tracing.process_spans(batch, self.group) as spans:
            sorted_batch = self.sort(batch)
            sorted_batch.spans = spans
            created, duplicates = self.write(sorted_batch)
            self._dead_letter(sorted_batch)
            try:
                consumer.commit(sorted_batch.offsets)
            except CommitFailedError as exc:
                # The group rebalanced while we worked: the new owner of these partitions gets the same
                # records again, and the idempotent write turns them into no-ops.
                log.warning("offsets not committed, the group rebalanced; the records will be redelivered: %s", exc)
                return
        self._progress.progressed()
        log.debug("batch done", extra={"created": created, "duplicates": duplicates,
                                       "dead_lettered": len(sorted_batch.dead_letters)})

    def _count(self, topic: str, result: str, amount: int) -> None:
        MESSAGES.labels(topic=topic, group=self.group, result=result).inc(amount)

    def _dead_letter(self, sorted_batch: SortedBatch) -> None:
        if not sorted_batch.dead_letters:
            return
        letters = sorted_batch.dead_letters
        try:
            self.send_acknowledged([letter.dead_letter_record() for letter in letters])
        except PublishFailed as failed:
            if not isinstance(failed.cause, MessageSizeTooLargeError):
                raise KafkaError(f"dead-lettering failed: {failed.cause}") from failed
            for letter in letters[failed.acknowledged:]:
                self._dead_letter_smaller(letter)
        for letter in letters:
            record = letter.record
            sorted_batch.spans.dead_lettered(record, letter.error)
            with sorted_batch.spans.current(record):  # the log line carries the record's trace id
                log.warning("dead-lettered an unusable message", extra={
                    "key": (record.key or b"").decode("utf-8", "replace"), "partition": record.partition,
                    "offset": record.offset, "error": letter.error})
        for letter in letters:
            self._count(letter.record.topic, "dead_lettered", 1)

    def _dead_letter_smaller(self, letter: DeadLetter) -> None:
        """The broker takes smaller records than we assumed: halve the copy until it fits, never forever."""
        max_bytes = DEAD_LETTER_MAX_BYTES // 2
        while True:
            try:
                self.send_acknowledged([letter.dead_letter_record(max_bytes)])
                return
            except PublishFailed as failed:
                if not isinstance(failed.cause, MessageSizeTooLargeError) or max_bytes <= SMALLEST_DEAD_LETTER_BYTES:
                    raise KafkaError(f"dead-lettering failed: {failed.cause}") from failed
                max_bytes //= 2

    def _step_over_undecodable(self, consumer, error: BaseException) -> None:
        """A record batch the client cannot decode (corrupt, a CRC mismatch, an unknown codec, a header name that
        is not UTF-8): note its offsets and the reason on the dead-letter topic, commit past them, and go on.
        If the note cannot be sent the partition is put back, so the batch is met and noted again."""
        skipped = step_over_undecodable(consumer, error, self.POLL_TIMEOUT_MS)
        try:
            dead_letter_topic = self._by_topic[skipped.partition.topic].dead_letter_topic
            self.send_acknowledged([skip_note(skipped, dead_letter_topic)])
            consumer.commit({skipped.partition: OffsetAndMetadata(skipped.end, "", -1)})
        except BaseException:
            if skipped.partition in consumer.assignment():  # after a rebalance its new owner meets the batch
                consumer.seek(skipped.partition, skipped.first)
            raise
        self._progress.progressed()
        self._count(skipped.partition.topic, "dead_lettered", skipped.end - skipped.first)
        log.error("skipped an unreadable record batch", extra={
            "partition": skipped.partition.partition, "first_offset": skipped.first, "last_offset": skipped.last,
            "error": skipped.reason})

    def _rewind(self, batch: dict) -> None:
        if not batch or self._consumer is None:
            return
        assigned = self._consumer.assignment()
        for partition, records in batch.items():
            if records and partition in assigned:
                self._consumer.seek(partition, records[0].offset)

    def _update_lag(self) -> bool:
        """Refresh the lag gauges; True when some assigned partition is known to be behind."""
        if self._consumer is None:
            return False
        # The high watermark comes with every fetch response: no ListOffsets request (end_offsets()) is needed.
        behind = False
        assigned = self._consumer.assignment()
        for partition in assigned:
            try:
                position = self._consumer.position(partition, timeout_ms=0)
            except KafkaError:
                continue  # just assigned, no position yet: the next poll has one
            highwater = self._consumer.highwater(partition)
            if highwater is not None and position is not None:
                lag = max(0, highwater - position)
                behind = behind or lag > 0
                LAG.labels(partition.topic, self.group, str(partition.partition)).set(lag)
                self._lag_partitions.add(partition)
        for partition in self._lag_partitions - assigned:
            LAG.remove(partition.topic, self.group, str(partition.partition))
        self._lag_partitions &= assigned
        return behind

    def _kafka_consumer(self):
        if self._consumer is None:
            consumer = create_consumer(self.settings, self.client_id, self.group)
            consumer.subscribe(list(self._by_topic), listener=_AssignmentLog())
            self._consumer = consumer
            log.info("consumer started", extra={"topics": list(self._by_topic), "group": self.group})
        return self._consumer

    def close(self) -> None:
        if self._consumer is not None:
            # Offsets were committed batch by batch; nothing more to commit on the way out.
            self._consumer.close(autocommit=False)
        self._pool.close()
