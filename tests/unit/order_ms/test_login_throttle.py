"""Unit tests for login and sign-up throttling: which counters each attempt meets, the answers, and the order of
the statements that count them, with fakes (the windows and slow-downs themselves run in MariaDB:
tests/integration/order_ms/test_auth.py and test_throttle_redesign.py)."""
import contextlib
import ipaddress
from dataclasses import replace

import pytest
from flask import Flask

from services.order_ms import login_throttle, store
from services.order_ms.settings import SettingsError, load_settings, parse_network_limits
from services.platform.problems import Problem

CLIENT = "203.0.113.9"
DEVICE = "d" * 64
SETTINGS = replace(load_settings(), login_max_failures=5, login_max_failures_per_client=50, login_lockout_seconds=300,
                   login_rate_window_seconds=60, login_max_per_client=60, login_max_per_account=20,
                   login_max_per_device=10, signup_max_per_client=20, signup_max_total=1000,
                   signup_window_seconds=600, signup_network_limits=())
PAIR = login_throttle.user_client_subject("USER0002", CLIENT)
ACCOUNT = login_throttle.account_subject("USER0002")
ON_DEVICE = login_throttle.device_subject("USER0002", DEVICE)


class FakePool:
    """Records every statement; each fetchone answers the next of `rows` (then an empty lock read)."""

    def __init__(self, *rows):
        self.rows = list(rows)
        self.statements: list[tuple[str, tuple]] = []

    @contextlib.contextmanager
    def transaction(self):
        yield self

    def execute(self, sql, params=()):
        self.statements.append((sql, params))

    def fetchone(self):
        return self.rows.pop(0) if self.rows else {"scope": None, "seconds": None}


class Calls(list):
    """The calls a fake store function received, and what it answers (`answer`, `seconds`)."""

    answer = (0, None)
    seconds: dict = {}


@pytest.fixture
def admitted(monkeypatch):
    """Every store.admit_login call as (locks, rates, lockout seconds, window seconds), answering `answer`."""
    calls = Calls()

    def admit_login(pool, locks, rates, lockout_seconds, rate_window_seconds):
        calls.append((locks, rates, lockout_seconds, rate_window_seconds))
        return calls.answer

    monkeypatch.setattr(store, "admit_login", admit_login)
    return calls


def refused(device=None) -> Problem:
    with Flask(__name__).test_request_context("/order-ms/login"), pytest.raises(Problem) as caught:
        login_throttle.reserve_attempt(None, SETTINGS, "USER0002", CLIENT, device)
    return caught.value


# --- which counters a login meets -----------------------------------------------------------------------

def test_a_login_without_a_device_counts_per_pair_and_address_and_per_address_and_account(admitted):
    login_throttle.reserve_attempt(None, SETTINGS, "USER0002", CLIENT)
    assert admitted == [([("user_client", PAIR, 5), ("client", CLIENT, 50)],
                         [("login_client", CLIENT, 60), ("login_account", ACCOUNT, 20)], 300, 60)]


def test_a_login_from_a_trusted_device_meets_only_that_devices_counters(admitted):
    login_throttle.reserve_attempt(None, SETTINGS, "USER0002", CLIENT, DEVICE)
    ((locks, rates, *_),) = admitted
    assert (locks, rates) == ([("device", ON_DEVICE, 5)], [("login_device", ON_DEVICE, 10)])
    # Nothing the address or the account's other clients do can refuse it: no counter names them.
    subjects = {subject for _scope, subject, _limit in (*locks, *rates)}
    assert CLIENT not in subjects and PAIR not in subjects and ACCOUNT not in subjects


def test_subjects_ignore_letter_case_differ_per_client_and_device_and_fit_the_column():
    pair = login_throttle.user_client_subject
    assert pair("Barista", CLIENT) == pair("barista", CLIENT)
    assert login_throttle.account_subject("Barista") == login_throttle.account_subject("barista")
    assert login_throttle.device_subject("Barista", DEVICE) == login_throttle.device_subject("barista", DEVICE)
    assert pair("barista", CLIENT) != pair("barista", "198.51.100.7")
    assert login_throttle.device_subject("barista", DEVICE) != login_throttle.device_subject("barista", "e" * 64)
    assert login_throttle.device_subject("barista", DEVICE) != login_throttle.device_subject("alice", DEVICE)
    assert {len(login_throttle.user_client_subject("x" * 50, "2001:db8::/64")), len(ACCOUNT), len(ON_DEVICE)} == {64}


