"""Prometheus for the stack (PROMETHEUS=1): scrapes every process with the chart's alert rules loaded."""
from __future__ import annotations

from pathlib import Path

from monitoring.local_prometheus import prometheus_argv, write_config
from scripts.stack.debian import ensure_debian_package
from scripts.stack.supervisor import ProcessSpec, Supervisor
from scripts.stack.waiting import http_ok, wait_until


def start_prometheus(supervisor: Supervisor, metrics: dict[str, str], directory: Path, port: int) -> str:
    binary = ensure_debian_package("prometheus", "prometheus")
    config = write_config(metrics, directory, scrape_interval="5s")
    url = f"http://127.0.0.1:{port}"
    supervisor.start(ProcessSpec("prometheus", prometheus_argv(binary, config, directory / "data", port),
                                 after_start=lambda process: wait_until(
                                     lambda: http_ok(f"{url}/-/ready"), "Prometheus", 60, process)))
    return url
