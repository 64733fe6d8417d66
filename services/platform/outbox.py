"""The transactional outbox: a service adds events to its outbox table in its own transaction, and an
`OutboxRelay` publishes them to the outbox's topic.

The relay marks a row sent only after the broker acknowledged it (acks=all), so a crash between the two
publishes the row again: consumers are idempotent by design. It never holds a row lock or an open
transaction while it waits on the broker, so writers of the outbox never wait for Kafka. Replicas elect one
publisher with a named database lock, which MariaDB releases when the publisher's session ends."""
from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from datetime import datetime

import mariadb
from kafka.errors import KafkaError
from prometheus_client import Counter, Gauge

from services.platform import tracing
from services.platform.db import (
    DatabaseUnavailable,
    TransactionCursor,
    TransientDatabaseError,
    connect,
    translated_errors,
)
from services.platform.records import Event, Record
from services.platform.settings import Settings
from services.platform.wakeup import WakeUpSender, listen
from services.platform.worker import PublishFailed, Worker

log = logging.getLogger(__name__)

EVENTS_PUBLISHED = Counter(
    "outbox_events_published_total", "Outbox rows published and acknowledged by the broker.", ["topic"]
)
EVENTS_FAILED = Counter("outbox_publish_failures_total", "Publish attempts that failed and will be retried.", ["topic"])
# Read from the database by the relay; in multiprocess mode the latest reading of a live process is the truth.
PENDING = Gauge("outbox_pending_events", "Outbox rows not yet published.", ["table"],
                multiprocess_mode="livemostrecent")
OLDEST_AGE = Gauge("outbox_oldest_pending_age_seconds", "Age of the oldest unpublished outbox row, 0 when none.",
                   ["table"], multiprocess_mode="livemostrecent")
LEADER = Gauge("outbox_relay_leader", "1 while this relay replica is the one publishing its outbox, else 0.",
               ["table"], multiprocess_mode="livemostrecent")

_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,63}")


class Outbox:
    """One outbox table and the topics its rows are published to (the first is its main one); owned by one
    service. A row holds the record it will become: its topic, key and value as the bytes the broker gets, headers
    as a JSON list of [name, value] in order. One table per service keeps one relay per service, publishing every
    event in the order the service committed it."""

    def __init__(self, table: str, topic: str, *other_topics: str):
        if not _IDENTIFIER.fullmatch(table):
            raise ValueError(f"not a table name: {table!r}")
        self.table = table
        self.topic = topic
        self.topics = (topic, *other_topics)
        self._relay = WakeUpSender("")

    def wake_relay_at(self, address: str) -> None:
        """Where the relay of this outbox listens for wake-ups (RELAY_WAKEUP_ADDRESS; empty: it only polls)."""
        self._relay = WakeUpSender(address)

    def add(self, transaction: TransactionCursor, *events: Event) -> None:
        """Write `events` in the caller's transaction; once that commits the relay is woken to publish them."""
        if not events:
            return
        self.insert(transaction, *events)
        transaction.after_commit(self.wake_relay)

    def insert(self, cursor, *events: Event) -> None:
        """Write `events` with any cursor (a tool writing rows directly): the relay finds them at its next poll.
        Several events are one statement (executemany): a consumer adding one event per record of its batch pays
        one round trip."""
        rows = []
        for event in events:
            record = event.record()
            if record.topic not in self.topics:
                raise ValueError(f"{self.table} publishes to {' and '.join(map(repr, self.topics))}, "
                                 f"not {record.topic!r}")
            rows.append((event.event_id, record.topic, record.key, record.value,
                         json.dumps([[name, value.decode()] for name, value in record.headers])))
        if not rows:
            return
        cursor.executemany(f"INSERT INTO {self.table} (event_id, topic, message_key, payload, headers)"
                           " VALUES (?, ?, ?, ?, ?)", rows)

    def wake_relay(self) -> None:
        self._relay.send()


