"""Creates Kafka topics that do not exist yet:
`python -m services.platform.kafka_topics NAME=PARTITIONS ... [--config NAME:KEY=VALUE ...]`.

For the local stack and the container smoke; in Kubernetes the Kafka chart's topics Job does this."""
from __future__ import annotations

import argparse
import sys

from services.platform.kafka import ensure_topics
from services.platform.logs import configure_logging
from services.platform.settings import Settings, platform_fields


def parse_topic(argument: str) -> tuple[str, int]:
    name, _, partitions = argument.partition("=")
    if not name or not partitions.isdigit() or int(partitions) < 1:
        raise argparse.ArgumentTypeError(f"expected NAME=PARTITIONS, got {argument!r}")
    return name, int(partitions)


def parse_config(argument: str) -> tuple[str, str, str]:
    name, _, setting = argument.partition(":")
    key, _, value = setting.partition("=")
    if not (name and key and value):
        raise argparse.ArgumentTypeError(f"expected NAME:KEY=VALUE, got {argument!r}")
    return name, key, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("topics", nargs="+", type=parse_topic, metavar="NAME=PARTITIONS")
    parser.add_argument("--config", action="append", type=parse_config, default=[], metavar="NAME:KEY=VALUE",
                        help="a setting a new topic is created with, e.g. account_versions:cleanup.policy=compact")
    args = parser.parse_args(argv)
    configs: dict[str, dict[str, str]] = {}
    for name, key, value in args.config:
        configs.setdefault(name, {})[key] = value
    settings = Settings(**platform_fields(db_name=""))
    configure_logging("topics", settings.log_level)
    ensure_topics(settings, dict(args.topics), configs=configs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
