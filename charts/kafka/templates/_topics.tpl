{{/* The topics Job's script: wait for Kafka, check that every node answers, create or grow the topics
     and check their replication, then (with auth) refresh every user's SCRAM credentials and add their
     ACLs. Idempotent: it runs after every install and upgrade. */}}
{{- define "kafka.topicsScript" -}}
set -euo pipefail
# KAFKA_BIN: the tests run this script against stand-ins for the Kafka tools.
bin=${KAFKA_BIN:-/opt/kafka/bin}
bootstrap={{ include "kafka.fullname" . }}:9092
client=(--bootstrap-server "$bootstrap")
{{- if .Values.auth.enabled }}
source "$(dirname "$0")/passwords.sh"
admin_password=$(password_of {{ .Values.auth.admin.user | quote }} "${{ include "kafka.passwordEnv" .Values.auth.admin.user }}")
{
  echo "security.protocol=SASL_PLAINTEXT"
  echo "sasl.mechanism=SCRAM-SHA-512"
  echo "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"{{ .Values.auth.admin.user }}\" password=\"${admin_password}\";"
} > /tmp/admin.properties
client+=(--command-config /tmp/admin.properties)
{{- end }}

until "$bin/kafka-topics.sh" "${client[@]}" --list >/dev/null 2>&1; do
  echo "waiting for Kafka at $bootstrap"; sleep 3
done

# Every node must be registered before topics are placed, or they would get fewer replicas.
nodes=$("$bin/kafka-broker-api-versions.sh" "${client[@]}" | grep -c '(id: [0-9]* rack:')
if [ "$nodes" -lt {{ .Values.replicas }} ]; then
  echo "only $nodes of {{ .Values.replicas }} Kafka nodes answer; the Job retries" >&2
  exit 1
fi

# Replicas per partition this release wants; a topic with fewer (made before kafka.replicas was raised)
# fails the Job rather than go on with less durability than acks=all promises.
wanted_replicas={{ include "kafka.replicationFactor" . }}
while IFS== read -r name partitions; do
  [ -n "$name" ] || continue
  "$bin/kafka-topics.sh" "${client[@]}" --create --if-not-exists --topic "$name" \
    --partitions "$partitions" --replication-factor "$wanted_replicas"
  description=$("$bin/kafka-topics.sh" "${client[@]}" --describe --topic "$name")
  current=$(grep -c 'Partition: ' <<< "$description")
  if [ "$current" -lt "$partitions" ]; then
    "$bin/kafka-topics.sh" "${client[@]}" --alter --topic "$name" --partitions "$partitions"
  fi
  replicas=$(grep -o 'ReplicationFactor: [0-9]*' <<< "$description" | head -1 | cut -d' ' -f2)
  if [ "$replicas" -lt "$wanted_replicas" ]; then
    echo "topic $name has $replicas replica(s) per partition, this release wants $wanted_replicas:" \
         "raise it with kafka-reassign-partitions.sh (docs/kubernetes.md \"Kafka: from 1 to 3 nodes\")" >&2
    exit 2
  fi
  echo "$name: $partitions partition(s) wanted, had $current; $replicas replica(s)"
done <<'TOPICS'
{{- range $name, $topic := .Values.topics }}
{{ $name }}={{ $topic.partitions }}
{{- end }}
TOPICS

# Topic settings other than the broker's defaults (e.g. compaction), set again each time: kept on existing topics too.
while IFS== read -r name setting; do
  [ -n "$name" ] || continue
  "$bin/kafka-configs.sh" "${client[@]}" --alter --entity-type topics --entity-name "$name" --add-config "$setting"
done <<'TOPIC_CONFIGS'
{{- range $name, $topic := .Values.topics }}
{{- range $key, $value := $topic.config }}
{{ $name }}={{ $key }}={{ $value }}
{{- end }}
{{- end }}
TOPIC_CONFIGS
{{- if .Values.auth.enabled }}

# SCRAM credentials are set again each time, so a password changed in its Secret takes effect.
{{- range $name, $user := .Values.auth.users }}
password=$(password_of {{ $name | quote }} "${{ include "kafka.passwordEnv" $name }}")
"$bin/kafka-configs.sh" "${client[@]}" --alter --entity-type users --entity-name {{ $name | quote }} \
  --add-config "SCRAM-SHA-512=[iterations=8192,password=${password}]"
{{- range $acl := $user.acls }}
"$bin/kafka-acls.sh" "${client[@]}" --add --allow-principal "User:{{ $name }}" --{{ $acl.resource }} {{ $acl.name | quote }}
  {{- range $operation := $acl.operations }} --operation {{ $operation }}{{ end }}
{{- end }}
{{- end }}
{{- end }}
echo "topics{{ if .Values.auth.enabled }}, users and ACLs{{ end }} are in place"
{{- end }}
