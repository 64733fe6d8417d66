"""Unit tests for login and sign-up throttling's answers and counting, with a fake database pool (the
slow-down itself runs in MariaDB: tests/integration/order_ms/test_auth.py)."""
import contextlib
from dataclasses import replace

import pytest
from flask import Flask

from services.order_ms import login_throttle
from services.order_ms.settings import load_settings
from services.platform.problems import Problem


class FakePool:
    """Records every statement; SELECTs answer with `seconds` (and `counted` sign-ups)."""

    def __init__(self, seconds=None, counted=1):
        self.seconds = seconds
        self.counted = counted
        self.statements: list[tuple[str, tuple]] = []

    @contextlib.contextmanager
    def transaction(self):
        yield self

    def execute(self, sql, params=()):
        self.statements.append((sql, params))

    def fetchone(self):
        return {"seconds": self.seconds, "counted": self.counted}


SETTINGS = replace(load_settings(), login_max_failures=5, login_max_failures_per_client=50, login_lockout_seconds=300)
PAIR = login_throttle.user_client_subject("USER0002", "203.0.113.9")


def written(pool, verb):
    return [params for sql, params in pool.statements if sql.startswith(verb)]


@pytest.mark.parametrize("seconds", [None, 0])
def test_an_attempt_while_nothing_is_locked_is_counted_before_the_password_is_checked(seconds):
    pool = FakePool(seconds)
    login_throttle.reserve_attempt(pool, SETTINGS, "USER0002", "203.0.113.9")
    # Both rows are held first, then read, then counted against the pair and the client, never the user id alone.
    assert written(pool, "INSERT INTO login_throttle")[:2] == [("user_client", PAIR), ("client", "203.0.113.9")]
    assert pool.statements[2][0].startswith("SELECT") and pool.statements[2][0].endswith("FOR UPDATE")
    assert written(pool, "INSERT INTO login_throttle")[2:] == [
        ("user_client", PAIR, 5, 300, 5, 300, 5), ("client", "203.0.113.9", 50, 300, 50, 300, 50)]


def test_a_lock_is_a_429_with_retry_after_and_a_hint_naming_the_wait_and_counts_nothing():
    pool = FakePool(17)
    with Flask(__name__).test_request_context("/order-ms/login"), pytest.raises(Problem) as caught:
        login_throttle.reserve_attempt(pool, SETTINGS, "USER0002", "203.0.113.9")
    problem = caught.value
    assert problem.status == 429 and problem.headers == {"Retry-After": "17"}
    assert "17 seconds" in problem.hint and problem.to_dict()["retry_after"] == 17
    assert len(written(pool, "INSERT INTO login_throttle")) == 2, "a refused attempt must not lengthen the wait"


def test_the_pair_key_ignores_letter_case_and_differs_per_client():
    assert (login_throttle.user_client_subject("Barista", "203.0.113.9")
            == login_throttle.user_client_subject("barista", "203.0.113.9"))
    assert (login_throttle.user_client_subject("barista", "203.0.113.9")
            != login_throttle.user_client_subject("barista", "198.51.100.7"))
    assert len(login_throttle.user_client_subject("x" * 50, "2001:db8::/64")) == 64


def test_a_success_clears_the_pairs_count_and_takes_its_attempt_back_from_the_clients():
    pool = FakePool()
    login_throttle.release_attempt(pool, SETTINGS, "USER0002", "203.0.113.9")
    assert written(pool, "DELETE")[0] == ("user_client", PAIR)
    assert written(pool, "UPDATE") == [(50, "client", "203.0.113.9")]


def test_too_many_signups_from_one_client_are_a_429_naming_the_wait():
    settings = replace(load_settings(), signup_max_per_client=20)
    with Flask(__name__).test_request_context("/order-ms/users"), pytest.raises(Problem) as caught:
        login_throttle.count_signup(FakePool(42, counted=21), settings, "203.0.113.9")
    assert caught.value.status == 429 and caught.value.headers == {"Retry-After": "42"}
    assert "42 seconds" in caught.value.hint


def test_a_signup_within_the_limit_is_counted_for_its_client():
    settings = replace(load_settings(), signup_max_per_client=20, signup_window_seconds=600)
    pool = FakePool(600, counted=20)
    login_throttle.count_signup(pool, settings, "203.0.113.9")
    counted = [params for sql, params in pool.statements if sql.startswith("INSERT INTO login_throttle")]
    assert counted == [("signup", "203.0.113.9", 20, 600, 600, 20, 600)]
    # Counted before it is judged, in one transaction: no check runs apart from the count.
    assert pool.statements[0][0].startswith("INSERT INTO login_throttle")


def test_the_per_client_limit_is_its_own_setting_and_higher_by_default(monkeypatch):
    for name in ("LOGIN_MAX_FAILURES", "LOGIN_MAX_FAILURES_PER_CLIENT", "TRUSTED_PROXY_HOPS", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert (settings.login_max_failures, settings.login_max_failures_per_client) == (5, 50)
    assert (settings.trusted_proxy_hops, settings.forwarded_allow_ips) == (1, "127.0.0.1")
    monkeypatch.setenv("LOGIN_MAX_FAILURES_PER_CLIENT", "7")
    assert load_settings().login_max_failures_per_client == 7
