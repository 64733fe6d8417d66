"""The faults, done to the chaos stack's real processes by their current pid: kill, freeze and thaw, hold down
(stopped with the supervisor told not to restart it) and release."""
from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator

from scripts.chaos.stack import ChaosStack
from scripts.stack.holds import hold_process, release_process


def send(stack: ChaosStack, name: str, signum: int) -> int:
    """Signal the process the supervisor runs as `name` now; returns its pid."""
    pid = stack.pid(name)
    os.kill(pid, signum)
    return pid


@contextlib.contextmanager
def frozen(stack: ChaosStack, name: str) -> Iterator[int]:
    """SIGSTOP for the body of the `with`, SIGCONT however it ends: the process neither answers nor dies."""
    pid = send(stack, name, signal.SIGSTOP)
    try:
        yield pid
    finally:
        os.kill(pid, signal.SIGCONT)


def hold_down(stack: ChaosStack, name: str, signum: int = signal.SIGKILL) -> None:
    """Stop `name` and keep it stopped (the supervisor does not restart it) until `release`."""
    hold_process(stack.layout, name, signum)


def release(stack: ChaosStack, name: str) -> None:
    """Let the supervisor start `name` again; returns once it runs and answers."""
    release_process(stack.layout, name)
