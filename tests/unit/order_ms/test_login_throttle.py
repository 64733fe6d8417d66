"""Unit tests for login throttling's answers and counting, with a fake database pool."""
import contextlib
from dataclasses import replace

import pytest
from flask import Flask

from services.order_ms.settings import load_settings
from services.platform.problems import Problem
from services.order_ms import login_throttle


class FakePool:
    """Records every statement; SELECTs answer with `seconds`."""

    def __init__(self, seconds=None):
        self.seconds = seconds
        self.statements: list[tuple[str, tuple]] = []

    @contextlib.contextmanager
    def transaction(self):
        yield self

    def execute(self, sql, params=()):
        self.statements.append((sql, params))

    def fetchone(self):
        return {"seconds": self.seconds}


@pytest.mark.parametrize("seconds", [None, 0])
def test_nothing_locked_lets_the_login_go_on(seconds):
    login_throttle.refuse_if_locked(FakePool(seconds), "USER0002", "203.0.113.9")


def test_a_lock_is_a_429_with_retry_after_and_a_hint_naming_the_wait():
    with Flask(__name__).test_request_context("/order-ms/login"), pytest.raises(Problem) as caught:
        login_throttle.refuse_if_locked(FakePool(17), "USER0002", "203.0.113.9")
    problem = caught.value
    assert problem.status == 429 and problem.headers == {"Retry-After": "17"}
    assert "17 seconds" in problem.hint and problem.to_dict()["retry_after"] == 17


def test_a_failure_counts_against_the_user_id_and_the_client_with_their_own_limits():
    settings = replace(load_settings(), login_max_failures=5, login_max_failures_per_client=50,
                       login_lockout_seconds=300)
    pool = FakePool()
    login_throttle.record_failure(pool, settings, "USER0002", "203.0.113.9")
    counted = [params for sql, params in pool.statements if sql.startswith("INSERT INTO login_throttle")]
    assert counted == [("user", "USER0002", 5, 300, 300, 5, 300), ("client", "203.0.113.9", 50, 300, 300, 50, 300)]


def test_a_success_clears_only_the_user_ids_count():
    pool = FakePool()
    login_throttle.record_success(pool, "USER0002")
    assert [params for _sql, params in pool.statements] == [("user", "USER0002")]


def test_the_per_client_limit_is_its_own_setting_and_higher_by_default(monkeypatch):
    for name in ("LOGIN_MAX_FAILURES", "LOGIN_MAX_FAILURES_PER_CLIENT", "TRUSTED_PROXY_HOPS", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert (settings.login_max_failures, settings.login_max_failures_per_client) == (5, 50)
    assert (settings.trusted_proxy_hops, settings.forwarded_allow_ips) == (1, "127.0.0.1")
    monkeypatch.setenv("LOGIN_MAX_FAILURES_PER_CLIENT", "7")
    assert load_settings().login_max_failures_per_client == 7
