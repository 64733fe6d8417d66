"""Accounts and tokens over HTTP and MariaDB: sign-up, login, throttling per (user id, client) and per client, and
the stack's token keys. The answers to bad sign-ups, logins and tokens are proven in process (tests/unit).

Throttling tests use fresh user ids and talk to order-ms directly with a made-up client address in
X-Forwarded-For (order-ms trusts it from 127.0.0.1), so they never slow down the demo accounts or the
address every other test comes from."""
import ipaddress
import math
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
import requests

from services.order_ms.login_throttle import SCOPE_CLIENT, SCOPE_USER_CLIENT, user_client_subject
from services.platform.auth import TOKEN_ISSUER
from services.platform.token_keys import ALGORITHM, load_signing_key, load_verifying_keys
from tests.integration.conftest import DEMO_CUSTOMER, DEMO_STAFF, auth
from tests.support.accounts import post_sign_up
from tests.support.gunicorn import gunicorn

PASSWORD = "a-long-password"
ORDER = {"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 1}


def assert_problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["detail"] and problem["hint"]
    return problem


def fresh_user_id() -> str:
    return f"auth-{uuid.uuid4().hex[:12]}"


def fresh_client() -> dict:
    """Headers that make order-ms count this test's logins against an address of its own."""
    address = ipaddress.IPv4Address(int(ipaddress.IPv4Address("100.64.0.0")) + random.randrange(1, 2**22))
    return {"X-Forwarded-For": str(address)}


def sign_up(url, user_id, password=PASSWORD):
    return post_sign_up(url, user_id, password)


def log_in(url, user_id, password, headers=None):
    return requests.post(f"{url}/order-ms/login", json={"user_id": user_id, "password": password},
                         headers=headers or {}, timeout=10)


@pytest.fixture
def account(base_url):
    user_id = fresh_user_id()
    assert sign_up(base_url, user_id).status_code == 201
    return user_id


# --- sign-up ------------------------------------------------------------------------------------

def test_sign_up_makes_a_customer_who_can_log_in_and_order(base_url):
    user_id = fresh_user_id()
    created = sign_up(base_url, user_id)
    assert created.status_code == 201, created.text
    assert created.json()["user_id"] == user_id and created.json()["role"] == "customer"
    assert created.json()["created_at"].endswith("Z")
    assert "password" not in created.text and "hash" not in created.text

    token = log_in(base_url, user_id, PASSWORD).json()["access_token"]
    order = requests.post(f"{base_url}/order-ms/{user_id}/orders", json=ORDER, headers=auth(token), timeout=10)
    assert order.status_code == 201, order.text


def test_password_is_stored_as_an_argon2id_hash(base_url, order_db, account):
    cursor = order_db.cursor()
    cursor.execute("SELECT password_hash, role FROM users WHERE user_id = ?", (account,))
    password_hash, role = cursor.fetchone()
    assert password_hash.startswith("$argon2id$") and PASSWORD not in password_hash and role == "customer"


def test_taken_user_id_is_409_with_a_hint(base_url, account):
    problem = assert_problem(sign_up(base_url, account, "another-long-password"), 409)
    assert "POST /order-ms/login" in problem["hint"]


# --- login ----------------------------------------------------------------------------------------

def test_login_answers_a_bearer_token_for_the_user_and_role(base_url, stack):
    for (user_id, password), role in ((DEMO_CUSTOMER, "customer"), (DEMO_STAFF, "staff")):
        response = log_in(base_url, user_id, password)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"access_token", "token_type", "expires_in", "user_id", "role"}
        assert (body["token_type"], body["user_id"], body["role"]) == ("Bearer", user_id, role)
        public_keys = load_verifying_keys(stack.http_env_of("delivery_ms")["TOKEN_PUBLIC_KEYS_FILE"], "keys")
        kid = jwt.get_unverified_header(body["access_token"])["kid"]
        claims = jwt.decode(body["access_token"], public_keys.by_kid[kid], algorithms=[ALGORITHM],
                            issuer=TOKEN_ISSUER)
        assert (claims["sub"], claims["role"]) == (user_id, role)
        assert claims["exp"] - claims["iat"] == body["expires_in"] > 0


# --- throttling ---------------------------------------------------------------------------------

def max_failures(stack, name, default):
    return int(stack.env.get(name, default))


def fail(url, account, client, times):
    for _ in range(times):
        assert_problem(log_in(url, account, "not-the-password", client), 401)


