"""The chart and the local stack give Kafka the same principals and ACLs: both come from kafka.auth.users of the
chart's values (scripts/stack/kafka_access.py reads them), and this checks what the chart renders from them."""
from __future__ import annotations

import re
import shlex

import yaml

from scripts.stack.kafka_access import PROCESS_PRINCIPALS, TOOLS_PRINCIPAL, Acl, chart_definition, stack_definition
from scripts.stack.kafka_dist import kafka_version
from scripts.stack.layout import ROOT

ACL_COMMAND = re.compile(r'^"\$bin/kafka-acls\.sh" .*$', re.MULTILINE)
SCRAM_COMMAND = re.compile(r'^"\$bin/kafka-configs\.sh" .*--entity-name (\S+)', re.MULTILINE)


def topics_script(docs: list[dict]) -> str:
    return next(doc["data"]["topics.sh"] for doc in docs if doc["kind"] == "ConfigMap" and "topics.sh" in doc["data"])


def rendered_acls(script: str) -> set[Acl]:
    """Every ACL the topics Job adds, from its `kafka-acls.sh --add --allow-principal ... --operation ...` lines."""
    acls = set()
    for line in ACL_COMMAND.findall(script):
        words = shlex.split(line)
        principal = words[words.index("--allow-principal") + 1].removeprefix("User:")
        resource = next(word[2:] for word in words if word in ("--topic", "--group", "--cluster", "--transactional-id"))
        name = words[words.index(f"--{resource}") + 1]
        acls |= {Acl(principal, resource, name, words[i + 1]) for i, word in enumerate(words) if word == "--operation"}
    return acls


def test_the_topics_job_adds_exactly_the_stacks_acls(rendered):
    script = topics_script(rendered["defaults"])
    stack = stack_definition()
    assert rendered_acls(script) == {acl for acl in stack.acls() if acl.principal != TOOLS_PRINCIPAL}
    assert rendered_acls(script) == chart_definition().acls()


def test_the_topics_job_sets_scram_credentials_for_exactly_the_stacks_users(rendered):
    users = {shlex.split(name)[0] for name in SCRAM_COMMAND.findall(topics_script(rendered["defaults"]))}
    assert users == set(stack_definition().users) - {TOOLS_PRINCIPAL}


def test_only_the_local_tools_principal_is_added_by_the_stack_and_it_administers_nothing():
    stack, chart = stack_definition(), chart_definition()
    assert set(stack.users) - set(chart.users) == {TOOLS_PRINCIPAL}
    assert (stack.broker, stack.admin) == (chart.broker, chart.admin)
    tools = {acl for acl in stack.acls() if acl.principal == TOOLS_PRINCIPAL}
    assert {acl.resource for acl in tools} == {"topic", "group"}
    assert {acl.operation for acl in tools} <= {"Read", "Write", "Describe"}


def test_each_deployment_logs_in_as_the_stacks_process_of_that_component(rendered):
    logins = {}
    for doc in rendered["defaults"]:
        if doc["kind"] != "Deployment":
            continue
        for container in doc["spec"]["template"]["spec"]["containers"]:
            env = {item["name"]: item.get("value") for item in container.get("env", [])}
            if "KAFKA_SASL_USERNAME" in env:
                logins[doc["metadata"]["name"].removeprefix("coffee-order-")] = env["KAFKA_SASL_USERNAME"]
    assert logins == PROCESS_PRINCIPALS


def test_the_chart_runs_the_local_stacks_kafka_release_line():
    chart = yaml.safe_load((ROOT / "charts" / "kafka" / "values.yaml").read_text())["image"]["tag"]
    app_version = yaml.safe_load((ROOT / "charts" / "kafka" / "Chart.yaml").read_text())["appVersion"]
    local = kafka_version()
    assert chart.split(".")[:2] == local.split(".")[:2], f"chart {chart}, local stack {local}"
    assert app_version == chart


def test_the_topics_job_sets_the_contracts_topic_settings(rendered):
    """Compaction of account_versions (and any other topic setting of services/contracts/topics.py) is set by the
    topics Job, on existing topics too, and only there."""
    from services.contracts.topics import TOPIC_CONFIGS

    script = topics_script(rendered["defaults"])
    listed = script.split("<<'TOPIC_CONFIGS'\n")[1].split("\nTOPIC_CONFIGS")[0].split()
    rendered_configs: dict[str, dict[str, str]] = {}
    for line in listed:
        name, key, value = line.split("=")
        rendered_configs.setdefault(name, {})[key] = value
    assert rendered_configs == TOPIC_CONFIGS
    assert '--entity-type topics --entity-name "$name" --add-config "$setting"' in script
