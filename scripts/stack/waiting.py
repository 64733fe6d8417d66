"""Small probes the stack waits on: a TCP port, an HTTP 200, a condition with a deadline."""
from __future__ import annotations

import socket
import subprocess
import time
import urllib.request


def log(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def wait_until(check, what: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    """Polls `check` until it is true; fails naming `what` when `process` exits or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while not check():
        if process is not None and process.poll() is not None:
            raise SystemExit(f"{what} exited with code {process.returncode}; see its log under .run/")
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not become ready within {timeout:.0f}s; see its log under .run/")
        time.sleep(0.1)