def _subjects(account, client) -> tuple[str, str]:
    address = client["X-Forwarded-For"]
    return address, user_client_subject(account, address)


def hold_slow_downs(order_db, account, client, seconds=60):
    """Stretches the slow-downs set for `client` (and for it with `account`) to `seconds`: the first one lasts only
    a second, which a loaded machine can outlast between two requests, and these tests are about what happens
    while one holds."""
    order_db.cursor().execute("UPDATE login_throttle SET locked_until = UTC_TIMESTAMP(6) + INTERVAL ? SECOND"
                              " WHERE locked_until IS NOT NULL AND subject IN (?, ?)",
                              (seconds, *_subjects(account, client)))


def slow_down_seconds(order_db, account, client) -> float:
    """How much longer the latest slow-down of `client` (and of it with `account`) lasts, as the database holds it."""
    cursor = order_db.cursor()
    cursor.execute("SELECT TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), MAX(locked_until)) / 1e6 FROM login_throttle"
                   " WHERE subject IN (?, ?)", _subjects(account, client))
    return float(cursor.fetchone()[0] or 0)


def test_too_many_failures_from_one_client_slow_that_client_down_for_the_user_id(order_url, stack, order_db,
                                                                                account):
    limit = max_failures(stack, "LOGIN_MAX_FAILURES", 5)
    client = fresh_client()
    fail(order_url, account, client, limit)
    # The first slow-down is short: a second, then doubling with every further failure.
    assert slow_down_seconds(order_db, account, client) <= 1
    hold_slow_downs(order_db, account, client)
    throttled = log_in(order_url, account, PASSWORD, client)
    problem = assert_problem(throttled, 429)
    retry_after = int(throttled.headers["Retry-After"])
    assert 0 < retry_after <= 60 and problem["retry_after"] == retry_after
    assert f"{retry_after} seconds" in problem["hint"]
    # The same id in other letter case is the same account, so it is throttled too.
    assert_problem(log_in(order_url, account.upper(), PASSWORD, client), 429)


def test_failures_from_one_client_never_lock_the_user_out_from_another(order_url, stack, order_db, account):
    attacker = fresh_client()
    fail(order_url, account, attacker, max_failures(stack, "LOGIN_MAX_FAILURES", 5))
    hold_slow_downs(order_db, account, attacker)
    assert_problem(log_in(order_url, account, PASSWORD, attacker), 429)
    assert log_in(order_url, account, PASSWORD, fresh_client()).status_code == 200


def test_the_slow_down_doubles_with_each_further_failure_up_to_the_window(order_url, stack, order_db, account):
    limit = max_failures(stack, "LOGIN_MAX_FAILURES", 5)
    window = max_failures(stack, "LOGIN_LOCKOUT_SECONDS", 300)
    client = fresh_client()
    fail(order_url, account, client, limit)
    cursor = order_db.cursor()

    def wait_is_over():
        # Wind this client's clock forward instead of waiting out the slow-down.
        cursor.execute("UPDATE login_throttle SET locked_until = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND"
                       " WHERE subject = ?", (client["X-Forwarded-For"],))
        cursor.execute("UPDATE login_throttle SET locked_until = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND"
                       " WHERE scope = 'user_client' AND locked_until IS NOT NULL")

    wait_is_over()
    fail(order_url, account, client, 1)
    assert log_in(order_url, account, PASSWORD, client).headers["Retry-After"] == "2"
    wait_is_over()
    fail(order_url, account, client, 1)
    assert log_in(order_url, account, PASSWORD, client).headers["Retry-After"] == "4"
    cursor.execute("UPDATE login_throttle SET failures = failures + 30 WHERE scope = 'user_client'"
                   " AND locked_until IS NOT NULL")
    wait_is_over()
    fail(order_url, account, client, 1)
    assert log_in(order_url, account, PASSWORD, client).headers["Retry-After"] == str(window)


def test_a_right_password_resets_the_count_of_its_client(order_url, stack, account):
    limit = max_failures(stack, "LOGIN_MAX_FAILURES", 5)
    client = fresh_client()
    fail(order_url, account, client, limit - 1)
    assert log_in(order_url, account, PASSWORD, client).status_code == 200
    fail(order_url, account, client, limit - 1)
    assert log_in(order_url, account, PASSWORD, client).status_code == 200


