"""Starts the stack's processes with their logs in files, restarts one that exits unexpectedly (with
backoff, as Kubernetes restarts a container) unless it is held down on purpose, restarts one whose liveness
probe keeps failing (as the kubelet does), and stops them all in reverse order."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scripts.stack.env_overrides import read_overrides, with_overrides
from scripts.stack.holds import Holds
from scripts.stack.layout import ROOT
from scripts.stack.waiting import log

# The first restart comes quickly; a process that keeps failing is retried less and less often.
FIRST_RESTART_DELAY = 0.5
MAX_RESTART_DELAY = 30.0
# A process that ran this long before it exited was healthy: its next restart is quick again.
STABLE_SECONDS = 10.0
# Liveness, as the chart's probes: asked this often, this many failures in a row restart the process (SIGTERM,
# then SIGKILL after the grace: a stuck loop may not get to its SIGTERM handler).
PROBE_PERIOD_SECONDS = 5.0
PROBE_TIMEOUT_SECONDS = 2.0
PROBE_FAILURES = 3
KILL_GRACE_SECONDS = 10.0


@dataclass
class ProcessSpec:
    """How to run one process; `after_start` runs after every start (e.g. waiting until it answers);
    `health_url`, when set, is its liveness probe (any answer but 2xx, or none in time, is a failure)."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    after_start: Callable[[subprocess.Popen], None] | None = None
    health_url: str | None = None


@dataclass
class Child:
    spec: ProcessSpec
    process: subprocess.Popen
    started_at: float
    started_wall: float = field(default_factory=time.time)
    restarts: int = 0
    failures_in_a_row: int = 0
    restart_at: float | None = None
    last_exit_code: int | None = None
    probe_at: float = 0.0
    probe_failures: int = 0
    kill_at: float | None = None
    liveness_restarts: int = 0
    last_probe_failure: str | None = None


