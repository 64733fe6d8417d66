"""A worker process for the stop-signal tests (`python -m tests.support.signal_worker MODE`), run through the
product's run_worker with the platform's settings from the environment.

slow-build  building the worker waits for a line on standard input, after saying "building" on standard error, so
            a test can send SIGTERM while the workers are being built.
hung-close  the worker's close() never returns: a stop that hangs."""
from __future__ import annotations

import sys
import threading

from services.platform.settings import Settings, platform_fields
from services.platform.worker import Worker, run_worker


class IdleWorker(Worker):
    def step(self) -> bool:
        self.wait(0.05)
        return True


class HungCloseWorker(IdleWorker):
    def close(self) -> None:
        threading.Event().wait()


def built_after_a_line_on_stdin(settings: Settings) -> Worker:
    print("building", file=sys.stderr, flush=True)
    sys.stdin.readline()
    return IdleWorker(settings, "slow-build")


if __name__ == "__main__":
    settings = Settings(**platform_fields("signal_worker"))
    if sys.argv[1] == "slow-build":
        run_worker("signal-worker", settings, built_after_a_line_on_stdin, lambda s: IdleWorker(s, "companion"))
    else:
        run_worker("signal-worker", settings, lambda s: HungCloseWorker(s, "hung-close"))