def test_the_slow_down_ends_when_its_time_is_up(order_url, stack, order_db, account):
    client = fresh_client()
    fail(order_url, account, client, max_failures(stack, "LOGIN_MAX_FAILURES", 5))
    assert_problem(log_in(order_url, account, PASSWORD, client), 429)
    order_db.cursor().execute(
        "UPDATE login_throttle SET locked_until = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND,"
        " window_started_at = UTC_TIMESTAMP(6) - INTERVAL 1 DAY"
        " WHERE scope = 'user_client' AND locked_until IS NOT NULL"
    )
    assert log_in(order_url, account, PASSWORD, client).status_code == 200


def test_too_many_failures_from_one_client_slow_it_down_for_every_user_id_on_every_replica(order_url, stack, order_db,
                                                                                            account, tmp_path):
    client = fresh_client()
    # A second order-ms on the same database stands in for another replica, with a per-client limit of 3.
    env = {**stack.http_env_of("order_ms"), "LOGIN_MAX_FAILURES_PER_CLIENT": "3"}
    with gunicorn("services.order_ms:create_app()", env, tmp_path) as replica:
        # A different user id each time: only the per-client limit can be reached.
        for _ in range(3):
            assert_problem(log_in(replica, fresh_user_id(), "not-the-password", client), 401)
        hold_slow_downs(order_db, account, client)
        throttled = log_in(replica, account, PASSWORD, client)
        elsewhere = log_in(order_url, account, PASSWORD, client)
    assert_problem(throttled, 429)
    assert int(throttled.headers["Retry-After"]) > 0

    assert_problem(elsewhere, 429)
    assert log_in(order_url, account, PASSWORD, fresh_client()).status_code == 200


def test_the_slow_down_is_shared_by_every_worker(order_url, stack, order_db, account):
    # gunicorn runs several workers; each attempt opens a new connection and may land on any of them.
    client = fresh_client()
    for _ in range(max_failures(stack, "LOGIN_MAX_FAILURES", 5)):
        with requests.Session() as session:
            session.post(f"{order_url}/order-ms/login", json={"user_id": account, "password": "wrong-password"},
                         headers=client, timeout=10)
    hold_slow_downs(order_db, account, client)
    statuses = set()
    for _ in range(6):
        with requests.Session() as session:
            statuses.add(session.post(f"{order_url}/order-ms/login", json={"user_id": account, "password": PASSWORD},
                                      headers=client, timeout=10).status_code)
    assert statuses == {429}


def burst(url, account, client, times):
    """`times` wrong-password logins for `account` from `client`, all at once, each on a connection of its own."""
    def one(_):
        with requests.Session() as session:
            return session.post(f"{url}/order-ms/login", json={"user_id": account, "password": "not-the-password"},
                                headers=client, timeout=30)

    with ThreadPoolExecutor(max_workers=times) as pool:
        return list(pool.map(one, range(times)))


def counted(order_db, scope, subject):
    cursor = order_db.cursor()
    cursor.execute("SELECT failures FROM login_throttle WHERE scope = ? AND subject = ?", (scope, subject))
    row = cursor.fetchone()
    return row[0] if row else 0


def test_a_parallel_burst_of_wrong_logins_gets_no_more_checks_than_the_limit(order_url, stack, order_db, account):
    limit = max_failures(stack, "LOGIN_MAX_FAILURES", 5)
    client = fresh_client()
    started = time.monotonic()
    answers = burst(order_url, account, client, 30)
    seconds = time.monotonic() - started
    statuses = [response.status_code for response in answers]
    assert set(statuses) <= {401, 429}, statuses
    # Every password checked was counted first, and no more were checked than the limit allows, plus one per
    # slow-down (1, 2, 4, ... s) that ran out while the burst lasted: 2**k - 1 seconds let k more in.
    checked = statuses.count(401)
    allowed = limit + int(math.log2(seconds + 1))
    assert 0 < checked <= allowed, f"{checked} of 30 parallel wrong logins were checked in {seconds:.1f} s"
    assert counted(order_db, SCOPE_USER_CLIENT, user_client_subject(account, client["X-Forwarded-For"])) == checked
    assert counted(order_db, SCOPE_CLIENT, client["X-Forwarded-For"]) == checked
    for response in answers:
        if response.status_code == 429:
            assert int(assert_problem(response, 429)["retry_after"]) > 0
    assert log_in(order_url, account, PASSWORD, fresh_client()).status_code == 200


