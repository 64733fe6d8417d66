"""Starts an extra gunicorn for a test (e.g. against a database that is down) and stops it afterwards."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.support.processes import free_port
from tests.support.stack import ROOT


@contextlib.contextmanager
def gunicorn(app: str, env: dict[str, str], tmp_path: Path):
    """Yields the base URL of `app` served by gunicorn (one worker unless `env` says GUNICORN_WORKERS) with the
    stack's settings overridden by `env`; its log is tmp_path/gunicorn.log."""
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "services/platform/gunicorn_conf.py", app],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "GUNICORN_WORKERS": "1", **env, "HOST": "127.0.0.1", "PORT": str(port),
             "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus")},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                requests.get(f"{url}/healthz", timeout=1)
                break
            except (requests.ConnectionError, requests.Timeout):  # a worker still booting may not answer in time
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
