#!/usr/bin/env bash
# `make k8s-check`: everything about the Kubernetes delivery that can be checked without a cluster.
#   helm dependency build and helm lint --strict of the three charts; helm template of the defaults, the
#   CI values, an external database and Kafka, and production-like values (also as a cluster with the
#   Prometheus Operator would render them), each validated by kubernetes-validate --strict for
#   Kubernetes 1.30 and the newest version it ships (with k8s/*.yaml); hadolint on the Dockerfiles;
#   skaffold.yaml against the skaffold v4beta14 JSON Schema (vendored in k8s/schemas/).
# helm template has no cluster to find generated secrets in, so the defaults are rendered with
# global.secrets=throwaway; the external and production values take every secret from existing Secrets.
# Rendered manifests are left in .run/k8s-check/ to read. Exits non-zero if any check failed.
set -uo pipefail
cd "$(dirname "$0")/../.."

HELM=.tools/bin/helm
PY=.venv/bin/python
OUT=.run/k8s-check
SKAFFOLD_SCHEMA=${SKAFFOLD_SCHEMA:-k8s/schemas/skaffold-v4beta14.json}
CHART=charts/coffee-order
OLDEST_KUBERNETES=1.30.0

[ -x "$HELM" ] && [ -x .venv/bin/kubernetes-validate ] || bash scripts/setup.d/k8s-tools.sh || exit 1
rm -rf "$OUT" && mkdir -p "$OUT"

failed=()
check() {
  local name=$1; shift
  local output
  if output=$("$@" 2>&1); then
    echo "ok    $name"
  else
    echo "FAIL  $name"
    echo "$output" | sed 's/^/      /' | tail -40
    failed+=("$name")
  fi
}

render() {  # render NAME [helm args...]
  local name=$1; shift
  "$HELM" template coffee-order "$CHART" --namespace coffee-order --kube-version "$OLDEST_KUBERNETES" "$@" \
    > "$OUT/$name.yaml"
}

validate_skaffold() {
  [ -f "$SKAFFOLD_SCHEMA" ] || { echo "schema not found: $SKAFFOLD_SCHEMA (set SKAFFOLD_SCHEMA)"; return 1; }
  "$PY" - "$SKAFFOLD_SCHEMA" skaffold.yaml <<'PY'
import json, sys
import jsonschema, yaml

schema = json.load(open(sys.argv[1]))
document = yaml.safe_load(open(sys.argv[2]))
validator = jsonschema.validators.validator_for(schema)(schema)
errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
for error in errors:
    print("/".join(map(str, error.absolute_path)) or "(top)", ":", error.message[:300])
sys.exit(1 if errors else 0)
PY
}

check "helm dependency build $CHART" "$HELM" dependency build "$CHART"
for chart in charts/mariadb charts/kafka "$CHART"; do
  check "helm lint --strict $chart" "$HELM" lint --strict --quiet "$chart"
done
for values in "$CHART"/ci/*-values.yaml; do
  check "helm lint --strict $CHART -f $values" "$HELM" lint --strict --quiet "$CHART" -f "$values"
done

check "helm template (defaults)" render defaults --set global.secrets=throwaway
check "helm template (CI: acceptance Job)" render ci -f k8s/values-ci.yaml --set global.secrets=throwaway
check "helm template (external database and Kafka)" render external -f "$CHART/ci/external-values.yaml"
check "helm template (production-like)" render production -f "$CHART/ci/production-values.yaml"
check "helm template (production-like, Prometheus Operator present)" render production-operator \
  -f "$CHART/ci/production-values.yaml" --api-versions monitoring.coreos.com/v1/ServiceMonitor \
  --api-versions monitoring.coreos.com/v1/PodMonitor --api-versions monitoring.coreos.com/v1/PrometheusRule
cp k8s/namespace.yaml k8s/acceptance-job.yaml "$OUT/"

newest=$("$PY" -c 'import kubernetes_validate.utils as u; print(u.latest_version())')
for file in "$OUT"/*.yaml; do
  for version in "$OLDEST_KUBERNETES" "$newest"; do
    # The Prometheus Operator's kinds have no schema there; everything else must match exactly.
    check "kubernetes-validate --strict -k $version $(basename "$file")" \
      .venv/bin/kubernetes-validate --strict --quiet -k "$version" "$file"
  done
done

check "hadolint Dockerfile.order Dockerfile.delivery k8s/acceptance.Dockerfile" \
  .venv/bin/hadolint Dockerfile.order Dockerfile.delivery k8s/acceptance.Dockerfile
check "skaffold.yaml against $(basename "$SKAFFOLD_SCHEMA")" validate_skaffold

if [ ${#failed[@]} -gt 0 ]; then
  echo "k8s checks FAILED: ${#failed[@]}"
  exit 1
fi
echo "k8s checks passed"