def test_a_parallel_burst_past_the_limit_gets_one_check_per_slow_down(order_url, stack, order_db, account):
    limit = max_failures(stack, "LOGIN_MAX_FAILURES", 5)
    client = fresh_client()
    fail(order_url, account, client, limit)
    # Three slow-downs later, and the last one over: the next failure slows this client down for 16 seconds.
    pair = user_client_subject(account, client["X-Forwarded-For"])
    order_db.cursor().execute(
        "UPDATE login_throttle SET failures = failures + 3, locked_until = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND"
        " WHERE scope = ? AND subject = ?", (SCOPE_USER_CLIENT, pair))
    started = time.monotonic()
    statuses = sorted(response.status_code for response in burst(order_url, account, client, 30))
    assert statuses == [401] + [429] * 29
    # The one check was the fourth failure past the limit: 16 seconds, less the time the burst took.
    assert 0 < int(log_in(order_url, account, PASSWORD, client).headers["Retry-After"]) <= 16
    left = slow_down_seconds(order_db, account, client)
    assert 16 - (time.monotonic() - started) <= left <= 16


def test_a_right_password_does_not_count_against_its_client(order_url, stack, order_db, account):
    limit = max_failures(stack, "LOGIN_MAX_FAILURES", 5)
    client = fresh_client()
    fail(order_url, account, client, limit - 1)
    assert log_in(order_url, account, PASSWORD, client).status_code == 200
    # The pair's count is cleared; the client's keeps its failures, without the login that succeeded.
    assert counted(order_db, SCOPE_USER_CLIENT, user_client_subject(account, client["X-Forwarded-For"])) == 0
    assert counted(order_db, SCOPE_CLIENT, client["X-Forwarded-For"]) == limit - 1


def test_too_many_signups_from_one_client_are_refused_other_clients_go_on(stack, tmp_path):
    env = {**stack.http_env_of("order_ms"), "SIGNUP_MAX_PER_CLIENT": "2", "SIGNUP_WINDOW_SECONDS": "600"}
    client = fresh_client()
    with gunicorn("services.order_ms:create_app()", env, tmp_path) as replica:
        for _ in range(2):
            assert requests.post(f"{replica}/order-ms/users", json={"user_id": fresh_user_id(), "password": PASSWORD},
                                 headers=client, timeout=10).status_code == 201
        refused = requests.post(f"{replica}/order-ms/users", json={"user_id": fresh_user_id(), "password": PASSWORD},
                                headers=client, timeout=10)
        problem = assert_problem(refused, 429)
        assert 0 < int(refused.headers["Retry-After"]) <= 600 and "before creating another account" in problem["hint"]
        assert requests.post(f"{replica}/order-ms/users", json={"user_id": fresh_user_id(), "password": PASSWORD},
                             headers=fresh_client(), timeout=10).status_code == 201


# --- tokens ---------------------------------------------------------------------------------------

# What a bad token is told is proven in process (tests/unit/test_permissions.py, tests/unit/platform/); here only
# that the stack's services share the key pair the stack made, and that order-ms publishes its public key.

def test_a_token_signed_with_the_stack_signing_key_is_accepted_by_both_services(base_url, stack):
    signer = load_signing_key(stack.http_env_of("order_ms")["TOKEN_SIGNING_KEY_FILE"], "key")
    now = int(time.time())
    claims = {"sub": DEMO_CUSTOMER[0], "role": "customer", "iss": TOKEN_ISSUER, "iat": now, "exp": now + 60}
    token = jwt.encode(claims, signer.private_key, algorithm=ALGORITHM, headers={"kid": signer.kid})
    response = requests.get(f"{base_url}/order-ms/{DEMO_CUSTOMER[0]}/orders", headers=auth(token), timeout=10)
    assert response.status_code == 200, response.text
    response = requests.get(f"{base_url}/delivery-ms/deliveries", headers=auth(token), timeout=10)
    assert response.status_code == 200, response.text


def test_the_published_key_set_through_the_ingress_verifies_login_tokens(base_url):
    keys = requests.get(f"{base_url}/order-ms/.well-known/jwks.json", timeout=10)
    assert keys.status_code == 200 and keys.headers["Content-Type"].startswith("application/json")
    token = log_in(base_url, *DEMO_CUSTOMER).json()["access_token"]
    kid = jwt.get_unverified_header(token)["kid"]
    (key,) = [key for key in keys.json()["keys"] if key["kid"] == kid]
    assert "d" not in key
    assert jwt.decode(token, jwt.PyJWK(key).key, algorithms=[ALGORITHM], issuer=TOKEN_ISSUER)["sub"] == DEMO_CUSTOMER[0]
