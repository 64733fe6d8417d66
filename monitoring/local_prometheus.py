"""Prometheus for a local stack: its config from monitoring/prometheus-local.yml, its targets from state.json."""
from __future__ import annotations

import json
import re
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
CONFIG_TEMPLATE = ROOT / "monitoring" / "prometheus-local.yml"
ALERT_RULES = ROOT / "charts" / "coffee-order" / "files" / "prometheus-alerts.yml"


def job_name(process: str) -> str:
    """consumer-1, consumer-2 … are instances of one job, as the replicas of one Deployment are."""
    return re.sub(r"-\d+$", "", process)


def scrape_targets(metrics_urls: dict[str, str]) -> list[dict]:
    """file_sd target groups for the stack's `metrics` map of process name to /metrics URL."""
    groups = []
    for process, url in sorted(metrics_urls.items()):
        parts = urlsplit(url)
        if parts.path != "/metrics":
            raise ValueError(f"{process}: only /metrics is scraped here, not {url}")
        groups.append({"targets": [parts.netloc], "labels": {"job": job_name(process)}})
    return groups


def write_config(metrics_urls: dict[str, str], directory: Path, scrape_interval: str) -> Path:
    """Writes prometheus.yml and its targets file into `directory`; returns the config's path."""
    directory.mkdir(parents=True, exist_ok=True)
    targets = directory / "targets.json"
    targets.write_text(json.dumps(scrape_targets(metrics_urls), indent=2))
    config = directory / "prometheus.yml"
    config.write_text(Template(CONFIG_TEMPLATE.read_text()).substitute(
        SCRAPE_INTERVAL=scrape_interval, RULES_FILE=json.dumps(str(ALERT_RULES)), TARGETS_FILE=json.dumps(str(targets)),
    ))
    return config


def prometheus_argv(binary: str, config: Path, data_dir: Path, port: int) -> list[str]:
    return [
        binary, f"--config.file={config}", f"--storage.tsdb.path={data_dir}",
        f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=2d",
    ]
