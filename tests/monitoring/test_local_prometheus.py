"""The local Prometheus config (`make run PROMETHEUS=1`, the tests): promtool accepts it, every process is a target."""
from __future__ import annotations

import json
import subprocess

from monitoring.local_prometheus import write_config

STACK_METRICS = {
    "order-ms": "http://127.0.0.1:9130/metrics",
    "delivery-ms": "http://127.0.0.1:9140/metrics",
    "order-relay": "http://127.0.0.1:9101/metrics",
    "delivery-relay": "http://127.0.0.1:9102/metrics",
    "consumer-1": "http://127.0.0.1:9110/metrics",
    "consumer-2": "http://127.0.0.1:9111/metrics",
    "order-status-consumer": "http://127.0.0.1:9120/metrics",
}


def test_promtool_accepts_the_generated_config_and_its_rules(tmp_path):
    config = write_config(STACK_METRICS, tmp_path, scrape_interval="5s")
    checked = subprocess.run(["promtool", "check", "config", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "1 rule files found" in checked.stdout


def test_each_process_is_a_target_and_consumers_share_one_job(tmp_path):
    write_config(STACK_METRICS, tmp_path, scrape_interval="5s")
    groups = json.loads((tmp_path / "targets.json").read_text())
    jobs = {group["targets"][0]: group["labels"]["job"] for group in groups}
    assert jobs == {
        "127.0.0.1:9130": "order-ms", "127.0.0.1:9140": "delivery-ms", "127.0.0.1:9101": "order-relay",
        "127.0.0.1:9102": "delivery-relay", "127.0.0.1:9110": "consumer", "127.0.0.1:9111": "consumer",
        "127.0.0.1:9120": "order-status-consumer",
    }
