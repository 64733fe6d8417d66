{{/* Names and labels of the MariaDB chart. */}}

{{- define "mariadb.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <release>-mariadb, so a parent chart can find the Service and Secret without asking. */}}
{{- define "mariadb.fullname" -}}
{{- .Values.fullnameOverride | default (printf "%s-%s" .Release.Name (include "mariadb.name" .)) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mariadb.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | trunc 63 | trimSuffix "-" }}
{{ include "mariadb.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: database
{{- end }}

{{- define "mariadb.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mariadb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mariadb.secretName" -}}
{{- .Values.auth.existingSecret | default (include "mariadb.fullname" .) }}
{{- end }}
