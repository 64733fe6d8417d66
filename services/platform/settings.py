"""Settings every process shares, read once from environment variables (documented in docs/configuration.md).

A service extends `Settings` with its own fields and builds it with `platform_fields(...)` plus its own
readers, so there is one settings object per process and one way to read a variable."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


class SettingsError(RuntimeError):
    """The environment cannot run this process; the message says which variable to set."""


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _env_number(name: str, default, convert, what: str):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return convert(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be {what}, got {raw!r}") from exc


def env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "an integer")


def env_optional_int(name: str) -> int | None:
    """The integer the variable holds, or None when it is unset or empty."""
    return _env_number(name, None, int, "an integer")


def env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).strip()
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


KAFKA_SECURITY_PROTOCOLS = ("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL")
KAFKA_SASL_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")
# Which requests the HTTP services log: every one, only those answered with an error (4xx, 5xx), or none.
ACCESS_LOG_CHOICES = ("all", "errors", "off")
# Open streams one stream process serves before it answers 503 (measured: docs/decisions/0006-stream-serving.md).
DEFAULT_STREAM_MAX_PER_INSTANCE = 1000


@dataclass(frozen=True)
class Settings:
    app_env: str
    db_host: str
    db_port: int
    db_user: str
    db_password: str
    db_name: str
    db_pool_size: int
    db_connect_timeout: int
    db_read_timeout: int
    kafka_bootstrap_servers: str
    kafka_security_protocol: str
    kafka_sasl_mechanism: str
    kafka_sasl_username: str
    kafka_sasl_password: str
    kafka_ssl_cafile: str
    kafka_session_timeout_ms: int
    kafka_heartbeat_interval_ms: int
    kafka_request_timeout_ms: int
    kafka_fetch_max_wait_ms: int
    relay_poll_interval: float
    relay_batch_size: int
    relay_gather_seconds: float
    relay_wakeup_address: str
    # Workers: how long after SIGTERM the process may take to stop before it writes every thread's stack to its log
    # and exits 1 (below the chart's 30 s grace period, so the reason is logged before the kubelet's SIGKILL).
    worker_stop_seconds: float
    # The public keys that verify access tokens (auth.verifying_keys_for); read by the HTTP services only.
    token_public_keys_file: str
    # How long an HTTP process trusts an account's token version it read (token_versions.TokenVersionCache): the
    # longest a revocation made on another instance takes to reach it.
    token_version_cache_seconds: float
    # Workers: where /metrics and /healthz are served (default 9100). HTTP services: a port of their own for
    # /metrics and the health checks (none: /metrics is on the API port).
    metrics_port: int | None
    log_level: str
    access_log: str
    # The live streams' processes (streams.py); read by them only.
    stream_heartbeat_seconds: float
    stream_poll_interval: float
    stream_max_per_instance: int
    stream_gap_seconds: float

    @property
    def local_mode(self) -> bool:
        return self.app_env == "local"


def platform_fields(db_name: str) -> dict[str, Any]:
    """The shared fields from the environment; `db_name` is the service's own database by default."""
    app_env = env_str("APP_ENV", "local").strip().lower()
    if app_env not in {"local", "production"}:
        raise SettingsError(f"APP_ENV must be 'local' or 'production', got {app_env!r}")
    # A SASL login without a principal is refused where a Kafka client is made (kafka.connection_options):
    # migrations and the HTTP services share the protocol setting but have no principal of their own.
    security_protocol = env_choice("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT", KAFKA_SECURITY_PROTOCOLS)
    sasl_username = env_str("KAFKA_SASL_USERNAME", "")
    return dict(
        app_env=app_env,
        db_host=env_str("DB_HOST", "127.0.0.1"),
        db_port=env_int("DB_PORT", 3306),
        db_user=env_str("DB_USER", "root"),
        db_password=env_str("DB_PASSWORD", ""),
        db_name=env_str("DB_NAME", db_name),
        db_pool_size=env_int("DB_POOL_SIZE", 4),
        db_connect_timeout=env_int("DB_CONNECT_TIMEOUT", 3),
        # Well below GUNICORN_TIMEOUT (30 s): a database that stops answering gets the caller a 503 before
        # gunicorn kills the worker that waits for it (which the caller would see as a dropped connection).
        db_read_timeout=env_int("DB_READ_TIMEOUT", 10),
        kafka_bootstrap_servers=env_str("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        kafka_security_protocol=security_protocol,
        kafka_sasl_mechanism=env_choice("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512", KAFKA_SASL_MECHANISMS),
        kafka_sasl_username=sasl_username,
        kafka_sasl_password=env_str("KAFKA_SASL_PASSWORD", ""),
        kafka_ssl_cafile=env_str("KAFKA_SSL_CAFILE", ""),
        kafka_session_timeout_ms=env_int("KAFKA_SESSION_TIMEOUT_MS", 6000),
        kafka_heartbeat_interval_ms=env_int("KAFKA_HEARTBEAT_INTERVAL_MS", 2000),
        kafka_request_timeout_ms=env_int("KAFKA_REQUEST_TIMEOUT_MS", 5000),
        # Twice Kafka's default: an idle consumer sends one fetch a second, and a record that arrives is answered at
        # once (docs/performance.md).
        kafka_fetch_max_wait_ms=env_int("KAFKA_FETCH_MAX_WAIT_MS", 1000),
        relay_poll_interval=env_float("RELAY_POLL_INTERVAL_SECONDS", 0.05),
        relay_batch_size=env_int("RELAY_BATCH_SIZE", 200),
        relay_gather_seconds=env_float("RELAY_GATHER_SECONDS", 0.05),
        relay_wakeup_address=env_str("RELAY_WAKEUP_ADDRESS", ""),
        worker_stop_seconds=env_float("WORKER_STOP_SECONDS", 20.0),
        token_public_keys_file=env_str("TOKEN_PUBLIC_KEYS_FILE", ""),
        token_version_cache_seconds=env_float("TOKEN_VERSION_CACHE_SECONDS", 2.0),
        metrics_port=env_optional_int("METRICS_PORT"),
        log_level=env_str("LOG_LEVEL", "INFO").upper(),
        access_log=env_choice("ACCESS_LOG", "errors", ACCESS_LOG_CHOICES),
        # Below every proxy's idle timeout (ingress-nginx's proxy-read-timeout is 60 s by default).
        stream_heartbeat_seconds=env_float("STREAM_HEARTBEAT_SECONDS", 15.0),
        stream_poll_interval=env_float("STREAM_POLL_INTERVAL_SECONDS", 0.2),
        stream_max_per_instance=env_int("STREAM_MAX_PER_INSTANCE", DEFAULT_STREAM_MAX_PER_INSTANCE),
        stream_gap_seconds=env_float("STREAM_GAP_SECONDS", 5.0),
    )
