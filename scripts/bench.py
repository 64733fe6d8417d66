"""`make bench`: throughput and latency of the local stack, written to bench/results.md.

Starts its own `bench` stack (ports +4000, databases coffee_bench_*) unless BENCH_STATE points at the
state.json of a running one, then measures through the nginx ingress with wrk:
  1. POST /order-ms/{user}/orders   (8 connections, BENCH_SECONDS each)
  2. GET  /order-ms/{user}/orders?limit=50
  3. order -> delivery latency: BENCH_ORDERS orders posted one after another, each timed from the
     order's ordered_at to its delivery_status.created_at (both written by the same clock, UTC).
"""
from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import mariadb
import requests

ROOT = Path(__file__).resolve().parents[1]
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
ORDERS = int(os.environ.get("BENCH_ORDERS", "200"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
PY = sys.executable
# Targets for this 2-core machine with everything on it (services, nginx, MariaDB, broker, wrk).
TARGET_POST_RPS = 150
TARGET_GET_RPS = 300
TARGET_DELIVERY_P99_MS = 1000


def wrk(url: str, script: str, token: str) -> dict:
    out = subprocess.run(
        ["wrk", f"-c{CONNECTIONS}", "-t2", f"-d{SECONDS}s", "--latency", "-s", str(ROOT / "bench" / script), url],
        env={**os.environ, "TOKEN": token}, capture_output=True, text=True, check=True,
    ).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1),
        "p99": re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


def customer_token(base_url: str) -> tuple[str, str]:
    user_id = f"bench-{uuid.uuid4().hex[:10]}"
    body = {"user_id": user_id, "password": "bench-password"}
    requests.post(f"{base_url}/order-ms/users", json=body, timeout=10).raise_for_status()
    token = requests.post(f"{base_url}/order-ms/login", json=body, timeout=10).json()["access_token"]
    return user_id, token


def delivery_latencies(base_url: str, state: dict, user_id: str, token: str) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    order_ids = []
    for _ in range(ORDERS):
        response = requests.post(f"{base_url}/order-ms/{user_id}/orders", headers=headers, timeout=10,
                                 json={"coffee_name": "latency", "coffee_price": 1, "coffee_qty": 1})
        response.raise_for_status()
        order_ids.append(response.json()["order_id"])
    env, admin = state["env"], state["admin"]
    orders_db, deliveries_db = state["databases"]["order_ms"]["database"], state["databases"]["delivery_ms"]["database"]
    # The server's admin may join the two services' databases; the services themselves cannot.
    conn = mariadb.connect(host=env["DB_HOST"], port=int(env["DB_PORT"]), user=admin["DB_USER"],
                           password=admin["DB_PASSWORD"], autocommit=True)
    cursor = conn.cursor()
    marks = ",".join("?" * len(order_ids))
    deadline = time.monotonic() + 120
    while True:
        cursor.execute(
            f"SELECT TIMESTAMPDIFF(MICROSECOND, o.ordered_at, d.created_at) FROM `{orders_db}`.orders o"
            f" JOIN `{deliveries_db}`.delivery_status d ON d.order_id = o.order_id WHERE o.order_id IN ({marks})",
            order_ids)
        rows = cursor.fetchall()
        if len(rows) == len(order_ids) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    conn.close()
    if len(rows) != len(order_ids):
        raise SystemExit(f"only {len(rows)} of {len(order_ids)} orders became deliveries within 120 s")
    return sorted(row[0] / 1000 for row in rows)


def percentile(values: list[float], fraction: float) -> float:
    return values[min(len(values) - 1, int(round(fraction * (len(values) - 1))))]


def main() -> int:
    state_path = os.environ.get("BENCH_STATE")
    started = False
    if not state_path:
        subprocess.run([PY, "-m", "scripts.stack", "up", "--profile", "bench"], cwd=ROOT, check=True,
                       env={**os.environ, "STACK_PORT_OFFSET": "4000", "LOG_LEVEL": "WARNING"})
        state_path = ROOT / ".run" / "bench" / "state.json"
        started = True
    try:
        state = json.loads(Path(state_path).read_text())
        base_url = state["base_url"]
        user_id, token = customer_token(base_url)
        post = wrk(f"{base_url}/order-ms/{user_id}/orders", "post_order.lua", token)
        get = wrk(f"{base_url}/order-ms/{user_id}/orders?limit=50", "get_orders.lua", token)
        latencies = delivery_latencies(base_url, state, user_id, token)
    finally:
        if started:
            subprocess.run([PY, "-m", "scripts.stack", "down", "--profile", "bench"], cwd=ROOT,
                           env={**os.environ, "STACK_PORT_OFFSET": "4000"})
    met = (post["errors"] == 0 and get["errors"] == 0 and post["requests_per_second"] >= TARGET_POST_RPS
           and get["requests_per_second"] >= TARGET_GET_RPS and percentile(latencies, 0.99) < TARGET_DELIVERY_P99_MS)
    report = f"""# Benchmark results

Measured by `make bench` on {time.strftime('%Y-%m-%d')} ({os.cpu_count()} cores, {platform.python_implementation()}
{platform.python_version()}, gunicorn 2 workers per service, nginx ingress, MariaDB and the tansu broker on
the same machine); wrk with {CONNECTIONS} connections for {SECONDS} s per endpoint.

| measurement | target | result |
| --- | --- | --- |
| POST /order-ms/{{user}}/orders | ≥ {TARGET_POST_RPS} req/s, no errors | {post['requests_per_second']:.0f} req/s, p50 {post['p50']}, p99 {post['p99']}, {post['errors']} errors |
| GET /order-ms/{{user}}/orders?limit=50 | ≥ {TARGET_GET_RPS} req/s, no errors | {get['requests_per_second']:.0f} req/s, p50 {get['p50']}, p99 {get['p99']}, {get['errors']} errors |
| order → delivery ({len(latencies)} orders, one at a time) | p99 < {TARGET_DELIVERY_P99_MS} ms | p50 {statistics.median(latencies):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms, max {latencies[-1]:.0f} ms |

Targets {"met" if met else "MISSED"}. Reproduce with `make bench` (BENCH_SECONDS, BENCH_ORDERS and
BENCH_CONNECTIONS tune the run; GUNICORN_WORKERS and GUNICORN_THREADS the services).
"""
    (ROOT / "bench" / "results.md").write_text(report)
    print(report)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
