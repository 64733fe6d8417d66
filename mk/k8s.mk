# Kubernetes delivery: the offline chart and image checks, the chart tests, and the container smoke
# (both images built with podman, the chart's pods run from them behind nginx, acceptance smoke cases).
.PHONY: k8s-tools k8s-check chart-test container-smoke

k8s-tools: setup ## helm (into .tools/bin), kubernetes-validate, hadolint, jsonschema (pinned)
	@bash scripts/setup.d/k8s-tools.sh

k8s-check: k8s-tools ## helm lint/template, kubernetes-validate 1.30 + newest, hadolint, skaffold.yaml schema
	@scripts/check-k8s.sh

chart-test: k8s-tools ## the rendered chart against the code: commands, probes, Ingress paths, values schema
	@$(PY) -m pytest tests/chart -q

container-smoke: k8s-tools ## build both images with podman and pass the acceptance smoke cases through them
	@$(PY) scripts/container_smoke.py
