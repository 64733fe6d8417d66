"""Kafka clients configured once for every process: an acks=all producer, a manual-commit consumer, topics."""
from __future__ import annotations

import logging

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from services.platform.settings import Settings, SettingsError

log = logging.getLogger(__name__)


def _servers(settings: Settings) -> list[str]:
    return [server.strip() for server in settings.kafka_bootstrap_servers.split(",") if server.strip()]


def connection_options(settings: Settings) -> dict:
    """Where the brokers are and how to authenticate: the options every client of every process shares.

    Refuses SASL without a principal (SettingsError)."""
    if settings.kafka_security_protocol.startswith("SASL") and not settings.kafka_sasl_username:
        raise SettingsError(f"KAFKA_SECURITY_PROTOCOL={settings.kafka_security_protocol} needs KAFKA_SASL_USERNAME"
                            " and KAFKA_SASL_PASSWORD")
    options: dict = {"bootstrap_servers": _servers(settings), "security_protocol": settings.kafka_security_protocol}
    if settings.kafka_security_protocol.startswith("SASL"):
        options.update(sasl_mechanism=settings.kafka_sasl_mechanism, sasl_plain_username=settings.kafka_sasl_username,
                       sasl_plain_password=settings.kafka_sasl_password)
    if settings.kafka_security_protocol.endswith("SSL") and settings.kafka_ssl_cafile:
        options["ssl_cafile"] = settings.kafka_ssl_cafile
    return options


def create_producer(settings: Settings, client_id: str) -> KafkaProducer:
    """A producer that only reports success once every in-sync replica has the record."""
    return KafkaProducer(
        **connection_options(settings),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        # Room for a whole relay batch per partition in one producer batch: each new producer batch costs
        # about as much as ten records (the default 16 KiB held some forty of ours).
        batch_size=256 * 1024,
        request_timeout_ms=settings.kafka_request_timeout_ms,
        # Bounded waits: when the broker is gone the relay must get control back and retry.
        max_block_ms=settings.kafka_request_timeout_ms,
        bootstrap_timeout_ms=settings.kafka_request_timeout_ms,
        delivery_timeout_ms=settings.kafka_request_timeout_ms * 2,
        reconnect_backoff_max_ms=2000,
        # kafka-python's own sensors are read by nothing here and cost CPU on every send.
        metrics_enabled=False,
    )


def close_quietly(producer: KafkaProducer) -> None:
    """Drop a producer after a failure without waiting: a fresh one keeps nothing stale buffered."""
    try:
        producer.close(timeout=0)
    except Exception:  # noqa: BLE001 - closing a broken producer may fail in many ways
        log.debug("closing a producer failed", exc_info=True)


def create_consumer(settings: Settings, client_id: str, group_id: str) -> KafkaConsumer:
    """A group consumer that never commits on its own: callers commit after their database commit."""
    return KafkaConsumer(
        **connection_options(settings),
        client_id=client_id,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        request_timeout_ms=max(settings.kafka_request_timeout_ms, settings.kafka_session_timeout_ms + 5000),
        # Up to 2000 records a batch: a batch's fixed costs (its transaction's commit, the offsets' commit, each
        # statement's round trip) are then spread over four times as many records as kafka-python's default 500
        # (+12 % from a backlog, docs/performance.md#the-consumer-from-a-backlog); a poll returns at once what has
        # arrived, so a small load still goes in small batches.
        max_poll_records=2000,
        # How long the broker may hold a fetch that finds nothing new (Kafka answers as soon as a record
        # arrives): each idle fetch costs the consumer and the broker CPU.
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        metrics_enabled=False,
        reconnect_backoff_max_ms=2000,
        # Without a broker, give control back soon: the caller retries and stays responsive to SIGTERM.
        bootstrap_timeout_ms=settings.kafka_request_timeout_ms,
    )


def ensure_topics(settings: Settings, partitions: dict[str, int], replication_factor: int = 1,
                  configs: dict[str, dict[str, str]] | None = None) -> None:
    """Create the topics that do not exist yet (idempotent), each with its `configs` (topic settings)."""
    admin = KafkaAdminClient(**connection_options(settings), client_id="topics",
                             request_timeout_ms=settings.kafka_request_timeout_ms * 2)
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(name, count, replication_factor, topic_configs=(configs or {}).get(name, {}))
            for name, count in partitions.items() if name not in existing
        ]
        if wanted:
            try:
                admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass
            log.info("created topics %s", [topic.name for topic in wanted])
    finally:
        admin.close()
