"""Runs kubectl and helm against the local control plane, and waits for a condition with a deadline."""
from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from scripts.controlplane.layout import HELM, KUBECONFIG, KUBECTL


def _env() -> dict[str, str]:
    # Helm's caches stay in .run too, so nothing is written to the user's home.
    run = KUBECONFIG.parent
    return {**os.environ, "KUBECONFIG": str(KUBECONFIG), "HELM_CACHE_HOME": str(run / "helm" / "cache"),
            "HELM_CONFIG_HOME": str(run / "helm" / "config"), "HELM_DATA_HOME": str(run / "helm" / "data")}


def kubectl(*args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return _run([str(KUBECTL), *args], input, check)


def helm(*args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return _run([str(HELM), *args], input, check)


def _run(argv: list[str], input: str | None, check: bool) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, input=input, capture_output=True, text=True, env=_env())
    if check and result.returncode != 0:
        raise CommandFailed(argv, result)
    return result


class CommandFailed(Exception):
    def __init__(self, argv: list[str], result: subprocess.CompletedProcess):
        self.result = result
        command = " ".join(Path(argv[0]).name if i == 0 else a for i, a in enumerate(argv))
        super().__init__(f"{command}\n{(result.stderr or result.stdout).strip()}")


def wait_for(what: str, ready: Callable[[], bool], timeout: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            tail = ""
            if log and log.exists():
                tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}{tail}")
        time.sleep(1)
