"""Where the running test stack is: read from the state file `scripts/stack.py` writes."""
from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_state() -> dict:
    path = Path(os.environ.get("STACK_STATE", ROOT / ".run" / "test" / "state.json"))
    if not path.exists():
        raise RuntimeError(
            f"no running test stack ({path} is missing): run `make test`, or start one with "
            "`.venv/bin/python scripts/stack.py up --profile test`"
        )
    return json.loads(path.read_text())
