"""The alert rules: valid for promtool, each with a severity, a summary and a hint, proven by promtool unit tests."""
from __future__ import annotations

import subprocess

import yaml

from monitoring.local_prometheus import ALERT_RULES
from tests.support.stack import ROOT

RULE_TESTS = ROOT / "monitoring" / "alerts.test.yml"
# What the issue asks alerts for, and the rule that covers it.
REQUIRED_ALERTS = {
    "outbox backlog growing": "CoffeeOrderOutboxBacklogGrowing",
    "consumer lag high": "CoffeeOrderConsumerLagHigh",
    "dead letters appearing": "CoffeeOrderDeadLetters",
    "HTTP 5xx rate": "CoffeeOrderHttp5xxRateHigh",
    "a target down": "CoffeeOrderTargetDown",
    "a service not ready": "CoffeeOrderServiceNotReady",
    "orders overdue (no delivery event)": "CoffeeOrderOrdersOverdue",
}


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, cwd=ROOT)


def alert_rules() -> list[dict]:
    groups = yaml.safe_load(ALERT_RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_promtool_accepts_the_rules():
    checked = promtool("check", "rules", str(ALERT_RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_promtool_unit_tests_pass():
    tested = promtool("test", "rules", str(RULE_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_required_alerts_exist():
    names = {rule["alert"] for rule in alert_rules()}
    assert {need: name for need, name in REQUIRED_ALERTS.items() if name not in names} == {}


def test_every_alert_has_a_severity_a_summary_and_a_hint():
    for rule in alert_rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"].strip(), rule["alert"]
        assert len(rule["annotations"]["hint"].split()) >= 8, f"{rule['alert']}: the hint should say what to do"


def test_every_alert_has_a_unit_test_where_it_fires_and_one_where_it_stays_quiet():
    cases = [case for test in yaml.safe_load(RULE_TESTS.read_text())["tests"] for case in test["alert_rule_test"]]
    for rule in alert_rules():
        mine = [case for case in cases if case["alertname"] == rule["alert"]]
        assert any(case["exp_alerts"] for case in mine), f"{rule['alert']} never fires in {RULE_TESTS.name}"
        assert any(not case["exp_alerts"] for case in mine), f"{rule['alert']} is never quiet in {RULE_TESTS.name}"
        # The unit test checks the annotations word for word, so a broken template cannot pass.
        assert all(alert.get("exp_annotations", {}).keys() >= {"summary", "hint"}
                   for case in mine for alert in case["exp_alerts"]), rule["alert"]
