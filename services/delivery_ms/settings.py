"""delivery-ms's settings (its API, relay and consumer): the platform's plus the consumer group (README table)."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from services.platform.settings import Settings, env_str, platform_fields

DEFAULT_DATABASE = "coffee_delivery"


@dataclass(frozen=True)
class DeliverySettings(Settings):
    consumer_group: str


def load_settings() -> DeliverySettings:
    return DeliverySettings(**platform_fields(db_name=DEFAULT_DATABASE),
                            consumer_group=env_str("CONSUMER_GROUP", "delivery-consumer"))


@functools.lru_cache(maxsize=1)
def get_settings() -> DeliverySettings:
    """The process-wide settings, read on first use."""
    return load_settings()
