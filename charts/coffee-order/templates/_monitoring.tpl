{{/* Prometheus scrape annotations for an app pod's template, when metrics.scrapeAnnotations is on (for a
     Prometheus that discovers pods by annotation); call with (dict "root" $ "port" <the /metrics port>). */}}
{{- define "coffee-order.scrapeAnnotations" -}}
{{- if .root.Values.metrics.scrapeAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end }}
