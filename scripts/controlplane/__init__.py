"""The local Kubernetes control plane (`make k8s-up`, `make k8s-down`) and the chart's checks against it
(`make k8s-verify`)."""
