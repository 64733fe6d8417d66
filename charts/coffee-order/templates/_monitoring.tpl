{{/* "true" when the Prometheus Operator's object kind may be rendered: the cluster serves it (Helm
     fills .Capabilities.APIVersions from the cluster, or from --api-versions under helm template), or
     metrics.renderWithoutCRDs says to render it anyway; call with (dict "root" $ "kind" "ServiceMonitor"). */}}
{{- define "coffee-order.monitoringApi" -}}
{{- if or .root.Values.metrics.renderWithoutCRDs (.root.Capabilities.APIVersions.Has (printf "monitoring.coreos.com/v1/%s" .kind)) }}true{{ end }}
{{- end }}
