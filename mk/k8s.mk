# Kubernetes delivery: the offline chart and image checks, the chart tests, the container smoke (both
# images built with podman, the chart's pods run from them behind nginx, acceptance smoke cases), and the
# acceptance suite inside a real cluster through skaffold.
.PHONY: k8s-tools k8s-check chart-test container-smoke k8s-acceptance

SKAFFOLD ?= skaffold
SKAFFOLD_BUILD_OUTPUT ?= .run/skaffold/build.json

k8s-tools: setup ## helm (into .tools/bin), kubernetes-validate, hadolint, jsonschema (pinned)
	@bash scripts/setup.d/k8s-tools.sh

k8s-check: k8s-tools ## helm lint/template, kubernetes-validate 1.30 + newest, hadolint, skaffold.yaml schema
	@scripts/k8s/check.sh

chart-test: k8s-tools ## the rendered chart against the code: commands, probes, Ingress paths, secrets, NetworkPolicies
	@$(PY) -m pytest tests/chart -q

container-smoke: k8s-tools ## build both images with podman and pass the acceptance smoke cases through them
	@$(PY) -m scripts.smoke

# skaffold runs `verify` stages only under `skaffold verify`, never under `skaffold run`: build once,
# deploy those images, then verify them; each step stops the target when it fails.
k8s-acceptance: ## in a cluster (kubectl context, skaffold, docker): install with the ci profile and run the acceptance Job
	@mkdir -p $(dir $(SKAFFOLD_BUILD_OUTPUT))
	$(SKAFFOLD) build -p ci --file-output=$(SKAFFOLD_BUILD_OUTPUT)
	$(SKAFFOLD) deploy -p ci --build-artifacts=$(SKAFFOLD_BUILD_OUTPUT)
	$(SKAFFOLD) verify -p ci --build-artifacts=$(SKAFFOLD_BUILD_OUTPUT)

# A real control plane (kube-apiserver, controllers, scheduler, etcd, kwok's simulated nodes), built from
# k8s/controlplane/go.mod into .cache/ (the first build is long: see docs/kubernetes.md), on loopback ports
# 23790, 23800, 26443 and 26250 (K8S_PORT_OFFSET moves them). `make test` builds it in the background and runs
# k8s-verify last.
.PHONY: k8s-build k8s-up k8s-down k8s-verify

k8s-build: setup ## build the control plane from Go modules into .cache/controlplane (once per pinned version)
	@scripts/controlplane/build.sh

k8s-up: k8s-build ## start the control plane; KUBECONFIG is .run/controlplane/kubeconfig
	@$(PY) -m scripts.controlplane up

k8s-down: ## stop it (safe to repeat)
	@if [ -x $(PY) ]; then $(PY) -m scripts.controlplane down; else echo "nothing to stop"; fi

k8s-verify: k8s-tools ## the chart and k8s/ against the control plane of `make k8s-up`: install, upgrade, rollback, test, uninstall
	@$(PY) -m scripts.controlplane verify
	@$(PY) -m pytest tests/controlplane -q
