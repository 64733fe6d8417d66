#!/usr/bin/env bash
# Installs what the project needs on a fresh machine: Debian packages (as root), the .venv and Apache Kafka.
#   scripts/setup.sh          what `make run` needs
#   scripts/setup.sh --test   plus everything `make test` needs (browser, Prometheus, newman, k8s tools, podman)
#   scripts/setup.sh --bench  plus what `make bench` needs (wrk)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=false want_bench=false
[ "${1:-}" = "--test" ] && want_test=true
[ "${1:-}" = "--bench" ] && want_bench=true

missing=()
need() { dpkg -s "$1" >/dev/null 2>&1 || missing+=("$1"); }

if [ -f /etc/debian_version ] && command -v dpkg >/dev/null; then
  # Build headers for the MariaDB Connector/Python, and nginx for the local ingress.
  need libmariadb-dev; need gcc; need nginx-light
  # Java and Maven for the local stack's Apache Kafka (Kafka 4 needs Java 17 or newer).
  command -v java >/dev/null || need openjdk-17-jre-headless
  command -v mvn >/dev/null || need maven
  if $want_test; then
    # npm only when missing: a NodeSource nodejs ships its own npm and conflicts with Debian's package.
    need chromium; need prometheus; command -v npm >/dev/null || need npm; need podman; need runc; need debootstrap; need wrk; need fuse-overlayfs
  fi
  if $want_bench; then
    need wrk
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "Missing Debian packages: ${missing[*]}"
      echo "Run as root: apt-get update && apt-get install -y ${missing[*]}"
      exit 1
    fi
    echo "[setup] apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "[setup] pip install -r requirements-dev.txt"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# Apache Kafka's jars from Maven Central into .cache/, once per version (scripts/stack/kafka/pom.xml).
.venv/bin/python -m scripts.stack.kafka_dist >/dev/null

if $want_test; then
  for extra in scripts/setup.d/*.sh; do
    [ -e "$extra" ] && bash "$extra"
  done
fi
echo "[setup] ready"
