"""The token keys in the chart: no container but order-ms's own holds the private key, only the two HTTP services
get the public key set (relays, consumers, migrations and init containers get neither), and a generated key pair
is one pair (the published set verifies what the key signs)."""
from __future__ import annotations

import base64
import tempfile
from pathlib import Path

import pytest

from services.platform.token_keys import load_signing_key, load_verifying_keys
from tests.chart.conftest import THROWAWAY, RenderError

SIGNING_SECRETS = {"coffee-order-token-signing-key", "coffee-token-signing-key"}
PUBLIC_SECRETS = {"coffee-order-token-public-keys", "coffee-token-public-keys"}
POD_KINDS = {"Deployment", "StatefulSet", "Job", "Pod", "DaemonSet", "CronJob"}


def pod_spec(doc: dict) -> dict:
    spec = doc["spec"]
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec if doc["kind"] == "Pod" else spec["template"]["spec"]


def containers_with(docs: list[dict], secrets: set[str]) -> set[str]:
    """`<workload>/<container>` of every container (init containers included) that mounts or reads `secrets`."""
    found = set()
    for doc in docs:
        if doc["kind"] not in POD_KINDS:
            continue
        spec = pod_spec(doc)
        volumes = {v["name"] for v in spec.get("volumes", [])
                   if v.get("secret", {}).get("secretName") in secrets
                   or any(source.get("secret", {}).get("name") in secrets
                          for source in v.get("projected", {}).get("sources", []))}
        for container in spec.get("initContainers", []) + spec["containers"]:
            mounts = {m["name"] for m in container.get("volumeMounts", [])}
            env_refs = {e.get("valueFrom", {}).get("secretKeyRef", {}).get("name") for e in container.get("env", [])}
            env_from = {e.get("secretRef", {}).get("name") for e in container.get("envFrom", [])}
            if mounts & volumes or (env_refs | env_from) & secrets:
                found.add(f"{doc['metadata']['name']}/{container['name']}")
    return found


@pytest.mark.parametrize("values_set", ["defaults", "ci", "external", "production"])
def test_no_container_but_order_ms_has_the_private_key(rendered, values_set):
    assert containers_with(rendered[values_set], SIGNING_SECRETS) == {"coffee-order-order-ms/order-ms"}


@pytest.mark.parametrize("values_set", ["defaults", "ci", "external", "production"])
def test_only_the_http_services_get_the_public_keys_and_nothing_gets_a_token_secret(rendered, values_set):
    docs = rendered[values_set]
    assert containers_with(docs, PUBLIC_SECRETS) == {"coffee-order-order-ms/order-ms",
                                                     "coffee-order-delivery-ms/delivery-ms",
                                                     "coffee-order-order-ms-stream/order-ms-stream",
                                                     "coffee-order-delivery-ms-stream/delivery-ms-stream"}
    assert "JWT_SECRET" not in str(docs) and "jwt-secret" not in str(docs)


def test_the_generated_public_key_set_verifies_the_generated_key(rendered):
    secrets = {d["metadata"]["name"]: d["data"] for d in rendered["defaults"] if d["kind"] == "Secret"}
    with tempfile.TemporaryDirectory() as folder:
        signing, public = Path(folder) / "signing.pem", Path(folder) / "public.pem"
        signing.write_bytes(base64.b64decode(secrets["coffee-order-token-signing-key"]["signing-key.pem"]))
        public.write_bytes(base64.b64decode(secrets["coffee-order-token-public-keys"]["public-keys.pem"]))
        key = load_signing_key(str(signing), "signing-key.pem")
        assert set(load_verifying_keys(str(public), "public-keys.pem").by_kid) == {key.kid}


def test_the_token_keys_come_both_from_existing_secrets_or_neither(render):
    with pytest.raises(RenderError, match="or neither"):
        render(*THROWAWAY, "--set", "tokens.signingKey.existingSecret=mine")
