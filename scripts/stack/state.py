"""The stack's state file (.run/<profile>/state.json): where everything is, for `make status`, the tests and
the tools. Written once everything is up and again whenever a process restarts; it holds the stack's secrets,
so only its owner can read it."""
from __future__ import annotations

import json
from pathlib import Path


def write_state(path: Path, state: dict) -> None:
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(state, indent=2))
    partial.chmod(0o600)
    partial.replace(path)


def read_state(path: Path) -> dict:
    return json.loads(path.read_text())
