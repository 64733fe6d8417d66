"""The consumer loop: poll `new_orders`, write each batch in one transaction, dead-letter the unusable, then commit;
step over a batch that cannot be decoded, and say on /healthz whether the loop still makes progress."""
from __future__ import annotations

import logging
import time

import mariadb
from kafka import ConsumerRebalanceListener
from kafka.errors import CommitFailedError, KafkaError, MessageSizeTooLargeError
from kafka.structs import OffsetAndMetadata

from services.contracts import order_created
from services.delivery_ms import store
from services.delivery_ms.consumer import metrics
from services.delivery_ms.consumer.batch import DEAD_LETTER_MAX_BYTES, DeadLetter, SortedBatch, skip_note, sort_batch
from services.delivery_ms.settings import DeliverySettings
from services.platform.consumer import ProgressWatch, raised_while_decoding, step_over_undecodable
from services.platform.db import ConnectionPool
from services.platform.kafka import create_consumer
from services.platform.worker import Backoff, PublishFailed, Worker

log = logging.getLogger(__name__)


class _AssignmentLog(ConsumerRebalanceListener):
    def on_partitions_revoked(self, revoked):
        log.info("partitions revoked", extra={"partitions": sorted(tp.partition for tp in revoked)})

    def on_partitions_assigned(self, assigned):
        log.info("partitions assigned", extra={"partitions": sorted(tp.partition for tp in assigned)})


# The database refuses this one record's data (too long, out of range, a constraint): dead-letter it, never
# retry it. Any other error is not the record's fault and is retried for the whole batch.
RECORD_ERRORS = (mariadb.DataError, mariadb.IntegrityError)
# A broker that takes smaller records than DEAD_LETTER_MAX_BYTES: cut the copy down further, at most this far.
SMALLEST_DEAD_LETTER_BYTES = 4096


class DeliveryConsumer(Worker):
    """Turns `new_orders` into deliveries, at least once with an idempotent write, until SIGTERM.

    Every record either becomes a delivery or goes to `new_orders.dlq` with the reason; only a failure of
    the database or the broker themselves holds the batch back (and it is retried, never committed)."""

    # poll() returns as soon as records arrive; the timeout only bounds how long a SIGTERM waits
    # to be noticed on an idle topic.
    POLL_TIMEOUT_MS = 500
    # An empty poll that returns much sooner than its timeout means the group coordinator is unreachable
    # (kafka-python then skips its wait while a heartbeat is overdue): without a pause of our own the
    # consumer would spin on the CPU the services need, e.g. while the broker is frozen.
    EARLY_EMPTY_POLL_SECONDS = 0.05

    def __init__(self, settings: DeliverySettings, client_id: str = "delivery-consumer"):
        super().__init__(settings, client_id)
        self._group = settings.consumer_group
        self._pool = ConnectionPool(settings, size=1)
        self._consumer = None
        self._empty_poll_backoff = Backoff(first=0.05, maximum=1.0)
        self._lag_partitions: set = set()
        self._progress = ProgressWatch(settings.consumer_stall_seconds)
        metrics.STALLED.set_function(self._progress.stalled_seconds)

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

    def _handle(self, consumer, batch: dict) -> None:
        """Write, dead-letter, then commit: the offsets move only once the database has the deliveries."""
        sorted_batch = sort_batch(batch)
        created, duplicates = self._write(sorted_batch)
        metrics.MESSAGES.labels("created").inc(created)
        metrics.MESSAGES.labels("duplicate").inc(duplicates)
        self._dead_letter(sorted_batch)
        try:
            consumer.commit(sorted_batch.offsets)
        except CommitFailedError as exc:
            # The group rebalanced while we worked: the new owner of these partitions gets the same
            # records again, and the unique order_id turns them into no-ops.
            log.warning("offsets not committed, the group rebalanced; the records will be redelivered: %s", exc)
            return
        self._progress.progressed()
        log.debug("batch done", extra={"created": created, "duplicates": duplicates,
                                       "dead_lettered": len(sorted_batch.dead_letters)})

    def _write(self, sorted_batch: SortedBatch) -> tuple[int, int]:
        """The batch's deliveries in one statement; when the database refuses a record's data, each on its own,
        so that record is dead-lettered and the others still become deliveries. Returns (created, duplicates)."""
        try:
            return store.insert_deliveries(self._pool, sorted_batch.orders)
        except RECORD_ERRORS:
            log.warning("the database refused a record of the batch; writing its records one by one")
        created = duplicates = 0
        for record, order in sorted_batch.accepted:
            try:
                one_created, one_duplicate = store.insert_deliveries(self._pool, [order])
            except RECORD_ERRORS as exc:
                sorted_batch.dead_letters.append(DeadLetter(record, f"the database refused it: {exc}"))
                continue
            created += one_created
            duplicates += one_duplicate
        return created, duplicates

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
            log.warning("dead-lettered an unusable message", extra={
                "key": (record.key or b"").decode("utf-8", "replace"), "partition": record.partition,
                "offset": record.offset, "error": letter.error})
        metrics.MESSAGES.labels("dead_lettered").inc(len(sorted_batch.dead_letters))

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
            self.send_acknowledged([skip_note(skipped)])
            consumer.commit({skipped.partition: OffsetAndMetadata(skipped.end, "", -1)})
        except BaseException:
            if skipped.partition in consumer.assignment():  # after a rebalance its new owner meets the batch
                consumer.seek(skipped.partition, skipped.first)
            raise
        self._progress.progressed()
        metrics.MESSAGES.labels("dead_lettered").inc(skipped.end - skipped.first)
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
                metrics.LAG.labels(partition.topic, str(partition.partition)).set(lag)
                self._lag_partitions.add(partition)
        for partition in self._lag_partitions - assigned:
            metrics.LAG.remove(partition.topic, str(partition.partition))
        self._lag_partitions &= assigned
        return behind

    def _kafka_consumer(self):
        if self._consumer is None:
            consumer = create_consumer(self.settings, self.client_id, self._group)
            consumer.subscribe([order_created.TOPIC], listener=_AssignmentLog())
            self._consumer = consumer
            log.info("consumer started", extra={"group": self._group})
        return self._consumer

    def close(self) -> None:
        if self._consumer is not None:
            # Offsets were committed batch by batch; nothing more to commit on the way out.
            self._consumer.close(autocommit=False)
        self._pool.close()
