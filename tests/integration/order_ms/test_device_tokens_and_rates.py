"""Issue 25's throttles over HTTP and MariaDB: device tokens that let an account's owner through strangers'
failures from the same address, login rates that slow a loop of right passwords, and sign-up limits one
address cannot spend for everyone (services/order_ms/login_throttle.py).

Logins go to order-ms directly with a made-up client address in X-Forwarded-For (as in test_auth.py), each
without a cookie jar: a test sends a device token only where it means to. Where a test needs other limits it
starts an order-ms of its own on the stack's database; the stack keeps its production defaults."""
import hashlib
import ipaddress
import random
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from services.order_ms.login_throttle import device_subject
from tests.integration.order_ms.test_auth import (
    PASSWORD,
    assert_problem,
    fresh_client,
    fresh_user_id,
    hold_slow_downs,
    log_in,
    max_failures,
    sign_up,
)
from tests.support.gunicorn import gunicorn


def with_device(client: dict, token: str) -> dict:
    return {**client, "Device-Token": token}


def device_token_of(response) -> str:
    assert response.status_code == 200, response.text
    return response.headers["Device-Token"]


def sign_up_from(url, user_id, client, password=PASSWORD):
    return requests.post(f"{url}/order-ms/users", json={"user_id": user_id, "password": password}, headers=client,
                         timeout=10)


@pytest.fixture
def account(base_url):
    user_id = fresh_user_id()
    assert sign_up(base_url, user_id).status_code == 201
    return user_id


@pytest.fixture
def owner(order_url, account):
    """(user id, the client address the owner logs in from, the device token its first login got)."""
    home = fresh_client()
    return account, home, device_token_of(log_in(order_url, account, PASSWORD, home))


def flood_failures(url, client, times):
    """`times` wrong passwords for fresh user ids from `client`: only the client's own counters rise."""
    for _ in range(times):
        response = log_in(url, fresh_user_id(), "not-the-password", client)
        if response.status_code == 429:
            return
        assert_problem(response, 401)


# --- device tokens -----------------------------------------------------------------------------------------

def test_a_login_hands_out_a_device_token_kept_only_as_its_hash(order_url, order_db, account):
    response = log_in(order_url, account, PASSWORD, fresh_client())
    token = device_token_of(response)
    assert response.cookies["device_token"] == token
    assert "httponly" in response.headers["Set-Cookie"].lower()
    cursor = order_db.cursor()
    cursor.execute("SELECT token_hash, user_key FROM login_devices WHERE user_key = LOWER(?)", (account,))
    assert cursor.fetchall() == [(hashlib.sha256(token.encode()).hexdigest(), account.lower())]


def test_a_flood_of_failures_from_the_owners_address_does_not_refuse_the_owners_device(order_url, stack, order_db,
                                                                                     owner):
    user_id, home, token = owner
    # Strangers behind the owner's address: wrong passwords for the owner's id, then for any ids.
    for _ in range(max_failures(stack, "LOGIN_MAX_FAILURES", 5)):
        assert_problem(log_in(order_url, user_id, "not-the-password", home), 401)
    flood_failures(order_url, home, max_failures(stack, "LOGIN_MAX_FAILURES_PER_CLIENT", 50))
    hold_slow_downs(order_db, user_id, home)
    assert_problem(log_in(order_url, user_id, PASSWORD, home), 429)
    # The owner's device gets through, with the header and with the cookie a browser sends.
    assert device_token_of(log_in(order_url, user_id, PASSWORD, with_device(home, token))) == token
    cookie = requests.post(f"{order_url}/order-ms/login", json={"user_id": user_id, "password": PASSWORD},
                           headers=home, cookies={"device_token": token}, timeout=10)
    assert device_token_of(cookie) == token


def test_a_device_token_vouches_only_for_accounts_it_logged_in_to(order_url, stack, order_db, owner):
    user_id, home, token = owner
    stranger = fresh_user_id()
    assert sign_up_from(order_url, stranger, fresh_client()).status_code == 201
    flood_failures(order_url, home, max_failures(stack, "LOGIN_MAX_FAILURES_PER_CLIENT", 50))
    hold_slow_downs(order_db, user_id, home)
    # The owner's token opens nothing for another account, nor does a token the service never issued.
    assert_problem(log_in(order_url, stranger, PASSWORD, with_device(home, token)), 429)
    assert_problem(log_in(order_url, user_id, PASSWORD, with_device(home, "dt1." + "A" * 43)), 429)
    assert_problem(log_in(order_url, user_id, PASSWORD, with_device(home, "garbage")), 429)


