"""Every /metrics of the running stack: valid for promtool, summed over gunicorn workers, per route template."""
from __future__ import annotations

import os
import signal
import subprocess
import uuid
from pathlib import Path

import requests

from tests.support.accounts import new_customer
from tests.support.polling import wait_for
from tests.support.prometheus import sample_sum, samples, scrape
from tests.support.stack import current_pid

ORDER = {"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 6}
ORDERS_ROUTE = "/order-ms/<user_id>/orders"


def all_metrics_urls(stack) -> list[str]:
    """Each process's own /metrics (the only place they are served)."""
    return sorted(stack.metrics.values())


def test_every_metrics_endpoint_passes_promtool(stack):
    for url in all_metrics_urls(stack):
        text = scrape(url)
        checked = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        assert checked.returncode == 0, f"{url}:\n{checked.stdout}{checked.stderr}"


def post_order(order_url, user_id, headers, key=None):
    extra = {"Idempotency-Key": key} if key else {}
    # A new connection each time, so gunicorn hands the requests to whichever worker is free.
    response = requests.post(f"{order_url}/order-ms/{user_id}/orders", json=ORDER, headers={**headers, **extra},
                             timeout=10)
    assert response.status_code == 201, response.text
    return response


def test_orders_created_counts_new_orders_over_all_workers_but_not_replays(order_url, order_metrics_url, customer):
    user_id, headers = customer.user_id, customer.headers
    metrics_url = order_metrics_url
    before = scrape(metrics_url)
    key = str(uuid.uuid4())
    post_order(order_url, user_id, headers, key)
    assert post_order(order_url, user_id, headers, key).headers["Idempotent-Replayed"] == "true"
    for _ in range(5):
        post_order(order_url, user_id, headers)
    # Any worker may answer the scrape: each answer must hold the sum over all of them.
    for _ in range(4):
        after = scrape(metrics_url)
        assert sample_sum(after, "orders_created_total") - sample_sum(before, "orders_created_total") == 6
        posted = (sample_sum(after, "http_requests_total", route=ORDERS_ROUTE, method="POST", status="201")
                  - sample_sum(before, "http_requests_total", route=ORDERS_ROUTE, method="POST", status="201"))
        assert posted == 7


def test_request_metrics_use_the_route_template_not_the_path(order_url, order_metrics_url, customer):
    user_id, headers = customer.user_id, customer.headers
    post_order(order_url, user_id, headers)
    text = scrape(order_metrics_url)
    routes = {labels["route"] for labels in samples(text, "http_requests_total")}
    assert ORDERS_ROUTE in routes
    assert not [route for route in routes if user_id in route]


def test_unknown_methods_and_paths_share_one_series(order_url, order_metrics_url):
    for _ in range(3):
        response = requests.request(f"BREW{uuid.uuid4().hex[:8].upper()}", f"{order_url}/order-ms/{uuid.uuid4()}",
                                    timeout=10)
        assert response.status_code in {404, 405}
    text = scrape(order_metrics_url)
    methods = {labels["method"] for labels in samples(text, "http_requests_total")}
    assert "other" in methods and not [method for method in methods if method.startswith("BREW")]


def test_deliveries_gauge_is_the_count_in_the_database(stack, delivery_db):
    cursor = delivery_db.cursor()

    def counts_in_database():
        cursor.execute("SELECT status, COUNT(*) FROM delivery_status GROUP BY status")
        return dict(cursor.fetchall())

    def exposed_when_database_is_steady():
        # The stack's consumer may still be draining orders produced by earlier tests: compare
        # only while the table does not change around the scrape.
        before = counts_in_database()
        text = scrape(stack.metrics["delivery-ms"])
        after = counts_in_database()
        exposed = {labels["status"]: sample_sum(text, "deliveries", **labels) for labels in samples(text, "deliveries")}
        return (exposed, after) if before == after else None

    exposed, in_database = wait_for(exposed_when_database_is_steady, "a steady delivery_status table", timeout=60)
    assert set(exposed) == {"CONFIRMED", "IN_DELIVERY", "COMPLETED", "CANCELED"}
    assert exposed == {status: float(in_database.get(status, 0)) for status in exposed}


def gunicorn_workers(master_pid: int) -> set[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return {int(pid) for pid in children}


def test_a_killed_worker_takes_none_of_its_counts_with_it(stack, order_url, order_metrics_url, customer):
    """Counters of a dead worker stay in the sum (its files are kept); gunicorn replaces the worker."""
    user_id, headers = customer.user_id, customer.headers
    master = current_pid("order-ms")
    workers = gunicorn_workers(master)
    assert len(workers) >= 2, "order-ms should run several gunicorn workers"
    for _ in range(6):
        post_order(order_url, user_id, headers)
    before = sample_sum(scrape(order_metrics_url), "orders_created_total")
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: victim not in gunicorn_workers(master) and len(gunicorn_workers(master)) == len(workers),
             "gunicorn to replace the killed worker", timeout=30)
    wait_for(lambda: requests.get(f"{order_url}/readyz", timeout=5).status_code == 200, "order-ms ready", timeout=30)
    for _ in range(4):
        assert sample_sum(scrape(order_metrics_url), "orders_created_total") == before


def test_login_failures_are_counted_by_reason(base_url, order_url, order_metrics_url):
    """Straight to order-ms with an address of its own in X-Forwarded-For, so no other test's client is locked."""
    client = {"X-Forwarded-For": f"100.127.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"}
    user_id = new_customer(base_url, "metr").user_id

    def log_in(who, password):
        return requests.post(f"{order_url}/order-ms/login", json={"user_id": who, "password": password},
                             headers=client, timeout=10).status_code

    def failures():
        text = scrape(order_metrics_url)
        return {reason: sample_sum(text, "login_failures_total", reason=reason)
                for reason in ("invalid_credentials", "throttled")}

    before = failures()
    assert log_in(f"nobody-{uuid.uuid4().hex[:8]}", "a-long-password") == 401
    wrong = 0
    while (status := log_in(user_id, "not-the-password")) == 401:
        wrong += 1
        assert wrong < 50, "the client was never slowed down"
    assert status == 429
    after = failures()
    # An unknown user id and a wrong password are one reason: the metric must not tell which ids exist.
    assert {reason: after[reason] - before[reason] for reason in after} == {
        "invalid_credentials": wrong + 1,
        "throttled": 1,
    }
    assert "unknown_user" not in scrape(order_metrics_url)


def test_metrics_and_the_api_are_served_on_separate_ports(stack, order_url, delivery_url):
    """Each service's metrics port serves /metrics and the health checks and no API; its API port no /metrics. So a
    NetworkPolicy admitting monitoring to the one only keeps it from sending the API anything."""
    for service, api_url in (("order-ms", order_url), ("delivery-ms", delivery_url)):
        metrics_url = stack.metrics[service]
        metrics_port_url = metrics_url.removesuffix("/metrics")
        assert metrics_port_url != api_url
        assert requests.get(metrics_url, timeout=10).status_code == 200
        assert requests.get(f"{metrics_port_url}/readyz", timeout=10).json() == {"status": "ready"}
        for path in (f"/{service}/openapi.json", f"/{service}/healthz", "/"):
            refused = requests.get(f"{metrics_port_url}{path}", timeout=10)
            assert refused.status_code == 404 and refused.json()["hint"], f"{service} metrics port serves {path}"
        on_api_port = requests.get(f"{api_url}/metrics", timeout=10)
        assert on_api_port.status_code == 404
        assert on_api_port.headers["Content-Type"] == "application/problem+json"
    login = requests.post(f"{stack.metrics['order-ms'].removesuffix('/metrics')}/order-ms/login",
                          json={"user_id": "nobody", "password": "a-long-password"}, timeout=10)
    assert login.status_code == 404
