{{/* Names, labels and secrets of the MariaDB chart. */}}

{{- define "mariadb.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <release>-mariadb, so a parent chart can find the Service and Secrets without asking. */}}
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

{{/* The Secret with the root password. */}}
{{- define "mariadb.rootSecretName" -}}
{{- .Values.auth.existingSecret | default (include "mariadb.fullname" .) }}
{{- end }}

{{/* The Secret with one database's owner and app passwords; call with (dict "root" $ "name" <database> "database" <entry>). */}}
{{- define "mariadb.databaseSecretName" -}}
{{- .database.existingSecret | default (printf "%s-db-%s" (include "mariadb.fullname" .root) (.name | replace "_" "-" | lower) | trunc 63 | trimSuffix "-") }}
{{- end }}

{{/* A password for a Secret this chart makes, following global.secrets (values.yaml); call with
     (dict "root" $ "secret" <Secret name> "key" <key> "setting" <the value that would name an existing Secret>).
     "generate" reuses what the cluster already holds, so upgrades and reinstalls over a kept volume keep
     working; a list lookup answering at all is how the chart knows Helm can reach the cluster. */}}
{{- define "mariadb.generatedPassword" -}}
{{- $mode := .root.Values.global.secrets | default "generate" }}
{{- $setting := printf "%s (%s.%s in a parent chart)" .setting .root.Chart.Name .setting }}
{{- if eq $mode "throwaway" }}
{{- randAlphaNum 32 }}
{{- else if eq $mode "existing" }}
{{- fail (printf "global.secrets is \"existing\": set %s to a Secret with the key %s" $setting .key) }}
{{- else }}
{{- $kept := index ((lookup "v1" "Secret" .root.Release.Namespace .secret).data | default dict) .key }}
{{- if $kept }}
{{- $kept | b64dec }}
{{- else if lookup "v1" "Secret" .root.Release.Namespace "" }}
{{- randAlphaNum 32 }}
{{- else }}
{{- fail (printf "Secret %s: Helm cannot reach the cluster here (helm template, Argo CD, --dry-run=client), so a generated password would change on every render. Set %s, or global.secrets=existing (GitOps: every password from an existing Secret), or global.secrets=throwaway for a render nobody applies" .secret $setting) }}
{{- end }}
{{- end }}
{{- end }}
