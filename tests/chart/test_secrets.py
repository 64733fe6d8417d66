"""Secrets survive GitOps and reinstalls: existing Secrets render the same every time, generated ones are
kept on uninstall, and a render that cannot keep them refuses instead of inventing new ones."""
from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from tests.chart.conftest import CHART, THROWAWAY, RenderError

PRODUCTION = ["-f", str(CHART / "ci" / "production-values.yaml")]
# Every place a password or a token key can come from, as the values of the production example set it.
EXISTING = ["tokens.signingKey.existingSecret", "tokens.publicKeys.existingSecret", "mariadb.auth.existingSecret",
            "mariadb.databases.coffee_order.existingSecret",
            "mariadb.databases.coffee_delivery.existingSecret", "kafka.auth.broker.existingSecret",
            "kafka.auth.admin.existingSecret", "kafka.auth.users.order-relay.existingSecret",
            "kafka.auth.users.delivery-relay.existingSecret", "kafka.auth.users.delivery-consumer.existingSecret",
            "kafka.auth.users.order-status-consumer.existingSecret"]


def secret_refs(docs: list[dict]) -> set[str]:
    """Every Secret a pod of the render reads."""
    found = set()
    for doc in docs:
        if doc["kind"] not in {"Deployment", "StatefulSet", "Job", "Pod"}:
            continue
        text = yaml.safe_dump(doc)
        found |= set(re.findall(r"secretKeyRef:\s+key: \S+\s+name: (\S+)", text))
        found |= set(re.findall(r"secretName: (\S+)", text))
    return found


def test_without_cluster_access_generating_a_secret_is_refused(render):
    """helm template, Argo CD and --dry-run=client cannot look the kept value up: a new random one would
    change the database passwords and the token keys on every sync, so the render stops and says why."""
    with pytest.raises(RenderError) as refused:
        render()
    message = str(refused.value)
    assert "Helm cannot reach the cluster" in message
    assert "global.secrets=existing" in message and "global.secrets=throwaway" in message


@pytest.mark.parametrize("unset", EXISTING)
def test_gitops_mode_names_the_missing_existing_secret(render, unset):
    with pytest.raises(RenderError, match=re.escape(unset)):
        render(*PRODUCTION, "--set", f"{unset}=")


def test_gitops_renders_are_identical_and_hold_no_secret(render):
    """With every secret from an existing Secret, two renders are byte for byte the same (no diff in Argo
    CD) and reference exactly the Secrets the values name."""
    argv = ["template", "coffee-order", str(CHART), "--namespace", "coffee-order", *PRODUCTION]
    from tests.chart.conftest import HELM
    first, second = (subprocess.run([str(HELM), *argv], check=True, capture_output=True, text=True).stdout
                     for _ in range(2))
    assert first == second
    docs = [d for d in yaml.safe_load_all(first) if d]
    assert not [d for d in docs if d["kind"] == "Secret"]
    values = yaml.safe_load((CHART / "ci" / "production-values.yaml").read_text())
    named = {values["tokens"]["signingKey"]["existingSecret"], values["tokens"]["publicKeys"]["existingSecret"],
             values["mariadb"]["auth"]["existingSecret"],
             *(entry["existingSecret"] for entry in values["mariadb"]["databases"].values()),
             values["kafka"]["auth"]["broker"]["existingSecret"], values["kafka"]["auth"]["admin"]["existingSecret"],
             *(user["existingSecret"] for user in values["kafka"]["auth"]["users"].values())}
    assert secret_refs(docs) == named


def test_generated_secrets_are_kept_on_uninstall_and_are_all_a_pod_reads(rendered):
    """Uninstall leaves them (with the volumes), so a reinstall looks the same values up again."""
    docs = rendered["defaults"]
    generated = [d for d in docs if d["kind"] == "Secret"]
    assert {d["metadata"]["annotations"].get("helm.sh/resource-policy") for d in generated} == {"keep"}
    assert {d["metadata"]["name"] for d in generated} == secret_refs(docs)
    assert len(generated) == 11, "two token keys, root, two databases, the Kafka broker, admin and four users"


def test_throwaway_secrets_differ_on_every_render(render):
    """What global.secrets=throwaway is for (reading helm template output) and why it is never applied."""
    def signing_key(docs):
        return next(d for d in docs if d["kind"] == "Secret"
                    and d["metadata"]["name"] == "coffee-order-token-signing-key")["data"]
    assert signing_key(render(*THROWAWAY)) != signing_key(render(*THROWAWAY))


def test_generated_values_are_looked_up_before_being_made():
    """Every generated secret goes through lookup of its own Secret first: an upgrade or a reinstall
    finds the kept value, and only a missing key gets a new random one."""
    text = (CHART / "templates" / "secret.yaml").read_text()
    assert text.index('lookup "v1" "Secret" .') < text.index('genPrivateKey'), "the token key"
    assert text.count("genPrivateKey") == 1, "one key, made only when neither lookup nor existingSecret gives one"
    templates = [CHART.parent / "mariadb" / "templates" / "_helpers.tpl",
                 CHART.parent / "kafka" / "templates" / "_helpers.tpl"]
    for template in templates:
        text = template.read_text()
        kept = text.index('lookup "v1" "Secret" .')
        made = text.index("randAlphaNum", kept)
        assert kept < made, template
        assert text.count("randAlphaNum") == 2, f"{template}: one for throwaway, one after the lookup"
