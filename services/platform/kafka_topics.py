"""Creates Kafka topics that do not exist yet: `python -m services.platform.kafka_topics NAME=PARTITIONS ...`.

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("topics", nargs="+", type=parse_topic, metavar="NAME=PARTITIONS")
    args = parser.parse_args(argv)
    settings = Settings(**platform_fields(db_name=""))
    configure_logging("topics", settings.log_level)
    ensure_topics(settings, dict(args.topics))
    return 0


if __name__ == "__main__":
    sys.exit(main())
