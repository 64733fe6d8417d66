"""The local stack: MariaDB, a Kafka-protocol broker, both services with their relays and consumers, nginx
as the ingress and optionally Prometheus, each as a supervised process (`python -m scripts.stack --help`).

One module per component: `layout` (ports and folders of a profile), `supervisor` (starts, restarts and
stops processes), `holds` (keeping a process down on purpose), `mariadb`, `broker`, `application`, `ingress`,
`prometheus`, `state` (the state file and its one typed reader, `StackState`) and `cli`."""
