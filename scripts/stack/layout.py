"""Every port, path and database name of one stack profile; profiles let several stacks run side by side."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROFILES = {
    # name: port offset; any other name needs STACK_PORT_OFFSET.
    "dev": 0,
    "test": 10000,
}


@dataclass(frozen=True)
class Layout:
    profile: str
    offset: int
    # Prefix of the profile's databases and database users, e.g. coffee -> coffee_order, coffee_order_app.
    db_prefix: str

    @property
    def run_dir(self) -> Path:
        return ROOT / ".run" / self.profile

    @property
    def logs(self) -> Path:
        return self.run_dir / "logs"

    def port(self, base: int) -> int:
        return base + self.offset

    @property
    def ingress_port(self) -> int:
        return self.port(8080)

    @property
    def order_port(self) -> int:
        return self.port(5000)

    @property
    def delivery_port(self) -> int:
        return self.port(6000)

    @property
    def kafka_port(self) -> int:
        return self.port(9092)

    @property
    def kafka_controller_port(self) -> int:
        return self.port(9093)

    @property
    def kafka_dir(self) -> Path:
        """The broker's server.properties and, under data/, its log directory (the topics)."""
        return self.run_dir / "kafka"

    @property
    def private_db_port(self) -> int:
        return self.port(3307)

    @property
    def private_db_dir(self) -> Path:
        return ROOT / ".run" / "mariadb" / self.profile

    @property
    def prometheus_port(self) -> int:
        return self.port(9090)

    @property
    def zipkin_port(self) -> int:
        """The local trace backend's UI and API (TRACING=1)."""
        return self.port(9411)

    @property
    def otlp_port(self) -> int:
        """Its OTLP/HTTP receiver, where every process exports (OTLP's own port, 4318)."""
        return self.port(4318)

    @property
    def state_file(self) -> Path:
        return self.run_dir / "state.json"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "stack.pid"


# What points a process at the servers or the state of a stack already running (`python -m scripts.stack env`
# exports them): a tool that starts a stack of its own leaves them out, or that stack would use the other's.
RUNNING_STACK_VARIABLES = frozenset(
    {
        "KAFKA_BOOTSTRAP_SERVERS",
        "KAFKA_SECURITY_PROTOCOL",
        "KAFKA_SASL_MECHANISM",
        "KAFKA_SASL_USERNAME",
        "KAFKA_SASL_PASSWORD",
        "DB_HOST",
        "DB_PORT",
        "STACK_STATE",
        "BASE_URL",
        "ORDER_MS_METRICS_URL",
        "DELIVERY_MS_METRICS_URL",
    }
)


def environment_for_own_stack(**settings: str) -> dict[str, str]:
    """This process's environment without another running stack's addresses, plus `settings`."""
    return {**{k: v for k, v in os.environ.items() if k not in RUNNING_STACK_VARIABLES}, **settings}


def layout_for(profile: str, starting: bool = True) -> Layout:
    """The profile's layout; only a stack being started needs its ports (to stop or read one, its folder is enough)."""
    if starting and profile not in PROFILES and "STACK_PORT_OFFSET" not in os.environ:
        raise SystemExit(f"profile {profile!r} is not dev or test: set STACK_PORT_OFFSET for its ports")
    offset = int(os.environ.get("STACK_PORT_OFFSET", PROFILES.get(profile, 0)))
    default_prefix = "coffee" if profile == "dev" else f"coffee_{profile.replace('-', '_')}"
    return Layout(profile, offset, os.environ.get("STACK_DB_PREFIX", default_prefix))
