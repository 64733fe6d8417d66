"""The smoke's names, folders and ports, and its log line."""
from __future__ import annotations

from dataclasses import dataclass, field

from scripts.stack.kafka_access import chart_definition
from scripts.stack.layout import ROOT

PODMAN_DIR = ROOT / ".run" / "podman"
RUN_DIR = ROOT / ".run" / "container-smoke"
HELM = ROOT / ".tools" / "bin" / "helm"
CHART = ROOT / "charts" / "coffee-order"
# Bump when podman.build_base_image changes, so cached base images from an older recipe are not reused.
BASE_IMAGE = "localhost/coffee-base:bookworm-1"
IMAGES = {
    "order": ("Dockerfile.order", "localhost/coffee-order"),
    "delivery": ("Dockerfile.delivery", "localhost/coffee-delivery"),
}
IMAGE_TAG = "smoke"
CONTAINER_PREFIX = "coffee-smoke-"
# Secrets the chart reads from Secrets it does not create here (global.secrets=existing).
TOKEN_SIGNING_KEY_SECRET = "smoke-token-signing-key"
TOKEN_PUBLIC_KEYS_SECRET = "smoke-token-public-keys"
DATABASES = {"order": "coffee_smoke_order", "delivery": "coffee_smoke_delivery"}
KAFKA_USERS = tuple(chart_definition().users)
# The exit status of a smoke skipped on request (automake's convention for a skipped test).
SKIPPED = 77


def log(message: str) -> None:
    print(f"[container-smoke] {message}", flush=True)


@dataclass
class Ports:
    """The standard ports shifted by CONTAINER_SMOKE_PORT_OFFSET."""

    offset: int
    order: int = field(init=False)
    delivery: int = field(init=False)
    ingress: int = field(init=False)
    broker: int = field(init=False)
    order_stream: int = field(init=False)
    delivery_stream: int = field(init=False)

    def __post_init__(self):
        self.order, self.delivery = 5000 + self.offset, 6000 + self.offset
        self.order_stream, self.delivery_stream = 5003 + self.offset, 6003 + self.offset
        self.ingress, self.broker = 8080 + self.offset, 9092 + self.offset

