"""The order of one container smoke run (see the package's docstring): `python -m scripts.smoke [--keep]`."""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

import scripts.smoke
from scripts.smoke.chart import database_spec, render_chart
from scripts.smoke.databases import database_settings, provision_databases
from scripts.smoke.layout import (
    HELM,
    KAFKA_USERS,
    RUN_DIR,
    SKIPPED,
    TOKEN_PUBLIC_KEYS_SECRET,
    TOKEN_SIGNING_KEY_SECRET,
    Ports,
    log,
)
from scripts.smoke.podman import Podman, build_base_image, build_images, podman_available
from scripts.smoke.pods import Smoke
from scripts.stack.kafka_access import TOOLS_PRINCIPAL, Credentials, stack_definition
from scripts.stack.layout import ROOT
from services.platform.token_keys import ensure_key_pair


def main() -> int:
    parser = argparse.ArgumentParser(
        description=scripts.smoke.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep", action="store_true", help="leave everything running until Ctrl-C (to poke at it)")
    args = parser.parse_args()
    # A TERM (a CI timeout, `kill`) unwinds through the `finally` below, so no container is left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    podman = Podman()
    reason = podman_available(podman)
    if reason:
        if os.environ.get("CONTAINER_SMOKE_OPTIONAL") == "1":
            log(f"SKIPPED (CONTAINER_SMOKE_OPTIONAL=1): {reason}")
            return SKIPPED
        log(f"FAILED: podman cannot run here: {reason}")
        log("set CONTAINER_SMOKE_OPTIONAL=1 to skip the container smoke on purpose")
        return 1
    if not HELM.exists():
        raise SystemExit(f"{HELM} is missing: run scripts/setup.d/k8s-tools.sh")
    (RUN_DIR / "logs").mkdir(parents=True, exist_ok=True)
    ports = Ports(int(os.environ.get("CONTAINER_SMOKE_PORT_OFFSET", "12000")))
    db = database_settings()
    spec = database_spec()

    build_base_image(podman)
    build_images(podman)
    docs = render_chart(ports, db, spec)
    config_maps = {d["metadata"]["name"]: d["data"] for d in docs if d["kind"] == "ConfigMap"}
    signing_key, public_keys = ensure_key_pair(RUN_DIR / "token-keys")
    secret_values = {(TOKEN_SIGNING_KEY_SECRET, "signing-key.pem"): signing_key.read_text(),
                     (TOKEN_PUBLIC_KEYS_SECRET, "public-keys.pem"): public_keys.read_text()}
    for entry in spec:
        for role in ("owner", "app"):
            secret_values[(f"smoke-db-{entry['database']}", f"{role}-password")] = entry[role]["password"]
    kafka_credentials = Credentials.load_or_create(
        RUN_DIR / "kafka" / "credentials.json", stack_definition(), fresh=True
    )
    for user in KAFKA_USERS:
        secret_values[(f"smoke-kafka-{user}", "password")] = kafka_credentials.passwords[user]
    deployments = [d for d in docs if d["kind"] == "Deployment"]

    provision_databases(db, spec)
    smoke = Smoke(podman, ports, kafka_credentials)
    try:
        smoke.start_broker()
        started = {}
        for deployment in deployments:
            started[deployment["metadata"]["name"]] = smoke.run_pod(deployment, config_maps, secret_values)
        for name, container in started.items():
            smoke.wait_for_probes(name, container)
        services = [d["metadata"]["name"] for d in docs if d["kind"] == "Service"]
        for pod in (d for d in docs if d["kind"] == "Pod" and "test" in d["metadata"]["annotations"]["helm.sh/hook"]):
            smoke.run_helm_test(pod, services, config_maps, secret_values)
        staff = smoke.create_staff(next(name for name in started if name.endswith("-order-ms")))
        base_url = smoke.start_ingress()
        log(f"ingress {base_url} -> containers {', '.join(started)}")
        if args.keep:
            log("running; Ctrl-C (or kill) stops everything")
            try:
                signal.pause()
            except KeyboardInterrupt:
                return 0
        results = os.environ.get("TEST_RESULTS", str(ROOT / "test-results"))
        suite = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "tests/acceptance",
                "-m",
                "smoke",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--junitxml={results}/container-smoke.xml",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "BASE_URL": base_url,
                "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{ports.broker}",
                **kafka_credentials.client_env(TOOLS_PRINCIPAL),
                **staff,
                "UAT_REPORT_DIR": f"{results}/container-smoke",
            },
        )
        suite_status = suite.returncode
    finally:
        unclean = smoke.stop()
        log(f"stopped; logs in {RUN_DIR / 'logs'}")
    if unclean:
        log("did not stop cleanly on SIGTERM: " + "; ".join(unclean))
        return 1
    return suite_status


if __name__ == "__main__":
    sys.exit(main())
