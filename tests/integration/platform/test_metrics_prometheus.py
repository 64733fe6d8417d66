"""A real Prometheus scrapes the whole stack: after a scripted workload its PromQL answers match what was done,
the alert rules evaluate, and every query of the Grafana dashboard runs and shows data."""
from __future__ import annotations

import json
import re
import time
import uuid

import pytest
import requests

from monitoring.local_prometheus import ALERT_RULES, job_name
from tests.support.accounts import new_customer
from tests.support.polling import wait_for
from tests.support.prometheus import PrometheusServer, sample_names, scrape
from tests.support.stack import ROOT

DASHBOARD = ROOT / "charts" / "coffee-order" / "files" / "grafana-dashboard.json"
ORDER = {"coffee_name": "flat white", "coffee_price": 3500, "coffee_qty": 2}
ORDERS_POSTED = 5
MOVED_TO_IN_DELIVERY = 2
POST_ORDER = 'service="order-ms", method="POST", route="/order-ms/<user_id>/orders", status="201"'
# Quantities whose change the workload fully determines, as PromQL over all workers and processes.
EXPECTED_CHANGES = {
    "sum(orders_created_total)": ORDERS_POSTED,
    # The idempotent replay is a 201 too, but no new order.
    f"sum(http_requests_total{{{POST_ORDER}}})": ORDERS_POSTED + 1,
    'sum(consumer_messages_total{result="created"})': ORDERS_POSTED,
    'sum(consumer_messages_total{result="duplicate"})': 0,
    'sum(delivery_status_changes_total{from_status="CONFIRMED", to_status="IN_DELIVERY"})': MOVED_TO_IN_DELIVERY,
    'max(deliveries{status="CONFIRMED"})': ORDERS_POSTED - MOVED_TO_IN_DELIVERY,
    'max(deliveries{status="IN_DELIVERY"})': MOVED_TO_IN_DELIVERY,
    # Every order event and every delivery event (each creation and each move) went through an outbox and was
    # acknowledged.
    'sum(outbox_events_published_total{topic="new_orders"})': ORDERS_POSTED,
    'sum(outbox_events_published_total{topic="delivery_status"})': ORDERS_POSTED + MOVED_TO_IN_DELIVERY,
}
SETTLED = ["sum(outbox_pending_events)", "sum(consumer_lag)"]
PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
                   "offset", "bool"}


@pytest.fixture(scope="module")
def prometheus(stack, tmp_path_factory):
    server = PrometheusServer(stack.metrics, tmp_path_factory.mktemp("prometheus"), scrape_interval="1s").start()
    yield server
    server.stop()


def settled(prometheus: PrometheusServer, since: float) -> bool:
    """Every target scraped after `since` and nothing in flight: no outbox backlog, no consumer lag."""
    return (prometheus.value("min(timestamp(up))") > since
            and all(prometheus.value(query) == 0 for query in SETTLED))