class Supervisor:
    def __init__(self, logs: Path, echo: bool, on_change: Callable[[], None] = lambda: None,
                 holds: Holds | None = None, env_overrides: Path | None = None):
        self.logs = logs
        self.echo = echo
        self.on_change = on_change
        # Processes held down on purpose (scripts/stack/holds.py); without holds, every exit is restarted.
        self.holds = holds
        # What every process gets on top of its own environment from its next start (scripts/stack/env_overrides.py).
        self.env_overrides = env_overrides
        self.children: dict[str, Child] = {}
        self.stopping = False

    def start(self, spec: ProcessSpec, wait: bool = True) -> subprocess.Popen:
        """First start of a process; it is supervised from now on. With wait=False, call `wait_ready` later
        (so that several processes can boot at once)."""
        process = self._spawn(spec)
        self.children[spec.name] = Child(spec, process, time.monotonic())
        if wait:
            self.wait_ready(spec.name)
        return process

    def wait_ready(self, name: str) -> None:
        child = self.children[name]
        if child.spec.after_start:
            child.spec.after_start(child.process)

    def pid(self, name: str) -> int:
        return self.children[name].process.pid

    def watch(self) -> None:
        """One supervision round: notice exits, and restart what is due and not held down."""
        if self.stopping:
            return
        now = time.monotonic()
        changed = False
        for name, child in self.children.items():
            if child.restart_at is None and child.process.poll() is not None:
                self._schedule_restart(name, child, now)
                changed = True
            elif child.restart_at is not None and now >= child.restart_at and not self._held(name):
                self._restart(name, child)
                changed = True
            elif child.restart_at is None:
                changed = self._check_liveness(name, child, now) or changed
        if changed:
            self.on_change()

    def _check_liveness(self, name: str, child: Child, now: float) -> bool:
        """Probe a running process when due; restart it after PROBE_FAILURES failures in a row. True when it
        was told to stop. A process stopped on purpose (SIGSTOP, by a test or the bench) is left alone."""
        if child.kill_at is not None:
            if now >= child.kill_at:
                log(f"{name} did not stop within {KILL_GRACE_SECONDS:.0f}s of SIGTERM; killing it")
                child.process.kill()
                child.kill_at = None
            return False
        if child.spec.health_url is None or now < child.probe_at or self._held(name) or _stopped(child.process.pid):
            return False
        child.probe_at = now + PROBE_PERIOD_SECONDS
        failure = _probe(child.spec.health_url)
        if failure is None:
            child.probe_failures = 0
            return False
        child.probe_failures += 1
        child.last_probe_failure = failure
        if child.probe_failures < PROBE_FAILURES:
            return False
        log(f"{name} failed its liveness probe {child.probe_failures} times in a row ({failure}); restarting it")
        child.probe_failures = 0
        child.liveness_restarts += 1
        child.process.send_signal(signal.SIGTERM)
        child.kill_at = now + KILL_GRACE_SECONDS
        return True

    def _held(self, name: str) -> bool:
        return self.holds is not None and self.holds.is_held(name)

    def _schedule_restart(self, name: str, child: Child, now: float) -> None:
        child.last_exit_code = child.process.returncode
        ran = now - child.started_at
        if self._held(name):
            # Stopped on request, which says nothing about its health: back without backoff once released.
            child.restart_at = now
            log(f"{name} exited with code {child.process.returncode} after {ran:.1f}s; held down until released")
            return
        child.failures_in_a_row = 0 if ran >= STABLE_SECONDS else child.failures_in_a_row + 1
        delay = min(MAX_RESTART_DELAY, FIRST_RESTART_DELAY * 2 ** max(0, child.failures_in_a_row - 1))
        child.restart_at = now + delay
        log(f"{name} exited with code {child.process.returncode} after {ran:.1f}s; restarting in {delay:.1f}s"
            f" (log: {self.logs / (name + '.log')})")

    def _restart(self, name: str, child: Child) -> None:
        child.process = self._spawn(child.spec)
        child.started_at = time.monotonic()
        child.started_wall = time.time()
        child.restart_at = None
        child.kill_at = None
        child.probe_at = time.monotonic() + PROBE_PERIOD_SECONDS
        child.restarts += 1
        log(f"{name} restarted (pid {child.process.pid}, restart {child.restarts})")
        if child.spec.after_start:
            try:
                child.spec.after_start(child.process)
            except SystemExit as exc:
                log(f"{name} did not come back: {exc}")

    def snapshot(self) -> dict[str, dict]:
        """What `make status` shows: every process with its pid, restarts and whether it runs."""
        return {
            name: {
                "pid": child.process.pid,
                "running": child.restart_at is None and child.process.poll() is None,
                "restarts": child.restarts,
                "held": self._held(name),
                "started_at": round(child.started_wall, 3),
                "last_exit_code": child.last_exit_code,
                "liveness_restarts": child.liveness_restarts,
                "last_probe_failure": child.last_probe_failure,
                "log": str(self.logs / f"{name}.log"),
            }
            for name, child in self.children.items()
        }

    def stop_all(self) -> None:
        # Reverse start order: the ingress and the services go first, the broker and database last.
        self.stopping = True
        children = list(reversed(list(self.children.items())))
        for _name, child in children:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGCONT)  # a test may have frozen it
                child.process.terminate()
        deadline = time.monotonic() + 30
        for name, child in children:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{name} did not stop in time; killing it")
                child.process.kill()
                child.process.wait()

    def _spawn(self, spec: ProcessSpec) -> subprocess.Popen:
        log_file = open(self.logs / f"{spec.name}.log", "ab")
        env = {**os.environ, **spec.env}
        if self.env_overrides is not None:
            env = with_overrides(env, read_overrides(self.env_overrides))
        process = subprocess.Popen(
            spec.argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        threading.Thread(target=self._pump, args=(spec.name, process, log_file), daemon=True).start()
        return process

    def _pump(self, name: str, process: subprocess.Popen, log_file) -> None:
        for line in iter(process.stdout.readline, b""):
            log_file.write(line)
            log_file.flush()
            if self.echo:
                sys.stdout.write(f"{name:>16} | {line.decode('utf-8', 'replace')}")
                sys.stdout.flush()
        log_file.close()


def _probe(url: str) -> str | None:
    """None when `url` answers 2xx in time, else what went wrong (with the body the process gave, if any)."""
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_SECONDS):
            return None
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}: {exc.read(300).decode('utf-8', 'replace')}"
    except (OSError, ValueError) as exc:
        return f"no answer: {exc}"


def _stopped(pid: int) -> bool:
    """True for a process in the stopped state (SIGSTOP): frozen on purpose, its silence is expected."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] in {"T", "t"}
