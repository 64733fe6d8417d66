"""Reading /metrics, and a throwaway Prometheus server (Debian's) that scrapes a running stack for a test."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from monitoring.local_prometheus import prometheus_argv, write_config
from tests.support.polling import wait_for
from tests.support.processes import free_port


def scrape(url: str) -> str:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return response.text


def sample_sum(text: str, name: str, **labels: str) -> float:
    """The sum of every sample called `name` (e.g. over gunicorn workers) whose labels include `labels`."""
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()))


def samples(text: str, name: str) -> list[dict[str, str]]:
    """The label sets of every sample called `name`."""
    return [sample.labels for family in text_string_to_metric_families(text) for sample in family.samples
            if sample.name == name]


def sample_names(text: str) -> set[str]:
    """Every sample name in a /metrics answer (with its _total, _bucket, … suffix)."""
    return {sample.name for family in text_string_to_metric_families(text) for sample in family.samples}


class PrometheusServer:
    """`prometheus` on a free port with its data in `directory`, scraping `metrics_urls` with the project's rules."""

    def __init__(self, metrics_urls: dict[str, str], directory: Path, scrape_interval: str = "1s"):
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._config = write_config(metrics_urls, directory, scrape_interval)
        self._process: subprocess.Popen | None = None

    def start(self) -> PrometheusServer:
        binary = shutil.which("prometheus")
        assert binary, "prometheus is not installed: apt-get install -y prometheus (scripts/setup.sh --test does it)"
        with open(self.directory / "prometheus.log", "ab") as log_file:
            self._process = subprocess.Popen(prometheus_argv(binary, self._config, self.directory / "data", self.port),
                                             stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_for(self._ready, f"Prometheus on {self.url} (log: {self.directory / 'prometheus.log'})", timeout=60)
        return self

    def _ready(self) -> bool:
        assert self._process.poll() is None, f"Prometheus exited; see {self.directory / 'prometheus.log'}"
        try:
            return requests.get(f"{self.url}/-/ready", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=30)

    def api(self, path: str, **params) -> dict | list:
        response = requests.get(f"{self.url}/api/v1/{path}", params=params, timeout=10)
        body = response.json()
        assert response.status_code == 200 and body["status"] == "success", f"{path} {params}: {body}"
        return body["data"]

    def query(self, promql: str, at: float | None = None) -> list[dict]:
        """An instant vector: [{"metric": {...}, "value": [time, "value"]}, ...]."""
        params = {"query": promql} if at is None else {"query": promql, "time": f"{at:.3f}"}
        data = self.api("query", **params)
        assert data["resultType"] == "vector", f"{promql} is not an instant vector"
        return data["result"]

    def value(self, promql: str, at: float | None = None) -> float:
        """The single value of an aggregated query; 0 when no series matched (yet)."""
        result = self.query(promql, at)
        assert len(result) <= 1, f"{promql} returned {len(result)} series"
        return float(result[0]["value"][1]) if result else 0.0
