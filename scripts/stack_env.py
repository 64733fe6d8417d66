"""Prints shell `export` lines for a running stack profile, so scripts and suites can find it."""
from __future__ import annotations

import argparse
import json
import shlex
import sys

from stack import layout_for

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--profile", default="test")
args = parser.parse_args()
layout = layout_for(args.profile)
if not layout.state_file.exists():
    sys.exit(f"the {args.profile} stack is not running: python scripts/stack.py up --profile {args.profile}")
state = json.loads(layout.state_file.read_text())
exports = {
    "BASE_URL": state["base_url"],
    "KAFKA_BOOTSTRAP_SERVERS": state["env"]["KAFKA_BOOTSTRAP_SERVERS"],
    "STACK_STATE": str(layout.state_file),
}
for name, value in exports.items():
    print(f"export {name}={shlex.quote(value)}")
