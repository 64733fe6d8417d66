"""Fixtures for the chart tests: `helm template` of charts/coffee-order, parsed, for any values."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HELM = ROOT / ".tools" / "bin" / "helm"
CHART = ROOT / "charts" / "coffee-order"
# helm template cannot reach a cluster, so generated secrets are rendered as throwaway ones; the external
# and production values take every secret from existing Secrets and render as they would in Argo CD.
THROWAWAY = ["--set", "global.secrets=throwaway"]
OPERATOR_APIS = ["--api-versions", "monitoring.coreos.com/v1/ServiceMonitor",
                 "--api-versions", "monitoring.coreos.com/v1/PodMonitor",
                 "--api-versions", "monitoring.coreos.com/v1/PrometheusRule"]
VALUES_SETS = {
    "defaults": THROWAWAY,
    "ci": ["-f", str(ROOT / "k8s" / "values-ci.yaml"), *THROWAWAY],
    "external": ["-f", str(CHART / "ci" / "external-values.yaml")],
    "production": ["-f", str(CHART / "ci" / "production-values.yaml")],
    "production-operator": ["-f", str(CHART / "ci" / "production-values.yaml"), *OPERATOR_APIS],
}


class RenderError(Exception):
    """helm template refused the values; the message is helm's."""


def helm_template(*args: str) -> list[dict]:
    result = subprocess.run([str(HELM), "template", "coffee-order", str(CHART), "--namespace", "coffee-order", *args],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RenderError(result.stderr)
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="session", autouse=True)
def chart_dependencies():
    if not HELM.exists():
        pytest.fail(f"{HELM} is missing: run scripts/setup.d/k8s-tools.sh (make setup does)")
    subprocess.run([str(HELM), "dependency", "build", str(CHART)], check=True, capture_output=True)


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict]]:
    """Every values set of `make k8s-check`, rendered once."""
    return {name: helm_template(*args) for name, args in VALUES_SETS.items()}


@pytest.fixture
def render():
    return helm_template