# --- the answers ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("scope,device", [("user_client", None), ("client", None), ("device", DEVICE)])
def test_a_lock_is_a_429_with_retry_after_and_a_hint_naming_the_wait(admitted, scope, device):
    admitted.answer = (17, scope)
    problem = refused(device)
    assert problem.status == 429 and problem.headers == {"Retry-After": "17"}
    assert problem.slug == "too-many-login-failures"
    assert problem.hint == "Wait 17 seconds (see Retry-After), then log in with the right password."
    assert problem.to_dict()["retry_after"] == 17
    assert ("this device" in problem.detail) == (device is not None)


@pytest.mark.parametrize("scope,names", [("login_client", "your address"), ("login_account", "this user id"),
                                         ("login_device", "this device")])
def test_too_many_logins_is_a_429_telling_to_wait_and_reuse_the_token(admitted, scope, names):
    admitted.answer = (42, scope)
    problem = refused(DEVICE if scope == "login_device" else None)
    assert problem.status == 429 and problem.headers == {"Retry-After": "42"} and problem.slug == "too-many-logins"
    assert names in problem.detail
    assert problem.hint.startswith("Wait 42 seconds (see Retry-After) before logging in again;")
    assert "reuse it" in problem.hint


# --- how store.admit_login counts (the statements, in order) -------------------------------------------------

LOCKS = [("user_client", PAIR, 5), ("client", CLIENT, 50)]
RATES = [("login_client", CLIENT, 60), ("login_account", ACCOUNT, 20)]


def verbs(pool):
    return [sql.split()[0] + (" FOR UPDATE" if sql.endswith("FOR UPDATE") else "") for sql, _ in pool.statements]


def test_an_admitted_login_holds_every_row_reads_the_locks_and_rates_then_counts_both():
    pool = FakePool({"scope": None, "seconds": None}, {"counted": 59, "seconds": 30}, {"counted": 19, "seconds": 5})
    assert store.admit_login(pool, LOCKS, RATES, 300, 60) == (0, None)
    assert verbs(pool) == ["INSERT"] * 4 + ["SELECT FOR UPDATE"] + ["UPDATE", "SELECT"] * 2 + ["INSERT"] * 2 + \
        ["UPDATE"] * 2
    held = [params for sql, params in pool.statements[:4]]
    assert held == [("user_client", PAIR), ("client", CLIENT), ("login_client", CLIENT), ("login_account", ACCOUNT)]
    assert [params[:3] for sql, params in pool.statements[9:11]] == [("user_client", PAIR, 5), ("client", CLIENT, 50)]
    assert [params for sql, params in pool.statements[11:]] == [("login_client", CLIENT), ("login_account", ACCOUNT)]


def test_a_held_lock_refuses_and_counts_nothing():
    pool = FakePool({"scope": "user_client", "seconds": 4})
    assert store.admit_login(pool, LOCKS, RATES, 300, 60) == (4, "user_client")
    assert verbs(pool) == ["INSERT"] * 4 + ["SELECT FOR UPDATE"], "a refused attempt must not lengthen the wait"


def test_a_full_window_refuses_with_its_seconds_left_and_counts_nothing():
    pool = FakePool({"scope": None, "seconds": None}, {"counted": 12, "seconds": 30}, {"counted": 20, "seconds": 9})
    assert store.admit_login(pool, LOCKS, RATES, 300, 60) == (9, "login_account")
    assert verbs(pool) == ["INSERT"] * 4 + ["SELECT FOR UPDATE"] + ["UPDATE", "SELECT"] * 2


def test_a_success_clears_the_pairs_count_and_takes_its_attempt_back_from_the_clients():
    pool = FakePool()
    login_throttle.release_attempt(pool, SETTINGS, "USER0002", CLIENT)
    assert [params for sql, params in pool.statements if sql.startswith("DELETE")][0] == ("user_client", PAIR)
    assert [params for sql, params in pool.statements if sql.startswith("UPDATE")] == [(50, "client", CLIENT)]


def test_a_success_from_a_device_clears_that_devices_count_only():
    pool = FakePool()
    login_throttle.release_attempt(pool, SETTINGS, "USER0002", CLIENT, DEVICE)
    assert pool.statements == [("DELETE FROM login_throttle WHERE scope = ? AND subject = ?", ("device", ON_DEVICE))]


# --- sign-ups ------------------------------------------------------------------------------------------------

@pytest.fixture
def windows(monkeypatch):
    """store.count_in_window and take_back_count calls; count_in_window answers from `seconds` by scope."""
    calls = Calls()

    def count_in_window(pool, scope, subject, limit, window_seconds):
        calls.append(("count", scope, subject, limit, window_seconds))
        return calls.seconds.get(scope, 0)

    monkeypatch.setattr(store, "count_in_window", count_in_window)
    monkeypatch.setattr(store, "take_back_count", lambda pool, scope, subject: calls.append(("back", scope, subject)))
    return calls


