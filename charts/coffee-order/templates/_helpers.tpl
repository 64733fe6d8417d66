{{/* The small pieces the workload templates (order-ms.yaml, order-relay.yaml, delivery-ms.yaml,
     delivery-relay.yaml, consumer.yaml) share: names and labels, the environment that logs a container
     in to its database and Kafka, the pod security block, and the NetworkPolicy peers "DNS", "the
     database" and "Kafka". Everything else of a workload is written out in its own file. */}}

{{/* ---- Names and labels --------------------------------------------------------------------------- */}}

{{- define "coffee-order.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "coffee-order.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The name of one workload's objects, <fullname>-<component>; call with (dict "root" $ "component" "order-ms"). */}}
{{- define "coffee-order.componentName" -}}
{{- printf "%s-%s" (include "coffee-order.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels of every object of the release. */}}
{{- define "coffee-order.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "coffee-order.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: coffee-order
{{- end }}

{{/* The labels of one workload's objects; call with (dict "root" $ "component" "order-ms"). */}}
{{- define "coffee-order.componentLabels" -}}
{{ include "coffee-order.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The labels that select one workload's pods; call with (dict "root" $ "component" "order-ms"). */}}
{{- define "coffee-order.selectorLabels" -}}
app.kubernetes.io/name: {{ include "coffee-order.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* An image reference, [registry/]repository:tag; call with (dict "root" $ "image" .Values.image.order). */}}
{{- define "coffee-order.image" -}}
{{- $tag := .image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion }}
{{- if .root.Values.image.registry }}
{{- printf "%s/%s:%s" (trimSuffix "/" .root.Values.image.registry) .image.repository $tag }}
{{- else }}
{{- printf "%s:%s" .image.repository $tag }}
{{- end }}
{{- end }}

{{/* ---- The pod security block ---------------------------------------------------------------------- */}}

{{- define "coffee-order.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "coffee-order.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Who every pod of the chart runs as: its service account without an API token (no pod calls the
     Kubernetes API), the registry credentials, and the pod securityContext (values.yaml
     podSecurityContext; each container adds values.yaml securityContext). */}}
{{- define "coffee-order.podSecurity" -}}
serviceAccountName: {{ include "coffee-order.serviceAccountName" . }}
automountServiceAccountToken: false
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/* ---- Where the database and Kafka are, and how a container logs in ------------------------------ */}}

{{- define "coffee-order.mariadbFullname" -}}
{{- .Values.mariadb.fullnameOverride | default (printf "%s-mariadb" .Release.Name) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "coffee-order.dbHost" -}}
{{- if .Values.mariadb.enabled }}
{{- include "coffee-order.mariadbFullname" . }}
{{- else }}
{{- required "externalDatabase.host is required when mariadb.enabled is false" .Values.externalDatabase.host }}
{{- end }}
{{- end }}

{{- define "coffee-order.dbPort" -}}
{{- if .Values.mariadb.enabled }}3306{{ else }}{{ .Values.externalDatabase.port }}{{ end }}
{{- end }}

{{/* One service's database as JSON {name, ownerUser, appUser, secret}: the entry `databases.<service>`
     names in mariadb.databases (its Secret as the mariadb chart names it) or externalDatabase.databases;
     call with (dict "root" $ "service" "order"). */}}
{{- define "coffee-order.database" -}}
{{- $root := .root }}
{{- $name := index $root.Values.databases .service }}
{{- $source := ternary "mariadb.databases" "externalDatabase.databases" $root.Values.mariadb.enabled }}
{{- $entries := ternary $root.Values.mariadb.databases $root.Values.externalDatabase.databases $root.Values.mariadb.enabled }}
{{- $entry := index $entries $name }}
{{- if not $entry }}
{{- fail (printf "databases.%s is %q, which %s does not define" .service $name $source) }}
{{- end }}
{{- $secret := $entry.existingSecret }}
{{- if and (not $secret) $root.Values.mariadb.enabled }}
{{- $secret = printf "%s-db-%s" (include "coffee-order.mariadbFullname" $root) ($name | replace "_" "-" | lower) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- if not $secret }}
{{- fail (printf "%s.%s.existingSecret is required: a Secret with the keys owner-password and app-password of the external database" $source $name) }}
{{- end }}
{{- toJson (dict "name" $name "ownerUser" $entry.ownerUser "appUser" $entry.appUser "secret" $secret) }}
{{- end }}

{{- define "coffee-order.tokenSigningKeySecret" -}}
{{- .Values.tokens.signingKey.existingSecret | default (printf "%s-token-signing-key" (include "coffee-order.fullname" .)) }}
{{- end }}

{{- define "coffee-order.tokenPublicKeysSecret" -}}
{{- .Values.tokens.publicKeys.existingSecret | default (printf "%s-token-public-keys" (include "coffee-order.fullname" .)) }}
{{- end }}

{{/* Where the token key files are mounted, and the settings naming them. */}}
{{- define "coffee-order.tokenKeysDir" -}}/var/run/coffee-order/token-keys{{- end }}
{{- define "coffee-order.tokenSigningKeyDir" -}}/var/run/coffee-order/token-signing-key{{- end }}

{{/* The env and volumeMounts entries of an HTTP service's container: the public key set (every verifier), and
     with "signs" the private key (order-ms's container only: never its init containers, relays, consumers,
     migrations). Call with (dict "root" $ "signs" true "part" "env"|"mounts"|"volumes"). */}}
{{- define "coffee-order.tokenKeys" -}}
{{- if eq .part "env" }}
- name: TOKEN_PUBLIC_KEYS_FILE
  value: {{ include "coffee-order.tokenKeysDir" . }}/public-keys.pem
{{- if .signs }}
- name: TOKEN_SIGNING_KEY_FILE
  value: {{ include "coffee-order.tokenSigningKeyDir" . }}/signing-key.pem
{{- end }}
{{- else if eq .part "mounts" }}
- name: token-public-keys
  mountPath: {{ include "coffee-order.tokenKeysDir" . }}
  readOnly: true
{{- if .signs }}
- name: token-signing-key
  mountPath: {{ include "coffee-order.tokenSigningKeyDir" . }}
  readOnly: true
{{- end }}
{{- else }}
- name: token-public-keys
  secret:
    secretName: {{ include "coffee-order.tokenPublicKeysSecret" .root }}
    items: [{key: public-keys.pem, path: public-keys.pem}]
    defaultMode: 0444
{{- if .signs }}
- name: token-signing-key
  secret:
    secretName: {{ include "coffee-order.tokenSigningKeySecret" .root }}
    items: [{key: signing-key.pem, path: signing-key.pem}]
    # Readable by the pod's group (fsGroup) only.
    defaultMode: 0440
{{- end }}
{{- end }}
{{- end }}

{{- define "coffee-order.kafkaFullname" -}}
{{- .Values.kafka.fullnameOverride | default (printf "%s-kafka" .Release.Name) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "coffee-order.kafkaBootstrapServers" -}}
{{- if .Values.kafka.enabled }}
{{- printf "%s:9092" (include "coffee-order.kafkaFullname" .) }}
{{- else }}
{{- required "externalKafka.bootstrapServers is required when kafka.enabled is false" .Values.externalKafka.bootstrapServers }}
{{- end }}
{{- end }}

{{- define "coffee-order.kafkaSecurityProtocol" -}}
{{- if .Values.kafka.enabled }}
{{- ternary "SASL_PLAINTEXT" "PLAINTEXT" .Values.kafka.auth.enabled }}
{{- else }}
{{- .Values.externalKafka.securityProtocol }}
{{- end }}
{{- end }}

{{- define "coffee-order.kafkaUsesSasl" -}}
{{- if hasPrefix "SASL_" (include "coffee-order.kafkaSecurityProtocol" .) }}true{{ end }}
{{- end }}

{{/* The Secret (key `password`) of a Kafka principal; call with (dict "root" $ "user" <name>). */}}
{{- define "coffee-order.kafkaUserSecret" -}}
{{- $root := .root }}
{{- if $root.Values.kafka.enabled }}
{{- $user := index $root.Values.kafka.auth.users .user }}
{{- if not $user }}
{{- fail (printf "the Kafka user %q is not in kafka.auth.users" .user) }}
{{- end }}
{{- $user.existingSecret | default (printf "%s-user-%s" (include "coffee-order.kafkaFullname" $root) (.user | lower | replace "_" "-" | replace "." "-") | trunc 63 | trimSuffix "-") }}
{{- else }}
{{- $user := index $root.Values.externalKafka.users .user | default dict }}
{{- required (printf "externalKafka.users.%s.existingSecret is required: a Secret with the key password" .user) $user.existingSecret }}
{{- end }}
{{- end }}

{{/* The environment of an app container on top of the ConfigMap (configmap.yaml): its database login (the
     owner's for migrations, else the app user's) and its Kafka principal when it has one;
     call with (dict "root" $ "service" "order" "role" "app" "kafkaUser" "order-relay"). */}}
{{- define "coffee-order.env" -}}
{{- $db := include "coffee-order.database" (dict "root" .root "service" .service) | fromJson }}
{{- $owner := eq .role "owner" }}
- name: DB_NAME
  value: {{ $db.name | quote }}
- name: DB_USER
  value: {{ ternary $db.ownerUser $db.appUser $owner | quote }}
- name: DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $db.secret }}
      key: {{ ternary "owner-password" "app-password" $owner }}
{{- if and .kafkaUser (include "coffee-order.kafkaUsesSasl" .root) }}
- name: KAFKA_SASL_USERNAME
  value: {{ .kafkaUser | quote }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "coffee-order.kafkaUserSecret" (dict "root" .root "user" .kafkaUser) }}
      key: password
{{- end }}
{{- end }}

{{/* ---- NetworkPolicy egress peers: DNS, the database, Kafka -------------------------------------- */}}

{{- define "coffee-order.egressToDns" -}}
- to:
    {{- toYaml .Values.global.dns | nindent 4 }}
  ports:
    - {port: 53, protocol: UDP}
    - {port: 53, protocol: TCP}
{{- end }}

{{/* The OTLP/HTTP receiver's port (tracing.endpoint's, else 443 for https and 80 for http), on
     tracing.networkPolicyPeers or anywhere; nothing while tracing is off. */}}
{{- define "coffee-order.egressToTracing" -}}
{{- with .Values.tracing.endpoint }}
{{- $url := urlParse . }}
{{- $port := ternary "443" "80" (eq $url.scheme "https") }}
{{- if contains ":" $url.host }}
{{- $port = last (splitList ":" $url.host) }}
{{- end }}
- {{- with $.Values.tracing.networkPolicyPeers }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  ports:
    - port: {{ int $port }}
{{- end }}
{{- end }}

{{/* OTEL_RESOURCE_ATTRIBUTES: the release (service.namespace) and its namespace, then tracing.resourceAttributes. */}}
{{- define "coffee-order.tracingResourceAttributes" -}}
{{- $attributes := list (printf "service.namespace=%s" (include "coffee-order.fullname" .)) (printf "k8s.namespace.name=%s" .Release.Namespace) }}
{{- with .Values.tracing.resourceAttributes }}
{{- $attributes = append $attributes . }}
{{- end }}
{{- join "," $attributes }}
{{- end }}

{{/* The bundled MariaDB's pods, or an external database's port (on networkPolicies.externalPeers, or anywhere). */}}
{{- define "coffee-order.egressToDatabase" -}}
{{- if .Values.mariadb.enabled }}
- to:
    - podSelector:
        matchLabels:
          app.kubernetes.io/name: mariadb
          app.kubernetes.io/instance: {{ .Release.Name }}
  ports:
    - port: 3306
{{- else }}
- {{- with .Values.networkPolicies.externalPeers }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  ports:
    - port: {{ .Values.externalDatabase.port }}
{{- end }}
{{- end }}

{{/* The bundled Kafka's brokers, or the ports of externalKafka.bootstrapServers (on
     networkPolicies.externalPeers, or anywhere). */}}
{{- define "coffee-order.egressToKafka" -}}
{{- if .Values.kafka.enabled }}
- to:
    - podSelector:
        matchLabels:
          app.kubernetes.io/name: kafka
          app.kubernetes.io/instance: {{ .Release.Name }}
          app.kubernetes.io/component: broker
  ports:
    - port: 9092
{{- else }}
{{- $ports := list }}
{{- range $server := splitList "," .Values.externalKafka.bootstrapServers }}
{{- $ports = append $ports (int (last (splitList ":" (trim $server)))) }}
{{- end }}
- {{- with .Values.networkPolicies.externalPeers }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  ports:
    {{- range $port := $ports | uniq }}
    - port: {{ $port }}
    {{- end }}
{{- end }}
{{- end }}

{{/* FORWARDED_ALLOW_IPS: config.trustedProxies when given; otherwise "*", which is safe only because the
     NetworkPolicies let no one but the ingress controller's pods reach the API ports (order-ms.yaml,
     delivery-ms.yaml). Without them the chart cannot tell who reaches the services, so it asks. */}}
{{- define "coffee-order.trustedProxies" -}}
{{- if .Values.config.trustedProxies }}
{{- .Values.config.trustedProxies }}
{{- else if .Values.networkPolicies.enabled }}
{{- print "*" }}
{{- else }}
{{- fail "config.trustedProxies: with networkPolicies.enabled false any pod may reach the services and send them a made-up X-Forwarded-For; set config.trustedProxies to the addresses of your ingress controller's pods (e.g. their CIDR), or \"*\" if nothing but the controller can reach the services (docs/decisions/0007-client-address-trust.md)" }}
{{- end }}
{{- end }}

{{/* The NetworkPolicy rules of an HTTP service (order-ms, delivery-ms): its API port from the ingress controller's
     pods only, its metrics port from Prometheus, the helm test pod and the acceptance Job. */}}
{{- define "coffee-order.httpServiceIngress" -}}
# The API port: only the ingress controller's pods (namespace AND pod labels, one peer). The service believes
# X-Forwarded-For from whoever reaches it (config.trustedProxies); the kubelet's probes are not policed.
- from:
    - namespaceSelector:
        {{- toYaml .Values.networkPolicies.ingressNamespaceSelector | nindent 8 }}
      podSelector:
        {{- toYaml .Values.networkPolicies.ingressControllerPodSelector | nindent 8 }}
  ports:
    - port: http
# The metrics port: /metrics and the health checks, no API.
- from:
    - namespaceSelector:
        {{- toYaml .Values.networkPolicies.metricsNamespaceSelector | nindent 8 }}
    - podSelector:
        matchLabels:
          {{- include "coffee-order.selectorLabels" (dict "root" . "component" "smoke-test") | nindent 10 }}
    {{- if .Values.acceptance.enabled }}
    - podSelector:
        matchLabels:
          app.kubernetes.io/name: coffee-acceptance
    {{- end }}
  ports:
    - port: metrics
{{- end }}