class OutboxRelay(Worker):
    """Publishes one outbox in insertion order, forever, surviving broker and database outages."""

    GAUGE_REFRESH_SECONDS = 1.0
    # How often a standby replica asks whether the publisher is gone.
    STANDBY_RETRY_SECONDS = 1.0

    def __init__(self, settings: Settings, outbox: Outbox, client_id: str):
        super().__init__(settings, client_id)
        self.outbox = outbox
        self._lock_name = f"outbox-relay:{settings.db_name}.{outbox.table}"[:64]
        self._conn: mariadb.Connection | None = None
        self._leader = False
        self._gauges_refreshed = 0.0
        self._wakeups = listen(settings.relay_wakeup_address)
        # Series that exist from the start: rate() and increase() then see the first event and failure.
        for topic in outbox.topics:
            EVENTS_PUBLISHED.labels(topic)
            EVENTS_FAILED.labels(topic)
        LEADER.labels(outbox.table).set(0)

    def step(self) -> bool:
        if not self._lead():
            self.wait(self.STANDBY_RETRY_SECONDS)
            return True
        self._refresh_gauges()
        published = self.publish_batch()
        if 0 < published < self.settings.relay_batch_size:
            # After a batch that was not full, wait RELAY_GATHER_SECONDS before looking again, wake-ups or not:
            # a steady stream of events then goes out in batches, and each batch costs the relay, the broker
            # and the consumer many times what one more event in it costs. An event that follows a quiet
            # spell is published at once.
            self.wait(self.settings.relay_gather_seconds)
        elif published == 0:
            self._wait_for_events()
        return True

    def _wait_for_events(self) -> None:
        """Nothing is waiting: look again when a writer's wake-up arrives, or after the poll interval."""
        if self._wakeups is None:
            self.wait(self.settings.relay_poll_interval)
        else:
            self._wakeups.wait(self.settings.relay_poll_interval)

    def stop(self) -> None:
        super().stop()
        if self._wakeups is not None:
            self._wakeups.interrupt()

    def publish_batch(self) -> int:
        """Publish up to one batch of pending rows; returns how many were acknowledged and marked sent."""
        rows = self._query(
            f"SELECT id, topic, message_key, payload, headers FROM {self.outbox.table}"
            f" WHERE sent_at IS NULL ORDER BY id LIMIT ?", (self.settings.relay_batch_size,))
        if not rows:
            return 0
        records = [self._record(row) for row in rows]
        try:
            # Each record continues the trace its row was written in (docs/tracing.md).
            with tracing.publish_spans(records, self.client_id) as traced:
                self.send_acknowledged(traced)
        except PublishFailed as failed:
            EVENTS_FAILED.labels(records[failed.acknowledged].topic).inc()
            self._mark_sent(rows[:failed.acknowledged])
            raise
        except Exception:
            EVENTS_FAILED.labels(records[0].topic).inc()
            raise
        self._mark_sent(rows)
        return len(rows)

    def on_transient_error(self, exc: BaseException) -> None:
        if isinstance(exc, KafkaError):
            # The backlog gauges matter most while the broker is down: keep them current.
            with contextlib.suppress(TransientDatabaseError, mariadb.Error):
                self._refresh_gauges()

    def close(self) -> None:
        self._disconnect()
        if self._wakeups is not None:
            self._wakeups.close()

    # --- the publisher's session ---------------------------------------------------------------------
    def _lead(self) -> bool:
        """True while this replica holds the publisher lock (taken without waiting when it is free)."""
        if self._conn is None:
            self._conn = self._connect()
            self._leader = False
        if not self._leader:
            self._leader = self._query("SELECT GET_LOCK(?, 0) AS acquired", (self._lock_name,))[0]["acquired"] == 1
            LEADER.labels(self.outbox.table).set(1 if self._leader else 0)
            if self._leader:
                log.info("publishing %s", self.outbox.table, extra={"table": self.outbox.table})
        return self._leader

    def _connect(self) -> mariadb.Connection:
        conn = connect(self.settings)
        # Autocommit: every statement is its own short transaction, so no lock outlives a statement.
        conn.autocommit = True
        return conn

    def _disconnect(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None
        if self._leader:
            log.info("no longer publishing %s", self.outbox.table, extra={"table": self.outbox.table})
        self._leader = False
        LEADER.labels(self.outbox.table).set(0)

    def _query(self, sql: str, params: tuple = ()) -> list[dict]:
        if self._conn is None:
            self._conn = self._connect()
        cursor = self._conn.cursor(dictionary=True)
        try:
            with translated_errors():
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        except DatabaseUnavailable:
            # The session (and with it the publisher lock) is gone; start over with a new one.
            self._disconnect()
            raise
        finally:
            with contextlib.suppress(Exception):
                cursor.close()

    def _mark_sent(self, rows: list[dict]) -> None:
        if not rows:
            return
        self._query(f"UPDATE {self.outbox.table} SET sent_at = NOW(6) WHERE id IN ({', '.join('?' * len(rows))})",
                    tuple(row["id"] for row in rows))
        for topic in self.outbox.topics:
            published = sum(1 for row in rows if self._topic_of(row) == topic)
            if published:
                EVENTS_PUBLISHED.labels(topic).inc(published)

    def _record(self, row: dict) -> Record:
        headers = json.loads(row["headers"])
        if isinstance(headers, dict):
            # Written by a writer of the previous release while a rolling upgrade replaces it (its rows kept
            # their headers as one JSON object); its own migration turned every row pending before it into pairs.
            headers = list(headers.items())
        return Record(topic=self._topic_of(row), key=bytes(row["message_key"]), value=bytes(row["payload"]),
                      headers=[(name, value.encode()) for name, value in headers])

    def _topic_of(self, row: dict) -> str:
        """The row's topic when it is one of the outbox's, else its main topic, as before rows named theirs: a row
        written by hand with another topic must not stop the relay (its consumers dead-letter what is not theirs)."""
        topic = row.get("topic")
        return topic if topic in self.outbox.topics else self.outbox.topic

    def _refresh_gauges(self) -> None:
        now = time.monotonic()
        if now - self._gauges_refreshed < self.GAUGE_REFRESH_SECONDS:
            return
        self._gauges_refreshed = now
        row = self._query(f"SELECT COUNT(*) AS pending, MIN(created_at) AS oldest, NOW(6) AS now"
                          f" FROM {self.outbox.table} WHERE sent_at IS NULL")[0]
        PENDING.labels(self.outbox.table).set(row["pending"])
        oldest: datetime | None = row["oldest"]
        OLDEST_AGE.labels(self.outbox.table).set((row["now"] - oldest).total_seconds() if oldest else 0)
