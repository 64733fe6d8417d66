#!/usr/bin/env bash
# Zipkin's server (the local trace backend that `make run` and the tracing tests start) from Maven Central into
# .cache/zipkin/<version>/, once: scripts/stack/trace_backend.py. A second run finds the jar and does nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
.venv/bin/python -m scripts.stack.trace_backend >/dev/null