def signup_refused(settings=SETTINGS, client=CLIENT) -> Problem:
    with Flask(__name__).test_request_context("/order-ms/users"), pytest.raises(Problem) as caught:
        login_throttle.count_signup(None, settings, client)
    return caught.value


def test_a_signup_counts_against_its_address_then_against_everyones(windows):
    login_throttle.count_signup(None, SETTINGS, CLIENT)
    assert windows == [("count", "signup", CLIENT, 20, 600), ("count", "signup_all", "all", 1000, 600)]


def test_an_address_past_its_allowance_is_told_to_wait_and_spends_nothing_of_everyones(windows):
    windows.seconds = {"signup": 42}
    problem = signup_refused()
    assert problem.status == 429 and problem.headers == {"Retry-After": "42"} and problem.slug == "too-many-signups"
    assert problem.hint.startswith("Wait 42 seconds (see Retry-After) before creating another account, or log in")
    assert "ask the service's operator to raise its allowance" in problem.hint
    assert [call[1] for call in windows] == ["signup"]


def test_the_ceiling_of_everyones_signups_is_a_429_and_gives_the_address_its_signup_back(windows):
    windows.seconds = {"signup_all": 7}
    problem = signup_refused()
    assert problem.status == 429 and problem.headers == {"Retry-After": "7"} and problem.slug == "signups-paused"
    assert "Wait 7 seconds" in problem.hint and "all addresses" in problem.detail
    assert windows[-1] == ("back", "signup", CLIENT)


NETWORKS = replace(SETTINGS, signup_network_limits=parse_network_limits(
    "10.0.0.0/8=100, 10.1.0.0/16=500,2001:db8::/32=300,203.0.113.7/32=0"))


@pytest.mark.parametrize("client,limit", [
    ("10.2.3.4", 100), ("10.1.2.3", 500), ("2001:db8:1:2::/64", 300), ("2001:db9::/64", 20), ("192.0.2.1", 20),
    ("203.0.113.7", 0), ("unknown", 20)])
def test_an_address_in_a_listed_network_gets_the_most_specific_networks_limit(client, limit):
    assert login_throttle.signup_limit_for(NETWORKS, client) == limit


def test_a_listed_networks_limit_is_what_its_addresses_are_counted_against(windows):
    login_throttle.count_signup(None, NETWORKS, "10.1.2.3")
    assert windows[0] == ("count", "signup", "10.1.2.3", 500, 600)


@pytest.mark.parametrize("text", ["10.0.0.0/8", "10.0.0.0/8=many", "not-a-network=5", "10.0.0.0/8=-1", "=5"])
def test_a_malformed_network_limit_stops_the_process(text):
    with pytest.raises(SettingsError, match="SIGNUP_NETWORK_LIMITS"):
        parse_network_limits(text)


def test_the_production_defaults(monkeypatch):
    for name in ("LOGIN_MAX_FAILURES", "LOGIN_MAX_FAILURES_PER_CLIENT", "TRUSTED_PROXY_HOPS", "FORWARDED_ALLOW_IPS",
                 "LOGIN_RATE_WINDOW_SECONDS", "LOGIN_MAX_PER_CLIENT", "LOGIN_MAX_PER_ACCOUNT", "LOGIN_MAX_PER_DEVICE",
                 "DEVICE_TOKEN_TTL_SECONDS", "DEVICE_TOKENS_PER_ACCOUNT", "SIGNUP_MAX_PER_CLIENT", "SIGNUP_MAX_TOTAL",
                 "SIGNUP_WINDOW_SECONDS", "SIGNUP_NETWORK_LIMITS"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert (settings.login_max_failures, settings.login_max_failures_per_client) == (5, 50)
    assert (settings.trusted_proxy_hops, settings.forwarded_allow_ips) == (1, "127.0.0.1")
    assert (settings.login_rate_window_seconds, settings.login_max_per_client, settings.login_max_per_account,
            settings.login_max_per_device) == (60, 60, 20, 10)
    assert (settings.device_token_ttl_seconds, settings.device_tokens_per_account) == (90 * 24 * 3600, 10)
    assert (settings.signup_max_per_client, settings.signup_max_total, settings.signup_window_seconds,
            settings.signup_network_limits) == (20, 1000, 600, ())
    monkeypatch.setenv("LOGIN_MAX_FAILURES_PER_CLIENT", "7")
    monkeypatch.setenv("SIGNUP_NETWORK_LIMITS", "192.0.2.0/24=50")
    settings = load_settings()
    assert settings.login_max_failures_per_client == 7
    assert settings.signup_network_limits == ((ipaddress.ip_network("192.0.2.0/24"), 50),)
