//go:build tools

// Package crds pins the Prometheus Operator's API types that controller-gen turns into the CRDs k8s-verify
// installs (ServiceMonitor, PodMonitor, PrometheusRule).
package crds

import _ "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
