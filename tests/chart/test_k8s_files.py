"""skaffold.yaml and k8s/ fit the chart: the images it injects, the namespace, ports and pins."""
from __future__ import annotations

import json
import re

import jsonschema
import pytest
import yaml

from tests.chart.image_contents import ROOT

SKAFFOLD = yaml.safe_load((ROOT / "skaffold.yaml").read_text())
VALUES = yaml.safe_load((ROOT / "charts" / "coffee-order" / "values.yaml").read_text())
SKAFFOLD_SCHEMA = ROOT / "k8s" / "schemas" / "skaffold-v4beta14.json"


def artifacts(config: dict) -> dict[str, dict]:
    return {a["image"]: a for a in config["build"]["artifacts"]}


def test_skaffold_injects_every_image_it_builds_into_real_values():
    (release,) = SKAFFOLD["deploy"]["helm"]["releases"]
    templates = release["setValueTemplates"]
    injected = set()
    for key, template in templates.items():
        node = VALUES
        for part in key.split("."):
            assert part in node, f"setValueTemplates {key} is not a chart value"
            node = node[part]
        (artifact,) = re.findall(r"\{\{\.IMAGE_(?:REPO|TAG)_(\w+)\}\}", template)
        injected.add(artifact)
    assert injected == {name.replace("-", "_") for name in artifacts(SKAFFOLD)}
    for name, artifact in artifacts(SKAFFOLD).items():
        assert (ROOT / artifact["docker"]["dockerfile"]).exists(), name
        assert VALUES["image"][name.removeprefix("coffee-")]["repository"] == name


def test_skaffold_profiles_reference_files_services_and_ports_that_exist(rendered):
    services = {d["metadata"]["name"]: d for d in rendered["defaults"] if d["kind"] == "Service"}
    profiles = {p["name"]: p for p in SKAFFOLD["profiles"]}
    for forward in profiles["dev"]["portForward"]:
        ports = [p["port"] for p in services[forward["resourceName"]]["spec"]["ports"]]
        assert forward["port"] in ports, forward
    for profile in profiles.values():
        for patch in profile.get("patches", []):
            value = patch["value"]
            if isinstance(value, bool):
                continue
            if isinstance(value, dict) and "after" in value:
                paths = [hook["host"]["command"][-1] for hook in value["after"]]
            else:
                paths = [value["docker"]["dockerfile"] if isinstance(value, dict) else value]
            for path in paths:
                assert (ROOT / path).exists(), path
    verify = profiles["ci"]["verify"][0]
    assert (ROOT / verify["executionMode"]["kubernetesCluster"]["jobManifestPath"]).exists()
    assert verify["container"]["image"] == "coffee-acceptance"


