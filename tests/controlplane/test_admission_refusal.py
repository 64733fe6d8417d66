"""A chart change that PodSecurity "restricted" refuses fails `make k8s-verify` with the server's message,
naming the workload (against the control plane of `make k8s-up`; `make k8s-verify` runs this after the
whole verification passed with the unchanged chart)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_pod_that_may_run_as_root_fails_verify_with_the_servers_message(tmp_path):
    charts = tmp_path / "charts"
    shutil.copytree(ROOT / "charts", charts, ignore=shutil.ignore_patterns("*.tgz", "Chart.lock"))
    values = charts / "coffee-order" / "values.yaml"
    text = values.read_text()
    line = "podSecurityContext:\n  runAsNonRoot: true\n"
    assert line in text
    values.write_text(text.replace(line, "podSecurityContext:\n"))

    result = subprocess.run([sys.executable, "-m", "scripts.controlplane", "verify", "--chart",
                             str(charts / "coffee-order")], cwd=ROOT, capture_output=True, text=True)

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "FAIL  admission of the defaults' pods" in output, output
    refusal = next((line for line in output.splitlines() if "Deployment/coffee-order-order-ms:" in line), "")
    assert 'is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true' in refusal, output
    assert "helm install --wait (defaults)" not in output, output
