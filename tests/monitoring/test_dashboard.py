"""The Grafana dashboard: valid JSON Grafana can import, with the panels operators need, on a chosen data source."""
from __future__ import annotations

import json

from tests.support.stack import ROOT

DASHBOARD = ROOT / "charts" / "coffee-order" / "files" / "grafana-dashboard.json"
REQUIRED_PANELS = {
    "Orders per second": ["orders_created_total"],
    "POST order latency (p50, p99)": ["http_request_duration_seconds_bucket", "0.5", "0.99", 'method="POST"'],
    "HTTP error rate (5xx share)": ["http_requests_total", '"5.."'],
    "Outbox backlog": ["outbox_pending_events"],
    "Consumer lag": ["consumer_lag"],
    "Deliveries by status": ["deliveries{"],
    "Overdue orders and re-publishes": ["orders_overdue", "orders_republished_total"],
}


def load() -> dict:
    return json.loads(DASHBOARD.read_text())


def test_dashboard_is_json_with_a_stable_uid_and_title():
    dashboard = load()
    assert dashboard["uid"] == "coffee-order" and dashboard["title"]
    assert isinstance(dashboard["schemaVersion"], int)


def test_the_required_panels_query_what_they_show():
    exprs = {panel["title"]: " ".join(target["expr"] for target in panel["targets"]) for panel in load()["panels"]}
    for title, fragments in REQUIRED_PANELS.items():
        assert title in exprs, f"no panel {title!r}"
        assert all(fragment in exprs[title] for fragment in fragments), (title, exprs[title])


def test_every_panel_uses_the_data_source_variable_and_has_a_unique_id():
    dashboard = load()
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"] and all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"])
        assert panel["description"], panel["title"]
