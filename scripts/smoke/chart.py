"""What the chart renders with the smoke's values: the chart as Argo CD would render it, with the local MariaDB
and the smoke's Apache Kafka node as the external database and Kafka."""
from __future__ import annotations

import secrets
import subprocess

import yaml

from scripts.smoke.layout import (
    CHART,
    DATABASES,
    HELM,
    IMAGE_TAG,
    IMAGES,
    KAFKA_USERS,
    RUN_DIR,
    TOKEN_PUBLIC_KEYS_SECRET,
    TOKEN_SIGNING_KEY_SECRET,
    Ports,
)


def database_spec() -> list[dict]:
    """The two databases with an owner and an app user each, fresh passwords every run."""
    return [{"database": name, "owner": {"user": f"{name}_owner"[:32], "password": secrets.token_urlsafe(18)},
             "app": {"user": f"{name}_app"[:32], "password": secrets.token_urlsafe(18)}}
            for name in DATABASES.values()]


def render_chart(ports: Ports, db: dict[str, str], spec: list[dict]) -> list[dict]:
    """The chart as Argo CD would render it, every secret from an existing Secret."""
    values = {
        "global": {"secrets": "existing"},
        "image": {"registry": "", "tag": IMAGE_TAG, "pullPolicy": "Never",
                  "order": {"repository": IMAGES["order"][1]}, "delivery": {"repository": IMAGES["delivery"][1]}},
        "config": {"trustedProxies": "127.0.0.1"},  # nginx, the one proxy hop here
        "tokens": {"signingKey": {"existingSecret": TOKEN_SIGNING_KEY_SECRET},
                   "publicKeys": {"existingSecret": TOKEN_PUBLIC_KEYS_SECRET}},
        "orderMs": {"port": ports.order, "metricsPort": 9130 + ports.offset, "replicas": 1},
        "deliveryMs": {"port": ports.delivery, "metricsPort": 9140 + ports.offset, "replicas": 1},
        "orderMsStream": {"port": ports.order_stream, "metricsPort": 9133 + ports.offset, "replicas": 1},
        "deliveryMsStream": {"port": ports.delivery_stream, "metricsPort": 9143 + ports.offset, "replicas": 1},
        # Host networking: each process needs a metrics port of its own.
        "orderRelay": {"metricsPort": 9101 + ports.offset},
        "deliveryRelay": {"metricsPort": 9102 + ports.offset},
        "consumer": {"metricsPort": 9110 + ports.offset},
        "orderStatusConsumer": {"metricsPort": 9120 + ports.offset},
        "databases": DATABASES,
        "mariadb": {"enabled": False},
        "externalDatabase": {"host": db["DB_HOST"], "port": int(db["DB_PORT"]), "databases": {
            entry["database"]: {"ownerUser": entry["owner"]["user"], "appUser": entry["app"]["user"],
                                "existingSecret": f"smoke-db-{entry['database']}"} for entry in spec}},
        "kafka": {"enabled": False},
        "externalKafka": {"bootstrapServers": f"127.0.0.1:{ports.broker}", "securityProtocol": "SASL_PLAINTEXT",
                          "users": {user: {"existingSecret": f"smoke-kafka-{user}"} for user in KAFKA_USERS},
                          "newOrdersPartitions": 3, "deliveryStatusPartitions": 3},
    }
    values_file = RUN_DIR / "values.yaml"
    values_file.write_text(yaml.safe_dump(values))
    subprocess.run([str(HELM), "dependency", "build", str(CHART)], check=True, capture_output=True)
    rendered = subprocess.run([str(HELM), "template", "smoke", str(CHART), "-f", str(values_file)],
                              check=True, capture_output=True, text=True).stdout
    (RUN_DIR / "rendered.yaml").write_text(rendered)
    return [doc for doc in yaml.safe_load_all(rendered) if doc]

