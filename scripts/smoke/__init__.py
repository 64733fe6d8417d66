"""Container smoke: builds both images with podman and runs the chart's pods from them behind nginx.

    .venv/bin/python -m scripts.smoke          # what `make container-smoke` runs

1. A Debian bookworm base image made locally with debootstrap (no registry can be reached here), cached
   in podman's storage under .run/podman/ together with the build layers, so a second run only
   rebuilds what changed.
2. Dockerfile.order and Dockerfile.delivery built on it (`--build-arg BASE_IMAGE`).
3. `helm template` of charts/coffee-order with the local MariaDB and an Apache Kafka node (SASL/SCRAM with the
   chart's users and ACLs, scripts/stack/kafka_access.py) as the external database and Kafka (every secret
   from an existing Secret, as in GitOps); the two databases and their owner and app users are made by
   `python -m services.platform.provision`, the topics by `python -m services.platform.kafka_topics`. Every
   Deployment of the output is run as its pod would be: init containers first, then the container with the
   rendered command, environment, user, read-only root filesystem, dropped capabilities and emptyDir mounts
   (host networking, one replica each).
4. Each container's startup and readiness probes are polled as the kubelet would, the chart's
   `helm test` pod runs, the suite's staff account is made with `podman exec` of services.order_ms.staff (as
   `kubectl exec` would), then nginx (the local stack's ingress, scripts/stack/ingress.py) fronts order-ms and
   delivery-ms, and the acceptance suite's smoke cases run through it.
5. Every container is stopped as Kubernetes stops a pod (SIGTERM, then the pod's grace period) and must
   exit 0 within it: one that needs SIGKILL or exits with an error fails the smoke.

Ports are the standard ones shifted by CONTAINER_SMOKE_PORT_OFFSET (default 12000: below the kernel's ephemeral
range, so no outgoing connection can hold one of them, and clear of the test stack's +10000); the databases are
coffee_smoke_order and coffee_smoke_delivery, dropped first so the migrations run from nothing.
When podman cannot run here the smoke fails, unless CONTAINER_SMOKE_OPTIONAL=1 asks to skip it: then it
prints SKIPPED and exits 77, which scripts/test.sh reports as a skipped suite.

One module per job: `layout` (names, folders, ports), `podman` (podman and the images), `chart` (what the chart
renders with the smoke's values), `databases` (the server and the smoke's databases), `pods` (the rendered pods,
their probes and nginx, stopped as the kubelet would) and `__main__` (the order of a run).
"""
