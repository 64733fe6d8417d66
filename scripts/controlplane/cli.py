"""Command line: `up` and `down` the local control plane, `verify` the chart against it."""
from __future__ import annotations

import sys

from scripts.controlplane import cluster, verify


def main() -> None:
    command, rest = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if command == "up":
        cluster.up()
    elif command == "down":
        cluster.down()
    elif command == "verify":
        verify.main(rest)
    else:
        raise SystemExit("usage: python -m scripts.controlplane up|down|verify [--chart PATH]")
