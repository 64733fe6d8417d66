"""How a worker process learns it must stop: SIGTERM (the kubelet, podman, the local supervisor) or SIGINT (Ctrl-C).

Both are blocked in every thread from the first line of the process's main, and one thread of their own takes them
with sigwait() and stops the workers from there. Nothing runs inside a signal handler, which rules out two ways a
worker used to miss its SIGTERM now and then:
- a handler runs in the main thread between any two bytecodes, also while that thread holds the lock of the
  threading.Event the handler sets (inside Event.wait), and then waits for itself forever;
- a signal that arrives before a handler is installed takes its default action, and for PID 1 in a container that
  is to ignore it: the container then runs until the grace period ends in SIGKILL.
A blocked signal stays pending until it is taken, however early it came."""
from __future__ import annotations

import faulthandler
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Protocol

log = logging.getLogger(__name__)

STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})


class Stoppable(Protocol):
    def stop(self) -> None: ...


class StopSignals:
    """Create it first thing in a process's main, before any thread starts (threads inherit the blocked set)."""

    def __init__(self):
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        self.finished = threading.Event()

    def stop_on_signal(self, workers: Sequence[Stoppable], deadline_seconds: float) -> None:
        """From now on the first SIGTERM or SIGINT stops `workers`; a process that has not called `finished.set()`
        `deadline_seconds` later writes every thread's stack to standard error and exits 1, so a stop that hangs
        says where, instead of ending in a silent SIGKILL."""
        threading.Thread(target=self._stop_when_signalled, args=(workers, deadline_seconds), name="stop-signals",
                         daemon=True).start()

    def _stop_when_signalled(self, workers: Sequence[Stoppable], deadline_seconds: float) -> None:
        name = signal.Signals(signal.sigwait(STOP_SIGNALS)).name
        log.info("%s received, stopping", name, extra={"signal": name})
        for worker in workers:
            worker.stop()
        if self.finished.wait(deadline_seconds):
            return
        log.error("not stopped %.0f s after %s; the stack of every thread follows on standard error, then exit 1",
                  deadline_seconds, name, extra={"signal": name})
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        os._exit(1)
