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

{{/* The Secret (key `password`) of a principal; call with (dict "root" $ "name" <principal> "existingSecret" <value>). */}}
{{- define "kafka.userSecretName" -}}
{{- .existingSecret | default (printf "%s-user-%s" (include "kafka.fullname" .root) (.name | lower | replace "_" "-" | replace "." "-") | trunc 63 | trimSuffix "-") }}
{{- end }}

{{/* A password for a Secret this chart makes, following global.secrets (see the mariadb chart's twin);
     call with (dict "root" $ "secret" <Secret name> "key" <key> "setting" <the value naming an existing Secret>). */}}
{{- define "kafka.generatedPassword" -}}
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

{{/* Every principal with a password: the broker, the admin and the users, as a list of
     (dict "name" <principal> "secret" <Secret name> "setting" <value> "existing" <bool>). */}}
{{- define "kafka.principals" -}}
{{- $all := list }}
{{- $all = append $all (dict "name" .Values.auth.broker.user "secret" (include "kafka.userSecretName" (dict "root" $ "name" "broker" "existingSecret" .Values.auth.broker.existingSecret)) "setting" "auth.broker.existingSecret" "existing" (not (empty .Values.auth.broker.existingSecret))) }}
{{- $all = append $all (dict "name" .Values.auth.admin.user "secret" (include "kafka.userSecretName" (dict "root" $ "name" "admin" "existingSecret" .Values.auth.admin.existingSecret)) "setting" "auth.admin.existingSecret" "existing" (not (empty .Values.auth.admin.existingSecret))) }}
{{- range $name, $user := .Values.auth.users }}
{{- $all = append $all (dict "name" $name "secret" (include "kafka.userSecretName" (dict "root" $ "name" $name "existingSecret" $user.existingSecret)) "setting" (printf "auth.users.%s.existingSecret" $name) "existing" (not (empty $user.existingSecret))) }}
{{- end }}
{{- toJson $all }}
{{- end }}

{{/* The environment variable that carries a principal's password into the nodes and the topics Job. */}}
{{- define "kafka.passwordEnv" -}}
{{- printf "PASSWORD_%s" (. | upper | replace "-" "_" | replace "." "_") }}
{{- end }}

{{/* A NetworkPolicy egress rule for DNS to global.dns. */}}
{{- define "kafka.dnsEgress" -}}
- to:
    {{- toYaml .Values.global.dns | nindent 4 }}
  ports:
    - {port: 53, protocol: UDP}
    - {port: 53, protocol: TCP}
{{- end }}
