"""A worker process stops on SIGTERM whenever it comes, and a stop that hangs ends with the stacks in the log.

Regression: the order relay's container once ignored a SIGTERM until the grace period's SIGKILL (exit 137). A
handler installed by the loop could miss a SIGTERM that came before it (PID 1 ignores those) or deadlock on the
Event the loop was waiting on; a thread of their own now takes the signals (services/platform/stop_signals.py)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from tests.support.processes import free_port
from tests.support.stack import ROOT


def start(mode: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.support.signal_worker", mode], cwd=ROOT,
                            env={**os.environ, "METRICS_PORT": str(free_port()), **env},
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def messages(stdout: str) -> list[str]:
    return [json.loads(line)["message"] for line in stdout.splitlines() if line.startswith("{")]


def test_a_sigterm_that_comes_while_the_workers_are_built_stops_them_once_built():
    worker = start("slow-build")
    assert worker.stderr.readline().strip() == "building"
    worker.send_signal(signal.SIGTERM)  # before the worker exists, let alone its loop
    stdout, stderr = worker.communicate("go\n", timeout=30)
    assert worker.returncode == 0, stderr
    logged = messages(stdout)
    assert "SIGTERM received, stopping" in logged
    assert "slow-build stopped" in logged and "companion stopped" in logged


def test_a_stop_that_hangs_writes_every_threads_stack_and_exits_1():
    # A deadline of its own, short: the product's default (WORKER_STOP_SECONDS, 20 s) is the chart's grace minus room.
    worker = start("hung-close", WORKER_STOP_SECONDS="1")
    assert "hung-close started" in messages(worker.stdout.readline())  # its first log line: signals taken by now
    worker.send_signal(signal.SIGTERM)
    stdout, stderr = worker.communicate(timeout=30)
    assert worker.returncode == 1
    assert "not stopped 1 s after SIGTERM" in " ".join(messages(stdout))
    assert "in close" in stderr and "signal_worker.py" in stderr  # where the main thread hangs