def test_the_device_has_its_own_failure_limit_and_it_locks_no_one_else(order_url, stack, owner):
    user_id, home, token = owner
    limit = max_failures(stack, "LOGIN_MAX_FAILURES", 5)
    for _ in range(limit):
        assert_problem(log_in(order_url, user_id, "not-the-password", with_device(home, token)), 401)
    locked = assert_problem(log_in(order_url, user_id, PASSWORD, with_device(home, token)), 429)
    assert "this device" in locked["detail"]
    # The device's failures were its own: the same address without it, and other addresses, go on.
    assert log_in(order_url, user_id, PASSWORD, home).status_code == 200
    assert log_in(order_url, user_id, PASSWORD, fresh_client()).status_code == 200


def test_an_expired_device_token_is_replaced(order_url, stack, order_db, owner):
    user_id, home, token = owner
    ttl = max_failures(stack, "DEVICE_TOKEN_TTL_SECONDS", 90 * 24 * 3600)
    order_db.cursor().execute("UPDATE login_devices SET last_login_at = UTC_TIMESTAMP(6) - INTERVAL ? SECOND"
                              " WHERE token_hash = ?", (ttl + 1, hashlib.sha256(token.encode()).hexdigest()))
    assert device_token_of(log_in(order_url, user_id, PASSWORD, with_device(home, token))) != token


def test_an_account_keeps_only_its_latest_devices(order_url, stack, order_db, account):
    keep = max_failures(stack, "DEVICE_TOKENS_PER_ACCOUNT", 10)
    tokens = [device_token_of(log_in(order_url, account, PASSWORD, fresh_client())) for _ in range(keep + 2)]
    cursor = order_db.cursor()
    cursor.execute("SELECT token_hash FROM login_devices WHERE user_key = LOWER(?)", (account,))
    assert {row[0] for row in cursor.fetchall()} == {hashlib.sha256(token.encode()).hexdigest()
                                                      for token in tokens[2:]}


# --- login rates: successful logins count too --------------------------------------------------------------

def loop_of_right_logins(url, user_id, headers, most=200):
    """Right passwords until the answer is not 200: (the device tokens of those that got 200, the answer that
    ended the loop)."""
    tokens = []
    for _ in range(most):
        response = log_in(url, user_id, PASSWORD, headers)
        if response.status_code != 200:
            return tokens, response
        tokens.append(response.headers["Device-Token"])
    raise AssertionError(f"{most} right logins of {user_id} in a row were never slowed down")


def test_a_loop_of_right_passwords_is_slowed_per_account_then_its_device_per_device(order_url, stack, account):
    per_account = max_failures(stack, "LOGIN_MAX_PER_ACCOUNT", 20)
    client = fresh_client()
    tokens, refused = loop_of_right_logins(order_url, account, client)
    assert len(tokens) == per_account
    problem = assert_problem(refused, 429)
    retry_after = int(refused.headers["Retry-After"])
    assert problem["type"] == "/problems/too-many-logins" and "this user id" in problem["detail"]
    assert 0 < retry_after <= max_failures(stack, "LOGIN_RATE_WINDOW_SECONDS", 60)
    assert problem["hint"].startswith(f"Wait {retry_after} seconds") and "reuse it" in problem["hint"]
    # The device of the last of them is judged by its own rate, which those logins did not spend; then it is
    # slowed too.
    done, refused = loop_of_right_logins(order_url, account, with_device(client, tokens[-1]))
    assert len(done) == max_failures(stack, "LOGIN_MAX_PER_DEVICE", 10)
    assert "this device" in assert_problem(refused, 429)["detail"]


def test_the_login_rate_ends_with_its_window(order_url, stack, order_db, account):
    client = fresh_client()
    loop_of_right_logins(order_url, account, client)
    order_db.cursor().execute("UPDATE login_throttle SET window_started_at = UTC_TIMESTAMP(6) - INTERVAL 1 DAY"
                              " WHERE scope = 'login_account'")
    assert log_in(order_url, account, PASSWORD, client).status_code == 200


def test_a_parallel_burst_of_right_logins_gets_no_more_hashes_than_the_device_rate(order_url, stack, order_db, owner):
    user_id, home, token = owner

    def one(_):
        with requests.Session() as session:
            return session.post(f"{order_url}/order-ms/login", json={"user_id": user_id, "password": PASSWORD},
                                headers=with_device(home, token), timeout=60)

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(one, range(20)))
    per_device = max_failures(stack, "LOGIN_MAX_PER_DEVICE", 10)
    hashed = [answer for answer in answers if answer.status_code == 200]
    # Each refused one either found the device's window full, or every password-check slot of the instance taken
    # (LOGIN_CONCURRENCY); neither counts or hashes anything.
    refused = {assert_problem(answer, 429)["type"] for answer in answers if answer.status_code != 200}
    assert 0 < len(hashed) <= per_device and refused <= {"/problems/too-many-logins", "/problems/logins-busy"}
    cursor = order_db.cursor()
    cursor.execute("SELECT failures FROM login_throttle WHERE scope = 'login_device' AND subject = ?",
                   (device_subject(user_id, hashlib.sha256(token.encode()).hexdigest()),))
    assert cursor.fetchone()[0] == len(hashed)


