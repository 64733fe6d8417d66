#!/usr/bin/env bash
# Checks the Postman collection against the OpenAPI documents, then runs it with newman against BASE_URL
# (default http://127.0.0.1:8080) as a fresh customer; the JUnit report goes to $TEST_RESULTS/postman/
# (default test-results/postman/).
set -euo pipefail
cd "$(dirname "$0")/.."

NEWMAN=.tools/newman/node_modules/.bin/newman
[ -x "$NEWMAN" ] || bash scripts/setup.d/newman.sh
results=${TEST_RESULTS:-$PWD/test-results}/postman
mkdir -p "$results"

args=(
  --env-var "baseUrl=${BASE_URL:-http://127.0.0.1:8080}"
  --env-var "userId=pm-$(date +%s)-$RANDOM"
  --timeout-request 15000
  --reporters cli,junit --reporter-junit-export "$results/newman.xml"
)
[ -t 1 ] || args+=(--color off)
# The staff account defaults to the local demo one in the environment file; a deployment passes its own.
[ -n "${UAT_STAFF_USER:-}" ] && args+=(--env-var "staffUser=$UAT_STAFF_USER")
[ -n "${UAT_STAFF_PASSWORD:-}" ] && args+=(--env-var "staffPassword=$UAT_STAFF_PASSWORD")

# The collection must match the OpenAPI documents first: a drifted request fails here, before any call.
.venv/bin/python -m scripts.api.postman_contract

exec "$NEWMAN" run postman/coffee-order.postman_collection.json -e postman/local.postman_environment.json "${args[@]}"
