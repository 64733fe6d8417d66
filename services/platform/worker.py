"""The one runtime for every long-running loop (outbox relays, consumers): stop on SIGTERM, back off while a
dependency is down, own a producer and publish with acknowledgement, and the process entry point."""
from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterable

import mariadb
from kafka.errors import KafkaError

from services.platform.db import TransientDatabaseError
from services.platform.kafka import close_quietly, connection_options, create_producer
from services.platform.logs import configure_logging
from services.platform.metrics import WORKER_METRICS_PORT, serve_metrics
from services.platform.records import Record
from services.platform.settings import Settings
from services.platform.stop_signals import StopSignals
from services.platform.tracing import configure_tracing
from services.platform.tracing import shutdown as shutdown_tracing

log = logging.getLogger(__name__)


class PublishFailed(KafkaError):
    """The broker acknowledged only the first `acknowledged` records of a send; the rest must be retried."""

    def __init__(self, acknowledged: int, cause: object):
        super().__init__(f"{acknowledged} records acknowledged, then: {cause}")
        self.acknowledged = acknowledged
        self.cause = cause


class Backoff:
    """Waits that double from `first` up to `maximum` seconds while a dependency stays down."""

    def __init__(self, first: float = 0.2, maximum: float = 5.0):
        self.first = first
        self.maximum = maximum
        self._current = 0.0

    def next(self) -> float:
        self._current = min(self.maximum, max(self.first, self._current * 2))
        return self._current

    def reset(self) -> None:
        self._current = 0.0


class Worker:
    """A loop of `step()` until SIGTERM. Failures of a dependency (the broker or the database unreachable or
    busy) are logged, waited out with backoff and retried; the producer is replaced after a failure, so
    nothing stale stays buffered to be sent out of order.

    A query error is retried the same way: it is not one message's fault (a worker dead-letters those
    itself), and exiting would only restart the same loop; the log and the backlog alerts show it."""

    TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (KafkaError, TransientDatabaseError, mariadb.Error)

    def __init__(self, settings: Settings, client_id: str):
        self.settings = settings
        self.client_id = client_id
        self.backoff = Backoff()
        self._stop = threading.Event()
        self._producer = None

    # --- to be provided by each worker ------------------------------------------------------------------
    def step(self) -> bool:
        """One unit of work; True when it proved its dependencies are back (so the backoff starts over)."""
        raise NotImplementedError

    def on_transient_error(self, exc: BaseException) -> None:
        """Called after a failed step, before the backoff wait (e.g. to rewind or refresh a gauge)."""

    def close(self) -> None:
        """Release what the worker holds; the producer is closed by the runtime after this."""

    def health(self) -> tuple[bool, str]:
        """(alive, why) for the liveness probe (`/healthz`), asked from the metrics thread: False when the loop has
        work it has not moved for too long, so that the process is restarted; by default always alive."""
        return True, "running"

    # --- the runtime ---------------------------------------------------------------------------------------
    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        # Never from a signal handler (stop_signals.py): one could run inside wait() while this thread holds the
        # Event's lock, and Event.set() would then wait for it forever (seen with gdb: a relay that never stopped).
        self._stop.set()

    def wait(self, seconds: float) -> None:
        """Sleep that a SIGTERM cuts short."""
        self._stop.wait(seconds)

    def run(self) -> None:
        """The loop until stop() (run_worker calls it on SIGTERM, from a thread of its own: stop_signals.py)."""
        log.info("%s started", self.client_id)
        while not self.stopping:
            try:
                if self.step():
                    self.backoff.reset()
            except self.TRANSIENT_ERRORS as exc:
                self.drop_producer()
                self.on_transient_error(exc)
                delay = self.backoff.next()
                log.warning("%s cannot work yet, retrying in %.1fs: %s", self.client_id, delay, exc,
                            extra={"error_type": type(exc).__name__})
                self.wait(delay)
        self.close()
        if self._producer is not None:
            self._producer.close(timeout=self.settings.kafka_request_timeout_ms / 1000)
            self._producer = None
        log.info("%s stopped", self.client_id)

    # --- publishing ------------------------------------------------------------------------------------------
    def producer(self):
        if self._producer is None:
            self._producer = create_producer(self.settings, self.client_id)
        return self._producer

    def drop_producer(self) -> None:
        if self._producer is not None:
            close_quietly(self._producer)
            self._producer = None

    def send_acknowledged(self, records: Iterable[Record]) -> int:
        """Send `records` in order and wait until the broker acknowledged them (acks=all).

        Returns how many were sent; raises PublishFailed naming the acknowledged prefix otherwise."""
        producer = self.producer()
        futures = [producer.send(r.topic, key=r.key, value=r.value, headers=r.headers) for r in records]
        producer.flush(timeout=self.settings.kafka_request_timeout_ms / 1000 * 2)
        for position, future in enumerate(futures):
            # Order matters: everything after the first failure is retried, even if it got through.
            if not future.is_done or future.failed():
                raise PublishFailed(position, future.exception if future.is_done else "no acknowledgement in time")
        return len(futures)


def run_worker(service: str, settings: Settings, build: Callable[[Settings], Worker],
               *beside: Callable[[Settings], Worker]) -> None:
    """A worker process's main: JSON logs, `/metrics` and `/healthz` on METRICS_PORT, the worker until SIGTERM,
    exit 0. Workers built by `beside` run in threads of the same process (a periodic check next to a relay, without
    a Deployment of its own), share its metrics port and liveness, and stop with it."""
    signals = StopSignals()  # before anything else: a SIGTERM that comes while the workers are built is kept
    configure_logging(service, settings.log_level)
    connection_options(settings)  # a Kafka login that cannot work stops the process now, not at its first client
    worker = build(settings)
    # The process's worker names it in traces (its client id), as it does towards Kafka.
    configure_tracing(worker.client_id)
    companions = [make(settings) for make in beside]
    threads = [threading.Thread(target=companion.run, name=companion.client_id, daemon=True)
               for companion in companions]
    for thread in threads:
        thread.start()
    serve_metrics(settings.metrics_port or WORKER_METRICS_PORT, lambda: health_of([worker, *companions], threads))
    signals.stop_on_signal([worker, *companions], settings.worker_stop_seconds)
    worker.run()
    for companion in companions:
        companion.stop()
    for thread in threads:
        thread.join(timeout=settings.kafka_request_timeout_ms / 1000 * 2)
    shutdown_tracing()  # the last spans are exported before the process ends
    signals.finished.set()
    sys.exit(0)


def health_of(workers: list[Worker], threads: list[threading.Thread] = ()) -> tuple[bool, str]:
    """Alive while every worker is, and every companion's thread (`threads`, of workers[1:]) still runs; else the
    first stalled or dead one's reason, named (a worker thread killed by a bug must restart the process)."""
    for companion, thread in zip(workers[1:], threads, strict=False):
        if not thread.is_alive() and not companion.stopping:
            return False, f"{companion.client_id} stopped unexpectedly (see its log)"
    answers = [worker.health() for worker in workers]
    for worker, (alive, why) in zip(workers, answers, strict=True):
        if not alive:
            return False, f"{worker.client_id}: {why}" if len(workers) > 1 else why
    return True, answers[0][1]  # the process's own worker says how it is doing
