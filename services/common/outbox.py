"""The transactional outbox: services enqueue messages in their own transaction; `OutboxRelay` publishes them.

The relay marks a row sent only after the broker acknowledged it (acks=all), so a crash between the
two publishes the row again: consumers are idempotent by design."""
from __future__ import annotations

import json
import logging
import signal
import threading
import time
from datetime import datetime

from kafka.errors import KafkaError
from prometheus_client import Counter, Gauge

from services.common import events
from services.common.db import ConnectionPool, DatabaseUnavailable
from services.common.events import Message
from services.common.kafka import close_quietly, create_producer
from services.common.logs import configure_logging
from services.common.metrics import serve_metrics
from services.common.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Each outbox table and the topic its rows go to (the metrics of both start at 0 with the relay).
OUTBOX_TABLES = {"order_outbox": events.TOPIC_NEW_ORDERS, "delivery_outbox": events.TOPIC_DELIVERY_STATUS}

EVENTS_PUBLISHED = Counter("outbox_events_published_total", "Outbox rows published and acknowledged by the broker.", ["topic"])
EVENTS_FAILED = Counter("outbox_publish_failures_total", "Publish attempts that failed and will be retried.", ["topic"])
# Read from the database by the relay; in multiprocess mode the latest reading of a live process is the truth.
PENDING = Gauge("outbox_pending_events", "Outbox rows not yet published.", ["table"],
                multiprocess_mode="livemostrecent")
OLDEST_AGE = Gauge("outbox_oldest_pending_age_seconds", "Age of the oldest unpublished outbox row, 0 when none.",
                   ["table"], multiprocess_mode="livemostrecent")


def enqueue(cursor, table: str, message: Message) -> None:
    """Write `message` in the caller's transaction; it is published after the caller commits."""
    _check_table(table)
    cursor.execute(
        f"INSERT INTO {table} (event_id, topic, message_key, payload, headers) VALUES (?, ?, ?, ?, ?)",
        (message.event_id, message.topic, message.key, json.dumps(message.value), json.dumps(message.headers)),
    )


def _check_table(table: str) -> None:
    if table not in OUTBOX_TABLES:
        raise ValueError(f"unknown outbox table {table!r}")


class OutboxRelay:
    """Publishes one outbox table to Kafka in insertion order, forever, surviving broker and database outages."""

    MAX_BACKOFF_SECONDS = 5.0
    GAUGE_REFRESH_SECONDS = 1.0

    def __init__(self, settings: Settings, table: str, client_id: str):
        _check_table(table)
        self._settings = settings
        self._table = table
        self._client_id = client_id
        self._pool = ConnectionPool(settings, size=1)
        self._producer = None
        self._stop = threading.Event()
        self._gauges_refreshed = 0.0
        # Series that exist from the start: rate() and increase() then see the first event and failure.
        EVENTS_PUBLISHED.labels(OUTBOX_TABLES[table])
        EVENTS_FAILED.labels(OUTBOX_TABLES[table])

    def stop(self, *_args) -> None:
        self._stop.set()

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        log.info("relay started", extra={"table": self._table})
        backoff = 0.0
        while not self._stop.is_set():
            try:
                published = self.publish_batch()
                backoff = 0.0
            except (KafkaError, DatabaseUnavailable) as exc:
                backoff = min(self.MAX_BACKOFF_SECONDS, max(0.2, backoff * 2))
                log.warning("relay cannot publish yet, retrying in %.1fs: %s", backoff, exc)
                self._drop_producer()
                if isinstance(exc, KafkaError):
                    # The backlog gauges matter most while the broker is down: keep them current.
                    self._refresh_gauges()
                self._stop.wait(backoff)
                continue
            self._refresh_gauges()
            if published == 0:
                # Nothing pending: poll again shortly (an idle stack delivers well under a second).
                self._stop.wait(self._settings.relay_poll_interval)
        self._drop_producer()
        self._pool.close()
        log.info("relay stopped")

    def publish_batch(self) -> int:
        """Publish up to one batch of pending rows; returns how many were acknowledged."""
        with self._pool.transaction() as cursor:
            # FOR UPDATE makes a second relay replica wait instead of publishing out of order.
            cursor.execute(
                f"SELECT id, topic, message_key, payload, headers FROM {self._table}"
                f" WHERE sent_at IS NULL ORDER BY id LIMIT ? FOR UPDATE",
                (self._settings.relay_batch_size,),
            )
            rows = cursor.fetchall()
            if not rows:
                return 0
            try:
                producer = self._get_producer()
            except KafkaError:
                EVENTS_FAILED.labels(rows[0]["topic"]).inc()
                raise
            futures = [
                producer.send(
                    row["topic"],
                    key=row["message_key"].encode(),
                    value=row["payload"].encode(),
                    headers=[(k, v.encode()) for k, v in json.loads(row["headers"]).items()],
                )
                for row in rows
            ]
            producer.flush(timeout=self._settings.kafka_request_timeout_ms / 1000 * 2)
            acknowledged = []
            failure = None
            for row, future in zip(rows, futures):
                # Keep order: stop at the first row the broker did not acknowledge.
                if not future.is_done or future.failed():
                    failure = future.exception if future.is_done else KafkaError("publish timed out")
                    break
                acknowledged.append(row)
            if acknowledged:
                cursor.executemany(
                    f"UPDATE {self._table} SET sent_at = NOW(6) WHERE id = ?",
                    [(row["id"],) for row in acknowledged],
                )
                for row in acknowledged:
                    EVENTS_PUBLISHED.labels(row["topic"]).inc()
        if failure is not None:
            EVENTS_FAILED.labels(rows[len(acknowledged)]["topic"]).inc()
            raise failure if isinstance(failure, KafkaError) else KafkaError(str(failure))
        return len(acknowledged)

    def _refresh_gauges(self) -> None:
        now = time.monotonic()
        if now - self._gauges_refreshed < self.GAUGE_REFRESH_SECONDS:
            return
        self._gauges_refreshed = now
        try:
            with self._pool.transaction() as cursor:
                cursor.execute(
                    f"SELECT COUNT(*) AS pending, MIN(created_at) AS oldest, NOW(6) AS now"
                    f" FROM {self._table} WHERE sent_at IS NULL"
                )
                row = cursor.fetchone()
        except DatabaseUnavailable as exc:
            # The last reading stays; the next loop (or the relay's backoff) tries again.
            log.warning("relay cannot read its backlog: %s", exc)
            return
        PENDING.labels(self._table).set(row["pending"])
        oldest: datetime | None = row["oldest"]
        OLDEST_AGE.labels(self._table).set((row["now"] - oldest).total_seconds() if oldest else 0)

    def _get_producer(self):
        if self._producer is None:
            self._producer = create_producer(self._settings, self._client_id)
        return self._producer

    def _drop_producer(self) -> None:
        # A fresh producer after a failure: nothing stale stays buffered to be sent out of order.
        if self._producer is not None:
            close_quietly(self._producer)
            self._producer = None


def run_relay_process(service: str, table: str) -> None:
    """The body of each service's relay command: JSON logs, /metrics on METRICS_PORT, relay until SIGTERM."""
    settings = get_settings()
    configure_logging(service, settings.log_level)
    serve_metrics(settings.metrics_port)
    OutboxRelay(settings, table, client_id=service).run()
