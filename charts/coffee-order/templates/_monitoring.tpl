{{/* Prometheus scrape annotations for an app pod's template, when metrics.scrapeAnnotations is on (for a
     Prometheus that discovers pods by annotation); call with (dict "root" $ "port" <the /metrics port>). */}}
{{- define "coffee-order.scrapeAnnotations" -}}
{{- if .root.Values.metrics.scrapeAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end }}

{{/* "true" when the Prometheus Operator's object kind may be rendered: the cluster serves it (Helm
     fills .Capabilities.APIVersions from the cluster, or from --api-versions under helm template), or
     metrics.renderWithoutCRDs says to render it anyway; call with (dict "root" $ "kind" "ServiceMonitor"). */}}
{{- define "coffee-order.monitoringApi" -}}
{{- if or .root.Values.metrics.renderWithoutCRDs (.root.Capabilities.APIVersions.Has (printf "monitoring.coreos.com/v1/%s" .kind)) }}true{{ end }}
{{- end }}
