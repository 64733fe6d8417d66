#!/bin/sh
# The acceptance suite's staff account in a cluster, made the operator's way (services/order_ms/staff.py) and
# never a demo account: a fresh password goes into the Secret <release>-uat-staff (read by
# k8s/acceptance-job.yaml), then into order-ms through `kubectl exec`, on standard input (never on a command
# line). skaffold's `ci` profile runs it after each deploy; by hand: `sh k8s/uat-staff.sh`.
# NAMESPACE (coffee-order), RELEASE (coffee-order) and UAT_STAFF_USER (uat-staff) may be set.
set -eu
namespace=${NAMESPACE:-coffee-order}
release=${RELEASE:-coffee-order}
user_id=${UAT_STAFF_USER:-uat-staff}
password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')

kubectl -n "$namespace" create secret generic "$release-uat-staff" \
  --from-literal=user-id="$user_id" --from-literal=password="$password" --dry-run=client -o yaml \
  | kubectl -n "$namespace" apply -f -
# --reset-password: each run sets the password it has just stored; an id held by a customer is refused (exit 1).
printf '%s\n' "$password" | kubectl -n "$namespace" exec -i "deploy/$release-order-ms" -c order-ms -- \
  python -m services.order_ms.staff create --user-id "$user_id" --password-stdin --reset-password
