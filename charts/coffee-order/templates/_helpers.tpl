{{/* Names, labels, images and the pieces every app pod shares. */}}

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

{{/* The name of one component's objects: <fullname>-<component>. */}}
{{- define "coffee-order.componentName" -}}
{{- printf "%s-%s" (include "coffee-order.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "coffee-order.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "coffee-order.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: coffee-order
{{- end }}

{{/* Selector labels of one component; call with (dict "root" $ "component" "order-ms"). */}}
{{- define "coffee-order.selectorLabels" -}}
app.kubernetes.io/name: {{ include "coffee-order.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "coffee-order.componentLabels" -}}
{{ include "coffee-order.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "coffee-order.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "coffee-order.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* An image reference; call with (dict "root" $ "image" .Values.image.order). */}}
{{- define "coffee-order.image" -}}
{{- $tag := .image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion }}
{{- if .root.Values.image.registry }}
{{- printf "%s/%s:%s" (trimSuffix "/" .root.Values.image.registry) .image.repository $tag }}
{{- else }}
{{- printf "%s:%s" .image.repository $tag }}
{{- end }}
{{- end }}

{{/* Where the database is: the bundled MariaDB or externalDatabase. */}}
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

{{- define "coffee-order.jwtSecretName" -}}
{{- .Values.jwt.existingSecret | default (printf "%s-jwt" (include "coffee-order.fullname" .)) }}
{{- end }}

{{/* Kafka: where it is, how clients log in, and the Secret (key `password`) of a principal. */}}
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

{{/* The Secret of a Kafka principal; call with (dict "root" $ "user" <name>). */}}
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

{{- define "coffee-order.newOrdersPartitions" -}}
{{- if .Values.kafka.enabled }}
{{- (required "kafka.topics needs new_orders" (index .Values.kafka.topics "new_orders")).partitions }}
{{- else }}{{ .Values.externalKafka.newOrdersPartitions }}{{ end }}
{{- end }}

{{/* Pod annotations that roll the pods when their configuration changes. */}}
{{- define "coffee-order.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- end }}

{{/* Labels that let a pod through the database's and Kafka's NetworkPolicies; call with
     (dict "root" $ "database" true "kafka" true). */}}
{{- define "coffee-order.clientLabels" -}}
{{- if and .database .root.Values.mariadb.enabled }}
{{- toYaml .root.Values.mariadb.networkPolicy.clientLabels }}
{{ end }}
{{- if and .kafka .root.Values.kafka.enabled }}
{{- toYaml .root.Values.kafka.networkPolicy.clientLabels }}
{{ end }}
{{- end }}

{{/* The environment of an app container on top of the ConfigMap: its database login (the owner's for
     migrations, else the app user's), the token secret, and its Kafka principal when it has one; call
     with (dict "root" $ "service" "order" "role" "app" "kafkaUser" "order-relay"). */}}
{{- define "coffee-order.env" -}}
{{- $db := include "coffee-order.database" (dict "root" .root "service" .service) | fromJson }}
{{- $user := ternary $db.ownerUser $db.appUser (eq .role "owner") }}
- name: DB_NAME
  value: {{ $db.name | quote }}
- name: DB_USER
  value: {{ $user | quote }}
- name: DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $db.secret }}
      key: {{ ternary "owner-password" "app-password" (eq .role "owner") }}
- name: JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "coffee-order.jwtSecretName" .root }}
      key: jwt-secret
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

{{- define "coffee-order.envFrom" -}}
- configMapRef:
    name: {{ include "coffee-order.fullname" . }}
{{- end }}

{{/* A one-shot init container with the app's environment; call with (dict "root" $ "image" <reference>
     "name" "migrate" "command" (list "python" "-m" ...) "service" "order" "role" "owner" "resources" <map>). */}}
{{- define "coffee-order.initContainer" -}}
- name: {{ .name }}
  image: {{ .image }}
  imagePullPolicy: {{ .root.Values.image.pullPolicy }}
  command: {{ toJson .command }}
  envFrom:
    {{- include "coffee-order.envFrom" .root | nindent 4 }}
  env:
    {{- include "coffee-order.env" (dict "root" .root "service" .service "role" .role) | nindent 4 }}
  securityContext:
    {{- toYaml .root.Values.securityContext | nindent 4 }}
  resources:
    {{- toYaml .resources | nindent 4 }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
{{- end }}

{{/* The migrations of the pod's service, first in every app pod, as its database's owner (values.yaml
     "migrations"); call with (dict "root" $ "image" <reference> "service" "order"). */}}
{{- define "coffee-order.migrateInitContainer" -}}
{{- if .root.Values.migrations.enabled }}
{{- $command := list "python" "-m" (printf "services.%s_ms.migrate" .service) "--wait" (toString .root.Values.migrations.waitSeconds) }}
{{- include "coffee-order.initContainer" (dict "root" .root "image" .image "name" "migrate" "command" $command "service" .service "role" "owner" "resources" .root.Values.migrations.resources) }}
{{- end }}
{{- end }}

{{/* Pod-level settings shared by every app pod; call with (dict "root" $ "values" .Values.orderMs). */}}
{{- define "coffee-order.podCommon" -}}
serviceAccountName: {{ include "coffee-order.serviceAccountName" .root }}
automountServiceAccountToken: false
{{- with .root.Values.image.pullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: {{ .values.terminationGracePeriodSeconds }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  # The root filesystem is read-only: gunicorn's worker heartbeat files and the Prometheus
  # multiprocess files go to this emptyDir.
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
  {{- if and .kafka (not .root.Values.kafka.enabled) .root.Values.externalKafka.caSecret }}
  - name: kafka-ca
    secret:
      secretName: {{ .root.Values.externalKafka.caSecret }}
  {{- end }}
{{- end }}

{{/* A worker Deployment (relay or consumer), a Kafka client; call with (dict "root" $ "component"
     "order-relay" "values" .Values.orderRelay "image" <reference> "module" "services.order_ms.relay"
     "service" "order" "extraEnv" <list of env entries>). */}}
{{- define "coffee-order.workerDeployment" -}}
{{- $selector := dict "root" .root "component" .component }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "coffee-order.componentName" $selector }}
  labels:
    {{- include "coffee-order.componentLabels" $selector | nindent 4 }}
spec:
  replicas: {{ .values.replicas }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "coffee-order.selectorLabels" $selector | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "coffee-order.selectorLabels" $selector | nindent 8 }}
        {{- include "coffee-order.clientLabels" (dict "root" .root "database" true "kafka" true) | trim | nindent 8 }}
      annotations:
        {{- include "coffee-order.checksums" .root | nindent 8 }}
        {{- with include "coffee-order.scrapeAnnotations" (dict "root" .root "port" .values.metricsPort) | trim }}
        {{- . | nindent 8 }}
        {{- end }}
        {{- with .values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- include "coffee-order.podCommon" (merge (dict "kafka" true) .) | nindent 6 }}
      {{- with include "coffee-order.migrateInitContainer" . | trim }}
      initContainers:
        {{- . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ .image }}
          imagePullPolicy: {{ .root.Values.image.pullPolicy }}
          command: ["python", "-m", {{ .module | quote }}]
          ports:
            - name: metrics
              containerPort: {{ .values.metricsPort }}
          envFrom:
            {{- include "coffee-order.envFrom" .root | nindent 12 }}
          env:
            - name: METRICS_PORT
              value: {{ .values.metricsPort | quote }}
            {{- with .extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
            {{- include "coffee-order.env" (dict "root" .root "service" .service "role" "app" "kafkaUser" .values.kafkaUser) | nindent 12 }}
          # No HTTP API here: the metrics port answering means the process started; /healthz on it answers
          # 503 when the loop has work it has not moved for too long (the consumer's CONSUMER_STALL_SECONDS),
          # so a consumer stuck in a batch is restarted, not left "running".
          startupProbe:
            httpGet: {path: /metrics, port: metrics}
            periodSeconds: 2
            failureThreshold: 60
          livenessProbe:
            httpGet: {path: /healthz, port: metrics}
            periodSeconds: 15
            timeoutSeconds: 3
            failureThreshold: 4
          securityContext:
            {{- toYaml .root.Values.securityContext | nindent 12 }}
          resources:
            {{- toYaml .values.resources | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if and (not .root.Values.kafka.enabled) .root.Values.externalKafka.caSecret }}
            - name: kafka-ca
              mountPath: /etc/kafka-ca
              readOnly: true
            {{- end }}
{{- end }}

{{/* An HTTP service under gunicorn: Deployment, Service, HPA and PDB; call with
     (dict "root" $ "component" "order-ms" "values" .Values.orderMs "image" <reference> "service" "order"
           "app" "services.order_ms:create_app()" "extraInitContainers" <yaml list or "">). */}}
{{- define "coffee-order.httpService" -}}
{{- $selector := dict "root" .root "component" .component }}
{{- $name := include "coffee-order.componentName" $selector }}
{{- $gunicorn := .values.gunicorn }}
{{- if le (int .values.terminationGracePeriodSeconds) (add $gunicorn.gracefulTimeout .values.preStopSleepSeconds | int) }}
{{- fail (printf "%s: terminationGracePeriodSeconds (%v) must be longer than preStopSleepSeconds + gunicorn.gracefulTimeout (%v), or requests in flight are cut off" .component .values.terminationGracePeriodSeconds (add $gunicorn.gracefulTimeout .values.preStopSleepSeconds)) }}
{{- end }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "coffee-order.componentLabels" $selector | nindent 4 }}
spec:
  {{- if not .values.autoscaling.enabled }}
  replicas: {{ .values.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  selector:
    matchLabels:
      {{- include "coffee-order.selectorLabels" $selector | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "coffee-order.selectorLabels" $selector | nindent 8 }}
        {{- include "coffee-order.clientLabels" (dict "root" .root "database" true) | trim | nindent 8 }}
      annotations:
        {{- include "coffee-order.checksums" .root | nindent 8 }}
        {{- with include "coffee-order.scrapeAnnotations" (dict "root" .root "port" .values.port) | trim }}
        {{- . | nindent 8 }}
        {{- end }}
        {{- with .values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- include "coffee-order.podCommon" . | nindent 6 }}
      {{- $init := printf "%s\n%s" (include "coffee-order.migrateInitContainer" .) (.extraInitContainers | default "") | trim }}
      {{- with $init }}
      initContainers:
        {{- . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ .image }}
          imagePullPolicy: {{ .root.Values.image.pullPolicy }}
          command: ["gunicorn", "-c", "services/platform/gunicorn_conf.py", {{ .app | quote }}]
          ports:
            - name: http
              containerPort: {{ .values.port }}
          envFrom:
            {{- include "coffee-order.envFrom" .root | nindent 12 }}
          env:
            - name: PORT
              value: {{ .values.port | quote }}
            - name: GUNICORN_WORKERS
              value: {{ $gunicorn.workers | quote }}
            - name: GUNICORN_THREADS
              value: {{ $gunicorn.threads | quote }}
            - name: GUNICORN_TIMEOUT
              value: {{ $gunicorn.timeout | quote }}
            - name: GUNICORN_GRACEFUL_TIMEOUT
              value: {{ $gunicorn.gracefulTimeout | quote }}
            # Inside the /tmp emptyDir: the root filesystem is read-only.
            - name: PROMETHEUS_MULTIPROC_DIR
              value: /tmp/prometheus-multiproc
            {{- include "coffee-order.env" (dict "root" .root "service" .service "role" "app") | nindent 12 }}
          startupProbe:
            httpGet: {path: /healthz, port: http}
            periodSeconds: 2
            failureThreshold: 60
          readinessProbe:
            httpGet: {path: /readyz, port: http}
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 3
          livenessProbe:
            httpGet: {path: /healthz, port: http}
            periodSeconds: 10
            timeoutSeconds: 3
            failureThreshold: 3
          lifecycle:
            preStop:
              exec:
                command: ["sleep", {{ .values.preStopSleepSeconds | quote }}]
          securityContext:
            {{- toYaml .root.Values.securityContext | nindent 12 }}
          resources:
            {{- toYaml .values.resources | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  labels:
    {{- include "coffee-order.componentLabels" $selector | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "coffee-order.selectorLabels" $selector | nindent 4 }}
  ports:
    - name: http
      port: {{ .values.port }}
      targetPort: http
      protocol: TCP
{{- if .values.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $name }}
  labels:
    {{- include "coffee-order.componentLabels" $selector | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $name }}
  minReplicas: {{ .values.autoscaling.minReplicas }}
  maxReplicas: {{ .values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .values.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- if .values.pdb.enabled }}
---
{{ include "coffee-order.pdb" . }}
{{- end }}
{{- end }}

{{/* A PodDisruptionBudget; call with (dict "root" $ "component" ... "values" ...). */}}
{{- define "coffee-order.pdb" -}}
{{- $selector := dict "root" .root "component" .component }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "coffee-order.componentName" $selector }}
  labels:
    {{- include "coffee-order.componentLabels" $selector | nindent 4 }}
spec:
  maxUnavailable: {{ .values.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "coffee-order.selectorLabels" $selector | nindent 6 }}
{{- end }}

{{/* NetworkPolicy egress rules: DNS, the database, Kafka (bundled: their pods; external: their ports,
     to networkPolicies.externalPeers or anywhere). */}}
{{- define "coffee-order.dnsEgress" -}}
- to:
    {{- toYaml .Values.global.dns | nindent 4 }}
  ports:
    - {port: 53, protocol: UDP}
    - {port: 53, protocol: TCP}
{{- end }}

{{- define "coffee-order.egressDatabase" -}}
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

{{- define "coffee-order.egressKafka" -}}
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
