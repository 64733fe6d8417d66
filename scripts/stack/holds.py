"""Holding a supervised process down on purpose (a chaos test stopping MariaDB for 10 s, an operator stopping a
consumer): a file per held process under .run/<profile>/holds/ tells the supervisor, which runs in another
process, not to restart it until the file is gone. `hold` and `release` act on a running stack."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from scripts.stack.layout import Layout
from scripts.stack.state import ProcessState, StackState

# A held process stops within its own shutdown time; a released one comes back within its start-up time
# (MariaDB's crash recovery, gunicorn's workers booting) plus one supervision round.
STOP_TIMEOUT = 60.0
START_TIMEOUT = 120.0


class Holds:
    """The hold files of one stack profile."""

    def __init__(self, directory: Path):
        self.directory = directory

    def _path(self, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"not a process name: {name!r}")
        return self.directory / name

    def hold(self, name: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._path(name).touch()

    def release(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def is_held(self, name: str) -> bool:
        return self._path(name).exists()

    def clear(self) -> None:
        """Forget every hold (a new stack starts with none, whatever an earlier run left behind)."""
        for path in self.directory.glob("*"):
            path.unlink(missing_ok=True)


def holds_for(layout: Layout) -> Holds:
    return Holds(layout.run_dir / "holds")


def _process_state(layout: Layout, name: str) -> ProcessState:
    processes = StackState.read(layout.state_file).processes
    if name not in processes:
        raise SystemExit(f"the {layout.profile} stack has no process {name!r}; it has {', '.join(processes)}")
    return processes[name]


def _wait_for_state(layout: Layout, name: str, wanted, what: str, timeout: float) -> ProcessState:
    deadline = time.monotonic() + timeout
    while True:
        process = _process_state(layout, name)
        if wanted(process):
            return process
        if time.monotonic() > deadline:
            raise SystemExit(f"{name} did not {what} within {timeout:.0f}s (state: {process})")
        time.sleep(0.05)


def hold_process(layout: Layout, name: str, signum: int = signal.SIGTERM) -> ProcessState:
    """Stop `name` with `signum` and keep it down; returns its state once the supervisor saw it exit."""
    holds_for(layout).hold(name)
    # The hold file exists before the signal, so the supervisor can never restart the process in between.
    pid = _process_state(layout, name).pid
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass  # it exited on its own just now: held all the same
    return _wait_for_state(layout, name, lambda p: p.held and not p.running, "stop", STOP_TIMEOUT)


def release_process(layout: Layout, name: str) -> ProcessState:
    """Let the supervisor start `name` again; returns its state once it runs and answers."""
    before = _process_state(layout, name)
    holds_for(layout).release(name)
    return _wait_for_state(layout, name, lambda p: p.running and not p.held and p.pid != before.pid,
                           "come back", START_TIMEOUT)