def test_too_many_logins_from_one_address_are_slowed_for_every_account_but_not_their_devices(stack, tmp_path):
    # A per-address rate of 3 on an order-ms of this test's own (the stack keeps the default of 60).
    env = {**stack.http_env_of("order_ms"), "LOGIN_MAX_PER_CLIENT": "3"}
    client = fresh_client()
    with gunicorn("services.order_ms:create_app()", env, tmp_path) as replica:
        accounts = [fresh_user_id() for _ in range(4)]
        for user_id in accounts:
            assert sign_up_from(replica, user_id, fresh_client()).status_code == 201
        tokens = [device_token_of(log_in(replica, user_id, PASSWORD, client)) for user_id in accounts[:3]]
        refused = log_in(replica, accounts[3], PASSWORD, client)
        problem = assert_problem(refused, 429)
        assert problem["type"] == "/problems/too-many-logins" and "your address" in problem["detail"]
        # Every account's device still gets in from that address; other addresses are not slowed.
        for user_id, token in zip(accounts[:3], tokens, strict=True):
            assert log_in(replica, user_id, PASSWORD, with_device(client, token)).status_code == 200
        assert log_in(replica, accounts[3], PASSWORD, fresh_client()).status_code == 200


# --- sign-ups: an allowance per address, raised per network, and a ceiling for everyone -----------------------

def fresh_network() -> ipaddress.IPv4Network:
    """A /24 of 100.64.0.0/10 no other test is likely to use."""
    base = int(ipaddress.IPv4Address("100.64.0.0")) + (random.randrange(1, 2**14) << 8)
    return ipaddress.IPv4Network((base, 24))


def test_a_listed_network_gets_its_own_allowance_and_everyone_a_ceiling(stack, order_db, tmp_path):
    network = fresh_network()
    env = {**stack.http_env_of("order_ms"), "SIGNUP_MAX_PER_CLIENT": "2", "SIGNUP_MAX_TOTAL": "6",
           "SIGNUP_NETWORK_LIMITS": f"{network}=4"}
    # Everyone's count starts from nothing: the stack's own order-ms shares the counter (with a ceiling of 1000).
    order_db.cursor().execute("DELETE FROM login_throttle WHERE scope = 'signup_all'")
    office, shared, other = {"X-Forwarded-For": str(network[7])}, fresh_client(), fresh_client()
    with gunicorn("services.order_ms:create_app()", env, tmp_path) as replica:
        def sign_up(client):
            return sign_up_from(replica, fresh_user_id(), client)

        assert [sign_up(shared).status_code for _ in range(2)] == [201, 201]
        # Past its allowance the shared address is refused, and its refusals spend nothing of everyone's.
        for _ in range(5):
            refused = sign_up(shared)
            problem = assert_problem(refused, 429)
            assert problem["type"] == "/problems/too-many-signups" and "ask the service's operator" in problem["hint"]
            assert 0 < int(refused.headers["Retry-After"]) <= 600
        # The office's network is listed with an allowance of 4 per address.
        assert [sign_up(office).status_code for _ in range(4)] == [201] * 4
        ceiling = sign_up(other)
        problem = assert_problem(ceiling, 429)
        assert problem["type"] == "/problems/signups-paused" and "all addresses" in problem["detail"]
        assert 0 < int(ceiling.headers["Retry-After"]) <= 600
        # The refusal by the ceiling gave the other address its sign-up back.
        order_db.cursor().execute("DELETE FROM login_throttle WHERE scope = 'signup_all'")
        assert [sign_up(other).status_code for _ in range(2)] == [201, 201]
    order_db.cursor().execute("DELETE FROM login_throttle WHERE scope = 'signup_all'")


def test_a_shared_address_past_its_sign_ups_still_logs_its_users_in(order_url, stack, tmp_path):
    env = {**stack.http_env_of("order_ms"), "SIGNUP_MAX_PER_CLIENT": "1"}
    shared = fresh_client()
    with gunicorn("services.order_ms:create_app()", env, tmp_path) as replica:
        user_id = f"shared-{uuid.uuid4().hex[:8]}"
        assert sign_up_from(replica, user_id, shared).status_code == 201
        assert_problem(sign_up_from(replica, fresh_user_id(), shared), 429)
        assert log_in(replica, user_id, PASSWORD, shared).status_code == 200
