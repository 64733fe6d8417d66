{{/* Names, labels and KRaft addresses of the Kafka chart. */}}

{{- define "kafka.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <release>-kafka, so a parent chart can find the bootstrap Service without asking. */}}
{{- define "kafka.fullname" -}}
{{- .Values.fullnameOverride | default (printf "%s-%s" .Release.Name (include "kafka.name" .)) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kafka.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | trunc 63 | trimSuffix "-" }}
{{ include "kafka.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: broker
{{- end }}

{{- define "kafka.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kafka.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kafka.headless" -}}
{{- printf "%s-headless.%s.svc" (include "kafka.fullname" .) .Release.Namespace }}
{{- end }}

{{/* 0@<pod-0>:9093,1@<pod-1>:9093,... */}}
{{- define "kafka.quorumVoters" -}}
{{- $voters := list }}
{{- range $i := until (int .Values.replicas) }}
{{- $voters = append $voters (printf "%d@%s-%d.%s:9093" $i (include "kafka.fullname" $) $i (include "kafka.headless" $)) }}
{{- end }}
{{- join "," $voters }}
{{- end }}

{{/* Replicas per partition and the in-sync minimum for acks=all. */}}
{{- define "kafka.replicationFactor" -}}
{{- min (int .Values.replicas) 3 }}
{{- end }}

{{- define "kafka.minInsyncReplicas" -}}
{{- if gt (int .Values.replicas) 1 }}2{{ else }}1{{ end }}
{{- end }}
