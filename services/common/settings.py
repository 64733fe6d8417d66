"""One settings object per process, read once from environment variables (documented in README)."""
from __future__ import annotations

import functools
import os
import secrets
from dataclasses import dataclass


class SettingsError(RuntimeError):
    """The environment cannot run this process; the message says which variable to set."""


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from exc


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


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
    kafka_bootstrap_servers: str
    kafka_session_timeout_ms: int
    kafka_heartbeat_interval_ms: int
    kafka_request_timeout_ms: int
    consumer_group: str
    relay_poll_interval: float
    relay_batch_size: int
    jwt_secret: str
    jwt_ttl_seconds: int
    demo_accounts: bool
    login_max_failures: int
    login_lockout_seconds: int
    login_max_failures_per_client: int
    trusted_proxy_hops: int
    forwarded_allow_ips: str
    metrics_port: int
    log_level: str

    @property
    def local_mode(self) -> bool:
        return self.app_env == "local"


def load_settings() -> Settings:
    """Build settings from the environment; refuses production without a token secret."""
    app_env = _env("APP_ENV", "local").strip().lower()
    if app_env not in {"local", "production"}:
        raise SettingsError(f"APP_ENV must be 'local' or 'production', got {app_env!r}")
    jwt_secret = os.environ.get("JWT_SECRET", "")
    if not jwt_secret:
        if app_env != "local":
            raise SettingsError(
                "JWT_SECRET is not set: outside local mode the services refuse to start without "
                "a token secret (in Kubernetes it comes from the chart's Secret)"
            )
        # Local mode without a secret: tokens only live as long as this process, which is fine
        # for a throwaway stack; the local stack script passes one secret to every process.
        jwt_secret = secrets.token_urlsafe(32)
    return Settings(
        app_env=app_env,
        db_host=_env("DB_HOST", "127.0.0.1"),
        db_port=_int("DB_PORT", 3306),
        db_user=_env("DB_USER", "root"),
        db_password=_env("DB_PASSWORD", ""),
        db_name=_env("DB_NAME", "coffee"),
        db_pool_size=_int("DB_POOL_SIZE", 4),
        db_connect_timeout=_int("DB_CONNECT_TIMEOUT", 3),
        kafka_bootstrap_servers=_env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        kafka_session_timeout_ms=_int("KAFKA_SESSION_TIMEOUT_MS", 6000),
        kafka_heartbeat_interval_ms=_int("KAFKA_HEARTBEAT_INTERVAL_MS", 1000),
        kafka_request_timeout_ms=_int("KAFKA_REQUEST_TIMEOUT_MS", 5000),
        consumer_group=_env("CONSUMER_GROUP", "delivery-consumer"),
        relay_poll_interval=_float("RELAY_POLL_INTERVAL_SECONDS", 0.05),
        relay_batch_size=_int("RELAY_BATCH_SIZE", 200),
        jwt_secret=jwt_secret,
        jwt_ttl_seconds=_int("JWT_TTL_SECONDS", 3600),
        demo_accounts=_bool("DEMO_ACCOUNTS", app_env == "local"),
        login_max_failures=_int("LOGIN_MAX_FAILURES", 5),
        login_lockout_seconds=_int("LOGIN_LOCKOUT_SECONDS", 300),
        login_max_failures_per_client=_int("LOGIN_MAX_FAILURES_PER_CLIENT", 50),
        trusted_proxy_hops=_int("TRUSTED_PROXY_HOPS", 1),
        # The same variable tells gunicorn whose X-Forwarded-* headers to believe.
        forwarded_allow_ips=_env("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        metrics_port=_int("METRICS_PORT", 9100),
        log_level=_env("LOG_LEVEL", "INFO").upper(),
    )


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return load_settings()
