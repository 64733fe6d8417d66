"""schemathesis against the running stack through the ingress: each service's OpenAPI document, once with a
customer's token and once with a staff token, with a fixed budget of generated requests per operation.

Every check is on: no server errors; status codes, content types, bodies and headers as documented;
documented-valid data accepted and invalid data refused; without a valid token, refused. Exits non-zero
when any run finds a failure. JUnit reports land in $TEST_RESULTS/schemathesis/.

    python -m scripts.api.fuzz [--max-examples N] [--seed S]    # BASE_URL, UAT_STAFF_USER/UAT_STAFF_PASSWORD
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "tests" / "api" / "schemathesis.toml"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
SERVICES = ("order-ms", "delivery-ms")
PASSWORD = "fuzz-customer-password"


def token(base_url: str, user_id: str, password: str) -> str:
    response = requests.post(f"{base_url}/order-ms/login", json={"user_id": user_id, "password": password}, timeout=10)
    if response.status_code != 200:
        raise SystemExit(f"login of {user_id} failed: {response.status_code} {response.text[:300]}")
    return response.json()["access_token"]


def new_customer(base_url: str) -> str:
    user_id = f"fuzz-{uuid.uuid4().hex[:12]}"
    response = requests.post(f"{base_url}/order-ms/users", json={"user_id": user_id, "password": PASSWORD}, timeout=10)
    if response.status_code != 201:
        raise SystemExit(f"sign-up failed: {response.status_code} {response.text[:300]}")
    return user_id


def run_config(results: Path, name: str, pinned: dict[str, str]) -> Path:
    """The shared settings plus this run's pinned parameters, as a file schemathesis reads."""
    text = CONFIG.read_text()
    if pinned:
        text += "\n[parameters]\n" + "".join(f'"{key}" = "{value}"\n' for key, value in pinned.items())
    path = results / f"{name}.toml"
    path.write_text(text)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("API_FUZZ_EXAMPLES", "30")),
                        help="generated requests per operation and phase (default 30, or API_FUZZ_EXAMPLES)")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("API_FUZZ_SEED", "20261128")))
    args = parser.parse_args()
    base_url = os.environ.get("BASE_URL", "http://127.0.0.1:8080").rstrip("/")
    results = Path(os.environ.get("TEST_RESULTS") or ROOT / "test-results") / "schemathesis"
    results.mkdir(parents=True, exist_ok=True)

    if not (os.environ.get("UAT_STAFF_USER") and os.environ.get("UAT_STAFF_PASSWORD")):
        raise SystemExit("set UAT_STAFF_USER and UAT_STAFF_PASSWORD to a staff account (`python -m scripts.stack env`"
                         " exports the local stack's; elsewhere make one with"
                         " `python -m services.order_ms.staff create`)")
    # Both tokens first: the fuzzed logins below may lock this client's address out of login for a while.
    customer = new_customer(base_url)
    tokens = {
        "customer": token(base_url, customer, PASSWORD),
        # The staff account the operator made (the local stack's: `python -m scripts.stack env` exports it).
        "staff": token(base_url, os.environ["UAT_STAFF_USER"], os.environ["UAT_STAFF_PASSWORD"]),
    }
    # The customer acts in its own name, so its orders are really placed; staff gets generated user ids.
    pinned = {"customer": {"path.user_id": customer}, "staff": {}}
    failed = []
    for service in SERVICES:
        for role, bearer in tokens.items():
            name = f"{service}-{role}"
            print(f"=== schemathesis: {name}", flush=True)
            command = [
                str(SCHEMATHESIS), "--no-color", "--config-file", str(run_config(results, name, pinned[role])), "run",
                f"{base_url}/{service}/openapi.json", "--url", base_url,
                "--header", f"Authorization: Bearer {bearer}",
                "--max-examples", str(args.max_examples), "--seed", str(args.seed), "--workers", "1",
                "--report", "junit", "--report-junit-path", str(results / f"{name}.xml"),
            ]
            if subprocess.run(command, cwd=results).returncode != 0:
                failed.append(name)
    if failed:
        print(f"schemathesis found failures in: {', '.join(failed)}")
        return 1
    print("schemathesis: no failures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