@pytest.fixture(scope="module")
def workload(stack, prometheus, base_url, staff_headers):
    """Waits for a quiet, fully scraped stack (time t0), then: a fresh customer posts orders (one twice with
    the same Idempotency-Key) through the ingress, and staff move some of their deliveries to IN_DELIVERY."""
    targets = len(stack.metrics)
    wait_for(lambda: prometheus.value("count(up == 1)") == targets, f"all {targets} targets up in Prometheus",
             timeout=30)
    since = time.time()
    wait_for(lambda: settled(prometheus, since), "a settled stack, scraped after the test began", timeout=30)
    t0 = time.time()
    baseline = {query: prometheus.value(query, at=t0) for query in EXPECTED_CHANGES}

    customer = new_customer(base_url, "prom")
    user_id, headers = customer.user_id, customer.headers
    order_ids = []
    for number in range(ORDERS_POSTED):
        key = {"Idempotency-Key": str(uuid.uuid4())}
        response = requests.post(f"{base_url}/order-ms/{user_id}/orders", json=ORDER, headers={**headers, **key},
                                 timeout=10)
        assert response.status_code == 201, response.text
        order_ids.append(response.json()["order_id"])
        if number == 0:
            replay = requests.post(f"{base_url}/order-ms/{user_id}/orders", json=ORDER, headers={**headers, **key},
                                   timeout=10)
            assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"

    def own_deliveries():
        response = requests.get(f"{base_url}/delivery-ms/deliveries", headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        return response.json() if len(response.json()) == ORDERS_POSTED else None

    deliveries = wait_for(own_deliveries, f"{ORDERS_POSTED} deliveries of {user_id}", timeout=30)
    assert sorted(d["order_id"] for d in deliveries) == sorted(order_ids)
    for delivery in deliveries[:MOVED_TO_IN_DELIVERY]:
        response = requests.put(f"{base_url}/delivery-ms/deliveries/{delivery['delivery_id']}/status",
                                json={"status": "IN_DELIVERY"}, headers=staff_headers, timeout=10)
        assert response.status_code == 200, response.text
    return baseline


def test_every_process_of_the_stack_is_a_healthy_target(stack, prometheus):
    expected = {job_name(process) for process in stack.metrics}
    wait_for(lambda: prometheus.value("count(up == 1)") == len(stack.metrics), "every target up", timeout=30)
    active = prometheus.api("targets", state="active")["activeTargets"]
    assert {target["labels"]["job"] for target in active} == expected
    assert all(target["health"] == "up" for target in active), [(t["scrapeUrl"], t["lastError"]) for t in active]


@pytest.mark.parametrize("query", sorted(EXPECTED_CHANGES))
def test_promql_counts_what_the_workload_did(prometheus, workload, query):
    expected = EXPECTED_CHANGES[query]
    changes = []

    def changed_as_expected():
        changes.append(prometheus.value(query) - workload[query])
        return changes[-1] == expected

    try:
        wait_for(changed_as_expected, f"{query} to change by {expected}", timeout=30)
    except AssertionError:
        raise AssertionError(f"{query} changed by {changes[-1]}, expected {expected}") from None


def test_backlog_and_lag_drain_to_zero_after_the_workload(prometheus, workload):
    since = time.time()
    wait_for(lambda: settled(prometheus, since), "outbox backlog and consumer lag back at 0", timeout=30)
    assert prometheus.value("max(outbox_oldest_pending_age_seconds)") < 5


def test_alert_rules_load_and_evaluate_against_the_stack(prometheus, workload):
    rules_text = ALERT_RULES.read_text()
    expected = set(re.findall(r"^\s*- alert: (\S+)", rules_text, re.MULTILINE))

    def evaluated_rules():
        rules = [rule for group in prometheus.api("rules")["groups"] for rule in group["rules"]]
        return rules if rules and all(rule.get("lastEvaluation", "").startswith("20") for rule in rules) else None

    rules = wait_for(evaluated_rules, "every alert rule evaluated once", timeout=30)
    assert {rule["name"] for rule in rules} == expected
    assert [(rule["name"], rule.get("lastError")) for rule in rules if rule["health"] != "ok"] == []


def dashboard_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [(f"{panel['title']} {target['refId']}", target["expr"])
            for panel in dashboard["panels"] for target in panel.get("targets", [])]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (not its functions, keywords, labels or strings)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for match in re.finditer(r"(?<![\w.$])[a-zA-Z_:][\w:]*", expr):
        if match.group() not in PROMQL_KEYWORDS and not expr[match.end():].lstrip().startswith("("):
            names.add(match.group())
    return names


def test_dashboard_names_only_metrics_the_stack_exposes(stack):
    exposed = set().union(*(sample_names(scrape(url)) for url in stack.metrics.values()))
    used = {name: title for title, expr in dashboard_queries() for name in metric_names(expr)}
    assert used, "no metric names found in the dashboard queries"
    assert {name: title for name, title in used.items() if name not in exposed} == {}


@pytest.mark.parametrize("title, expr", dashboard_queries(), ids=[title for title, _ in dashboard_queries()])
def test_dashboard_query_runs_and_shows_data(prometheus, workload, title, expr):
    # Grafana's variables, as they are with "All" namespaces and a rate window a 1 s scrape fills.
    promql = expr.replace("$__rate_interval", "1m").replace("$namespace", ".*")
    for name in metric_names(expr):
        assert prometheus.api("series", **{"match[]": name}), f"Prometheus has no {name} series"
    wait_for(lambda: prometheus.query(promql), f"data for the panel query {title}: {promql}", timeout=30)
