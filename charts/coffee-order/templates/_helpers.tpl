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

{{- define "coffee-order.dbUser" -}}
{{- if .Values.mariadb.enabled }}{{ .Values.mariadb.auth.username }}{{ else }}{{ .Values.externalDatabase.user }}{{ end }}
{{- end }}

{{- define "coffee-order.dbName" -}}
{{- if .Values.mariadb.enabled }}{{ .Values.mariadb.auth.database }}{{ else }}{{ .Values.externalDatabase.database }}{{ end }}
{{- end }}

{{/* The Secret and key holding DB_PASSWORD. */}}
{{- define "coffee-order.dbPasswordRef" -}}
{{- if .Values.mariadb.enabled -}}
name: {{ .Values.mariadb.auth.existingSecret | default (include "coffee-order.mariadbFullname" .) }}
key: mariadb-password
{{- else if .Values.externalDatabase.existingSecret -}}
name: {{ .Values.externalDatabase.existingSecret }}
key: {{ .Values.externalDatabase.existingSecretPasswordKey }}
{{- else -}}
name: {{ include "coffee-order.fullname" . }}
key: db-password
{{- end }}
{{- end }}

{{- define "coffee-order.jwtSecretName" -}}
{{- .Values.jwt.existingSecret | default (include "coffee-order.fullname" .) }}
{{- end }}

{{- define "coffee-order.kafkaBootstrapServers" -}}
{{- if .Values.kafka.enabled }}
{{- printf "%s:9092" (.Values.kafka.fullnameOverride | default (printf "%s-kafka" .Release.Name) | trunc 63 | trimSuffix "-") }}
{{- else }}
{{- required "externalKafka.bootstrapServers is required when kafka.enabled is false" .Values.externalKafka.bootstrapServers }}
{{- end }}
{{- end }}

{{- define "coffee-order.newOrdersPartitions" -}}
{{- if .Values.kafka.enabled }}{{ .Values.kafka.topics.newOrders.partitions }}{{ else }}{{ .Values.externalKafka.newOrdersPartitions }}{{ end }}
{{- end }}

{{/* Pod annotations that roll the pods when their configuration changes. */}}
{{- define "coffee-order.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}

{{/* The environment of every app container: the ConfigMap plus the two secrets. */}}
{{- define "coffee-order.env" -}}
- name: DB_PASSWORD
  valueFrom:
    secretKeyRef:
      {{- include "coffee-order.dbPasswordRef" . | nindent 6 }}
- name: JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "coffee-order.jwtSecretName" . }}
      key: jwt-secret
{{- end }}

{{- define "coffee-order.envFrom" -}}
- configMapRef:
    name: {{ include "coffee-order.fullname" . }}
{{- end }}

{{/* A one-shot init container with the app's environment; call with
     (dict "root" $ "image" <reference> "name" "migrate" "command" (list "python" "-m" ...)). */}}
{{- define "coffee-order.initContainer" -}}
- name: {{ .name }}
  image: {{ .image }}
  imagePullPolicy: {{ .root.Values.image.pullPolicy }}
  command: {{ toJson .command }}
  envFrom:
    {{- include "coffee-order.envFrom" .root | nindent 4 }}
  env:
    {{- include "coffee-order.env" .root | nindent 4 }}
  securityContext:
    {{- toYaml .root.Values.securityContext | nindent 4 }}
  resources:
    requests: {cpu: 20m, memory: 64Mi}
    limits: {memory: 128Mi}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
{{- end }}

{{/* The migrations, first in every app pod (see values.yaml "migrations"); call with (dict "root" $ "image" <reference>). */}}
{{- define "coffee-order.migrateInitContainer" -}}
{{- if .root.Values.migrations.enabled }}
{{- $command := list "python" "-m" "services.common.migrate" "--wait" (toString .root.Values.migrations.waitSeconds) }}
{{- include "coffee-order.initContainer" (dict "root" .root "image" .image "name" "migrate" "command" $command) }}
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
{{- end }}

{{/* A worker Deployment (relay or consumer); call with
     (dict "root" $ "component" "order-relay" "values" .Values.orderRelay "image" <reference> "module" "services.order_ms.relay"). */}}
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
      annotations:
        {{- include "coffee-order.checksums" .root | nindent 8 }}
        {{- with include "coffee-order.scrapeAnnotations" (dict "root" .root "port" .values.metricsPort) | trim }}
        {{- . | nindent 8 }}
        {{- end }}
        {{- with .values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- include "coffee-order.podCommon" . | nindent 6 }}
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
            {{- include "coffee-order.env" .root | nindent 12 }}
          # No HTTP API here: the metrics endpoint answering means the process is alive.
          startupProbe:
            httpGet: {path: /metrics, port: metrics}
            periodSeconds: 2
            failureThreshold: 60
          livenessProbe:
            httpGet: {path: /metrics, port: metrics}
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
{{- end }}

{{/* An HTTP service under gunicorn: Deployment, Service, HPA and PDB; call with
     (dict "root" $ "component" "order-ms" "values" .Values.orderMs "image" <reference>
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
          command: ["gunicorn", "-c", "services/gunicorn_conf.py", {{ .app | quote }}]
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
            {{- include "coffee-order.env" .root | nindent 12 }}
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
