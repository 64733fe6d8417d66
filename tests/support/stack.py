"""The running test stack, read through the stack's own typed reader of its state file (`StackState`)."""
from __future__ import annotations

from pathlib import Path

from scripts.stack.state import StackState

ROOT = Path(__file__).resolve().parents[2]


def load_state() -> StackState:
    """The stack STACK_STATE names (`make test` exports it), else the `test` profile's."""
    try:
        return StackState.from_environment(ROOT / ".run" / "test" / "state.json")
    except FileNotFoundError as missing:
        raise RuntimeError(f"{missing}: run `make test`, or start one with "
                           "`.venv/bin/python -m scripts.stack up --profile test`") from None


def current_pid(name: str) -> int:
    """A stack process's pid now (the supervisor restarts processes, so it may differ from the first one)."""
    return load_state().pid(name)
