"""The consumer loop: poll `new_orders`, write each batch in one transaction, dead-letter the unusable, then commit."""
from __future__ import annotations

import logging
import signal
import threading

import mariadb
from kafka import ConsumerRebalanceListener
from kafka.errors import CommitFailedError, KafkaError

from services.common import events
from services.common.db import ConnectionPool, DatabaseUnavailable
from services.common.kafka import close_quietly, create_consumer, create_producer
from services.common.settings import Settings
from services.consumer import metrics
from services.consumer.batch import SortedBatch, sort_batch
from services.delivery_ms import store

log = logging.getLogger(__name__)


class _AssignmentLog(ConsumerRebalanceListener):
    def on_partitions_revoked(self, revoked):
        log.info("partitions revoked", extra={"partitions": sorted(tp.partition for tp in revoked)})

    def on_partitions_assigned(self, assigned):
        log.info("partitions assigned", extra={"partitions": sorted(tp.partition for tp in assigned)})


class DeliveryConsumer:
    """Turns `new_orders` into deliveries, at least once with an idempotent write, until SIGTERM."""

    MAX_BACKOFF_SECONDS = 5.0
    # poll() returns as soon as records arrive; the timeout only bounds how long a SIGTERM waits
    # to be noticed on an idle topic.
    POLL_TIMEOUT_MS = 500

    def __init__(self, settings: Settings, client_id: str = "delivery-consumer"):
        self._settings = settings
        self._client_id = client_id
        self._pool = ConnectionPool(settings, size=1)
        self._consumer = None
        self._producer = None
        self._stop = threading.Event()
        self._lag_partitions: set = set()

    def stop(self, *_args) -> None:
        self._stop.set()

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        backoff = 0.0
        while not self._stop.is_set():
            batch, failure = {}, None
            try:
                consumer = self._get_consumer()
                batch = consumer.poll(timeout_ms=self.POLL_TIMEOUT_MS)
                if batch:
                    self._handle(consumer, batch)
            except (DatabaseUnavailable, mariadb.Error, KafkaError) as exc:
                # Nothing of this batch is committed: rewind so the next poll returns the same records
                # (polling again, rather than retrying in place, keeps this member in its group).
                # Query errors are retried too: in Kubernetes the consumer may start before the
                # migration Job has created its table.
                self._rewind(batch)
                failure = exc
            self._update_lag()
            if failure is None:
                if batch:
                    backoff = 0.0  # only a handled batch proves the outage is over; an empty poll does not
                continue
            backoff = min(self.MAX_BACKOFF_SECONDS, max(0.2, backoff * 2))
            log.warning("cannot handle the batch yet, retrying in %.1fs: %s", backoff, failure,
                        extra={"error_type": type(failure).__name__})
            self._stop.wait(backoff)
        self._close()

    def _handle(self, consumer, batch: dict) -> None:
        """Write, dead-letter, then commit: the offsets move only once the database has the deliveries."""
        sorted_batch = sort_batch(batch)
        created, duplicates = store.insert_deliveries(self._pool, sorted_batch.orders)
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
        log.debug("batch done", extra={"created": created, "duplicates": duplicates,
                                       "dead_lettered": len(sorted_batch.dead_letters)})

    def _dead_letter(self, sorted_batch: SortedBatch) -> None:
        if not sorted_batch.dead_letters:
            return
        producer = self._get_producer()
        futures = [
            producer.send(events.TOPIC_NEW_ORDERS_DLQ, key=letter.record.key,
                          # A record with neither key nor value cannot be produced as is; an empty value keeps it.
                          value=letter.record.value if letter.record.value is not None or letter.record.key else b"",
                          headers=letter.kafka_headers())
            for letter in sorted_batch.dead_letters
        ]
        producer.flush(timeout=self._settings.kafka_request_timeout_ms / 1000 * 2)
        for letter, future in zip(sorted_batch.dead_letters, futures):
            if not future.is_done or future.failed():
                self._drop_producer()
                raise KafkaError(f"dead-lettering failed: {future.exception if future.is_done else 'timed out'}")
            record = letter.record
            log.warning("dead-lettered an unusable message", extra={
                "key": (record.key or b"").decode("utf-8", "replace"), "partition": record.partition,
                "offset": record.offset, "error": letter.error})
        metrics.MESSAGES.labels("dead_lettered").inc(len(sorted_batch.dead_letters))

    def _rewind(self, batch: dict) -> None:
        if not batch or self._consumer is None:
            return
        assigned = self._consumer.assignment()
        for partition, records in batch.items():
            if records and partition in assigned:
                self._consumer.seek(partition, records[0].offset)

    def _update_lag(self) -> None:
        if self._consumer is None:
            return
        # The high watermark comes with every fetch response. end_offsets() is not used on purpose:
        # the local tansu broker answers ListOffsets "latest" wrongly for multi-record batches.
        assigned = self._consumer.assignment()
        for partition in assigned:
            try:
                position = self._consumer.position(partition, timeout_ms=0)
            except KafkaError:
                continue  # just assigned, no position yet: the next poll has one
            highwater = self._consumer.highwater(partition)
            if highwater is not None and position is not None:
                metrics.LAG.labels(partition.topic, str(partition.partition)).set(max(0, highwater - position))
                self._lag_partitions.add(partition)
        for partition in self._lag_partitions - assigned:
            metrics.LAG.remove(partition.topic, str(partition.partition))
        self._lag_partitions &= assigned

    def _get_consumer(self):
        if self._consumer is None:
            consumer = create_consumer(self._settings, self._client_id)
            consumer.subscribe([events.TOPIC_NEW_ORDERS], listener=_AssignmentLog())
            self._consumer = consumer
            log.info("consumer started", extra={"group": self._settings.consumer_group})
        return self._consumer

    def _get_producer(self):
        if self._producer is None:
            self._producer = create_producer(self._settings, f"{self._client_id}-dlq")
        return self._producer

    def _drop_producer(self) -> None:
        if self._producer is not None:
            close_quietly(self._producer)
            self._producer = None

    def _close(self) -> None:
        if self._consumer is not None:
            # Offsets were committed batch by batch; nothing more to commit on the way out.
            self._consumer.close(autocommit=False)
        if self._producer is not None:
            self._producer.close(timeout=self._settings.kafka_request_timeout_ms / 1000)
        self._pool.close()
        log.info("consumer stopped")