def test_skaffold_schema_check_rejects_a_typo():
    schema = json.loads(SKAFFOLD_SCHEMA.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert list(validator.iter_errors(SKAFFOLD)) == []
    broken = json.loads(json.dumps(SKAFFOLD))
    broken["deploy"]["helm"]["releases"][0]["chartpath"] = broken["deploy"]["helm"]["releases"][0].pop("chartPath")
    assert list(validator.iter_errors(broken))


def test_namespace_is_the_same_everywhere():
    namespace = yaml.safe_load((ROOT / "k8s" / "namespace.yaml").read_text())["metadata"]["name"]
    job = yaml.safe_load((ROOT / "k8s" / "acceptance-job.yaml").read_text())
    assert SKAFFOLD["deploy"]["helm"]["releases"][0]["namespace"] == namespace
    assert job["metadata"]["namespace"] == namespace
    env = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["KAFKA_BOOTSTRAP_SERVERS"].startswith(f"coffee-order-kafka.{namespace}.")


def test_kind_cluster_maps_the_ingress_ports_to_the_node_the_controller_runs_on():
    cluster = yaml.safe_load((ROOT / "k8s" / "kind-cluster.yaml").read_text())
    (node,) = [n for n in cluster["nodes"] if n.get("labels", {}).get("ingress-ready") == "true"]
    assert {m["containerPort"] for m in node["extraPortMappings"]} == {80, 443}


def pins(path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if match:
            found[match[1].lower().replace("_", "-")] = match[2]
    return found


@pytest.mark.parametrize("requirements", ["requirements.txt", "requirements-dev.txt"])
def test_acceptance_image_pins_match_the_project(requirements):
    project = pins(ROOT / requirements)
    acceptance = pins(ROOT / "k8s" / "acceptance-requirements.txt")
    assert {name: acceptance[name] for name in acceptance.keys() & project.keys()} == \
           {name: project[name] for name in acceptance.keys() & project.keys()}
    assert acceptance.keys() <= pins(ROOT / "requirements.txt").keys() | pins(ROOT / "requirements-dev.txt").keys()


def make_recipe(target: str) -> list[str]:
    """The command lines of a make target (mk/*.mk), as make would run them."""
    lines, inside = [], False
    for path in sorted((ROOT / "mk").glob("*.mk")):
        for line in path.read_text().splitlines():
            if line.startswith(f"{target}:"):
                inside = True
            elif inside and line.startswith("\t"):
                lines.append(line.strip().lstrip("@"))
            elif inside:
                inside = False
    return lines


def test_the_acceptance_suite_runs_under_skaffold_verify_and_its_failure_fails_the_target():
    """skaffold runs `verify` stages only under `skaffold verify`: the target builds, deploys and verifies
    the same artifacts with the profile that holds the verify stage, each step able to fail it."""
    recipe = make_recipe("k8s-acceptance")
    steps = [line.split()[1:3] for line in recipe if line.startswith("$(SKAFFOLD)")]
    assert steps == [["build", "-p"], ["deploy", "-p"], ["verify", "-p"]]
    profiles = {p["name"]: p for p in SKAFFOLD["profiles"]}
    for line in recipe:
        if line.startswith("$(SKAFFOLD)"):
            profile = line.split()[3]
            assert profiles[profile].get("verify"), f"{line}: profile {profile} has no verify stage"
            assert "$(SKAFFOLD_BUILD_OUTPUT)" in line, "every step must use the images of this build"
    assert not any(" run " in line or line.endswith(" run") for line in recipe)
    assert not any(line.startswith("-") or "|| true" in line for line in recipe), "a failing step must stop make"
    (verify,) = profiles["ci"]["verify"]
    job = yaml.safe_load((ROOT / verify["executionMode"]["kubernetesCluster"]["jobManifestPath"]).read_text())
    (container,) = job["spec"]["template"]["spec"]["containers"]
    # skaffold swaps the verify container into the Job by name; a failing suite fails the Job.
    assert container["name"] == verify["container"]["name"]
    assert job["spec"]["backoffLimit"] == 0 and job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert verify["container"]["image"] in artifacts(profile_applied(profiles["ci"]))


def profile_applied(profile: dict) -> dict:
    """skaffold.yaml with a profile's `add` patches applied (the only kind it uses)."""
    config = json.loads(json.dumps(SKAFFOLD))
    for patch in profile.get("patches", []):
        *parents, last = patch["path"].strip("/").split("/")
        node = config
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if last == "-":
            node.append(patch["value"])
        else:
            node[last] = patch["value"]
    return config


def test_images_are_pushed_whenever_a_default_repo_is_given():
    """`push: false` would keep images from a remote registry; without it skaffold pushes for any remote
    cluster, and the push profile turns pushing on whenever SKAFFOLD_DEFAULT_REPO is set."""
    assert "push" not in SKAFFOLD["build"]["local"]
    (push,) = [p for p in SKAFFOLD["profiles"] if p["name"] == "push"]
    assert push["activation"] == [{"env": "SKAFFOLD_DEFAULT_REPO=.+"}]
    assert profile_applied(push)["build"]["local"]["push"] is True


def test_helm_waits_long_enough_for_a_cold_start():
    flags = SKAFFOLD["deploy"]["helm"]["flags"]
    for command in ("install", "upgrade"):
        timeout = flags[command][flags[command].index("--timeout") + 1]
        assert timeout.endswith("m") and int(timeout[:-1]) >= 10, command
    assert SKAFFOLD["deploy"]["helm"]["releases"][0]["wait"] is True


def test_acceptance_job_reads_kafka_as_the_ci_values_user():
    values = yaml.safe_load((ROOT / "k8s" / "values-ci.yaml").read_text())
    job = yaml.safe_load((ROOT / "k8s" / "acceptance-job.yaml").read_text())
    env = {e["name"]: e for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    user = env["KAFKA_SASL_USERNAME"]["value"]
    acls = values["kafka"]["auth"]["users"][user]["acls"]
    assert all(set(acl["operations"]) <= {"Read", "Describe"} for acl in acls), "the suite only reads"
    assert env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == f"coffee-order-kafka-user-{user}"
    assert values["acceptance"]["enabled"] is True


def test_the_ci_profile_makes_the_suites_staff_account_the_operators_way(rendered, tmp_path):
    """After the deploy, k8s/uat-staff.sh stores a fresh password in the Secret the acceptance Job reads and
    gives the same one to `services.order_ms.staff create` in the order-ms container, on standard input. Run
    here against a kubectl that only notes what it is asked (no cluster needed)."""
    import os
    import subprocess

    (ci,) = [p for p in SKAFFOLD["profiles"] if p["name"] == "ci"]
    (hook,) = profile_applied(ci)["deploy"]["helm"]["hooks"]["after"]
    assert hook["host"]["command"] == ["sh", "k8s/uat-staff.sh"]
    notes = tmp_path / "kubectl-calls"
    fake = tmp_path / "bin" / "kubectl"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\n{{ echo "ARGS $*"; [ "$3" = create ] || sed "s/^/STDIN /"; }} >> {notes}\n')
    fake.chmod(0o755)
    subprocess.run(hook["host"]["command"], cwd=ROOT, check=True, timeout=30,
                   env={**os.environ, "PATH": f"{fake.parent}:{os.environ['PATH']}"})
    calls = notes.read_text().splitlines()
    (created,) = [c for c in calls if c.startswith("ARGS -n coffee-order create secret generic")]
    secret = created.split()[6]
    password = re.search(r"--from-literal=password=(\S+)", created).group(1)
    user_id = re.search(r"--from-literal=user-id=(\S+)", created).group(1)
    (exec_call,) = [c for c in calls if " exec " in c]
    assert calls[-1] == f"STDIN {password}" and len(password) >= 24
    assert f"-- python -m services.order_ms.staff create --user-id {user_id} --password-stdin" in exec_call
    assert password not in exec_call, "never on a command line"
    deployment, container = re.search(r"exec -i deploy/(\S+) -c (\S+)", exec_call).groups()
    (order_ms,) = [d for d in rendered["ci"] if d["kind"] == "Deployment" and d["metadata"]["name"] == deployment]
    assert container in [c["name"] for c in order_ms["spec"]["template"]["spec"]["containers"]]
    job = yaml.safe_load((ROOT / "k8s" / "acceptance-job.yaml").read_text())
    env = {e["name"]: e for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["UAT_STAFF_USER"]["valueFrom"]["secretKeyRef"] == {"name": secret, "key": "user-id"}
    assert env["UAT_STAFF_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": secret, "key": "password"}
