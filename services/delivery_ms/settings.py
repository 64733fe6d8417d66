"""delivery-ms's settings (its API, relay and consumer): the platform's plus the consumer's group and stall limit
(docs/configuration.md)."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from services.platform.settings import Settings, env_float, env_str, platform_fields

DEFAULT_DATABASE = "coffee_delivery"


@dataclass(frozen=True)
class DeliverySettings(Settings):
    consumer_group: str
    # Seconds the consumer may have work (lag, or records in hand) without committing before /healthz says 503.
    consumer_stall_seconds: float


def load_settings() -> DeliverySettings:
    return DeliverySettings(**platform_fields(db_name=DEFAULT_DATABASE),
                            consumer_group=env_str("CONSUMER_GROUP", "delivery-consumer"),
                            consumer_stall_seconds=env_float("CONSUMER_STALL_SECONDS", 120.0))


@functools.lru_cache(maxsize=1)
def get_settings() -> DeliverySettings:
    """The process-wide settings, read on first use."""
    return load_settings()
