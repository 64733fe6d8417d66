"""Per-client limits: the sign-up throttle and the login back-off, each from clients of their own (CASE-0101..0105),
and the throttles that stop guessing without stopping owners: device tokens and login rates (CASE-0140..0144).

Every client here is another local source address (uat/clients.py), never the runner's own: the pool's
accounts and the other cases keep their sign-ups, and a second run meets clients the first did not throttle.
The limits are the deployment's defaults, SIGNUP_MAX_PER_CLIENT (20), LOGIN_MAX_FAILURES (5),
LOGIN_MAX_PER_ACCOUNT (20) and LOGIN_MAX_PER_DEVICE (10) unless UAT_SIGNUP_MAX_PER_CLIENT,
UAT_LOGIN_MAX_FAILURES, UAT_LOGIN_MAX_PER_ACCOUNT or UAT_LOGIN_MAX_PER_DEVICE says the deployment chose another."""
from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import DefaultCookiePolicy

import pytest

from tests.acceptance.uat.checks import assert_problem
from tests.acceptance.uat.client import Api
from tests.acceptance.uat.clients import ClientAddresses, NoOtherClient
from tests.acceptance.uat.flows import PASSWORD, new_user_id

SIGN_UP = "/order-ms/users"
LOGIN = "/order-ms/login"
SIGNUP_LIMIT = int(os.environ.get("UAT_SIGNUP_MAX_PER_CLIENT", "20"))
BURST = 2 * SIGNUP_LIMIT
# Far above the default LOGIN_MAX_FAILURES (5), so a deployment with another limit still passes.
MAX_LOCKOUT_ATTEMPTS = 20
LOGIN_LIMIT = int(os.environ.get("UAT_LOGIN_MAX_FAILURES", "5"))
LOGIN_BURST = 30
LOGINS_PER_ACCOUNT = int(os.environ.get("UAT_LOGIN_MAX_PER_ACCOUNT", "20"))
LOGINS_PER_DEVICE = int(os.environ.get("UAT_LOGIN_MAX_PER_DEVICE", "10"))
# Far above the defaults, so a deployment with other limits still passes: a flood of wrong passwords for fresh
# user ids from one address (LOGIN_MAX_FAILURES_PER_CLIENT, 50), and a loop of right ones.
MAX_FLOOD = 80
MAX_LOOP = 200
DEVICE_TOKEN = "Device-Token"


@pytest.fixture(scope="module")
def addresses(base_url, met_settings):
    addresses = ClientAddresses(base_url)
    if not addresses.available:
        # Only against a remote deployment without UAT_CLIENT_ADDRESSES: the report says why they did not run.
        pytest.skip(str(NoOtherClient.REMOTE))
    yield addresses
    met_settings["other clients (local source addresses)"] = ", ".join(addresses.used) or "none"


@pytest.fixture
def new_client(base_url, addresses):
    """new_client() is an Api whose requests come from an address no other case used."""
    made: list[Api] = []

    def make() -> Api:
        made.append(Api(base_url, source_address=addresses.next()))
        return made[-1]

    yield make
    for client in made:
        client.close()


def sign_up_from(client: Api, user_id: str | None = None):
    return client.post(SIGN_UP, json={"user_id": user_id or new_user_id("limit"), "password": PASSWORD})


def log_in_from(client: Api, user_id: str, password: str = PASSWORD, device_token: str | None = None):
    return client.post(LOGIN, json={"user_id": user_id, "password": password},
                       headers={DEVICE_TOKEN: device_token} if device_token else None)


def without_cookies(client: Api) -> Api:
    """The client keeps no cookie, so it never returns a device token unless told to (a script, not a browser)."""
    client.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return client


@pytest.fixture(scope="module")
def throttled(base_url, addresses, met_settings):
    """A client that has signed up until it was refused: (its Api, the user ids it got 201 for, the refusal)."""
    client = Api(base_url, source_address=addresses.next())
    created = []
    for _ in range(SIGNUP_LIMIT + 1):
        user_id = new_user_id("limit")
        response = sign_up_from(client, user_id)
        if response.status_code != 201:
            break
        created.append(user_id)
    met_settings["SIGNUP_MAX_PER_CLIENT (sign-ups accepted from one client before its 429)"] = str(len(created))
    met_settings["SIGNUP_WINDOW_SECONDS (at least the first refusal's Retry-After)"] = response.headers.get(
        "Retry-After", "none")
    yield client, created, response
    client.close()


@pytest.mark.case("CASE-0101")
def test_the_sign_up_past_the_limit_is_refused_with_retry_after(throttled, case):
    client, created, refused = throttled
    assert len(created) == SIGNUP_LIMIT, (
        f"{len(created)} sign-ups were accepted before the refusal, not {SIGNUP_LIMIT}")
    told = assert_problem(refused, 429, case)
    retry_after = refused.headers.get("Retry-After", "")
    assert retry_after.isdigit() and 0 < int(retry_after) <= 600, f"Retry-After {retry_after!r}"
    assert told.values["seconds"] == retry_after
    # Refused until the window ends, not just once.
    assert_problem(sign_up_from(client), 429, case)


@pytest.mark.case("CASE-0102")
def test_another_client_still_signs_up(throttled, new_client):
    client, _, _ = throttled
    assert sign_up_from(client).status_code == 429, "the first client must still be refused"
    user_id = new_user_id("limit")
    response = sign_up_from(new_client(), user_id)
    assert response.status_code == 201, response.text
    assert response.json()["user_id"] == user_id


@pytest.mark.case("CASE-0103")
def test_a_parallel_burst_creates_no_more_than_the_limit(base_url, addresses, case):
    address = addresses.next()

    def one(_):
        # A connection each, all from the one address: parallel requests of one client.
        client = Api(base_url, source_address=address)
        try:
            response = sign_up_from(client)
            return response.status_code, response
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=BURST) as pool:
        answers = list(pool.map(one, range(BURST)))
    statuses = sorted(status for status, _ in answers)
    assert set(statuses) <= {201, 429}, statuses
    assert statuses.count(201) == SIGNUP_LIMIT, f"{statuses.count(201)} of {BURST} parallel sign-ups were accepted"
    assert_problem(next(response for status, response in answers if status == 429), 429, case)


@pytest.mark.case("CASE-0104")
def test_a_login_lockout_holds_only_for_the_client_that_failed(new_client, met_settings, case):
    guesser, owner = new_client(), new_client()
    user_id = new_user_id("limit")
    assert sign_up_from(owner, user_id).status_code == 201
    response, failures = None, 0
    for _ in range(MAX_LOCKOUT_ATTEMPTS):
        response = guesser.post(LOGIN, json={"user_id": user_id, "password": "wrong-password"})
        if response.status_code != 401:
            break
        failures += 1
    met_settings["LOGIN_MAX_FAILURES (wrong passwords answered 401 before the 429)"] = str(failures)
    assert_problem(response, 429, case)
    assert response.headers.get("Retry-After", "").isdigit()
    # The owner, from its own address, is not locked out by the stranger's guesses.
    login = owner.post(LOGIN, json={"user_id": user_id, "password": PASSWORD})
    assert login.status_code == 200, login.text
    assert login.json()["user_id"] == user_id and login.json()["access_token"]


@pytest.mark.case("CASE-0105")
def test_a_parallel_burst_of_wrong_logins_gets_no_more_checks_than_the_limit(base_url, addresses, new_client, case,
                                                                            met_settings):
    owner, address = new_client(), addresses.next()
    user_id = new_user_id("limit")
    assert sign_up_from(owner, user_id).status_code == 201

    def one(_):
        # A connection each, all from the one address: parallel guesses of one client.
        guesser = Api(base_url, source_address=address)
        try:
            return guesser.post(LOGIN, json={"user_id": user_id, "password": "wrong-password"})
        finally:
            guesser.close()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=LOGIN_BURST) as pool:
        answers = list(pool.map(one, range(LOGIN_BURST)))
    seconds = time.monotonic() - started
    statuses = sorted(response.status_code for response in answers)
    assert set(statuses) <= {401, 429}, statuses
    # Past the limit a client waits 1, 2, 4, ... seconds, so a burst that lasts longer than the first lock (on a
    # loaded machine) may rightly get one more check per lock that ran out: 2**k - 1 seconds let k more in.
    allowed = LOGIN_LIMIT + int(math.log2(seconds + 1))
    met_settings["a burst of 30 wrong logins: its seconds, the checks it may get"] = f"{seconds:.1f}, {allowed}"
    assert 0 < statuses.count(401) <= allowed, (
        f"{statuses.count(401)} of {LOGIN_BURST} wrong logins were checked in {seconds:.1f} s, at most {allowed} may")
    for refused in (response for response in answers if response.status_code == 429):
        assert_problem(refused, 429, case)
        assert refused.headers.get("Retry-After", "").isdigit()
    login = owner.post(LOGIN, json={"user_id": user_id, "password": PASSWORD})
    assert login.status_code == 200, login.text


# --- throttles that stop guessing without stopping owners (issue 25) -------------------------------------------

@pytest.fixture(scope="module")
def flooded(base_url, addresses, met_settings):
    """An address whose strangers flooded login with wrong passwords until it was refused, and its owner: (the
    owner's Api, which keeps cookies as a browser does, a strangers' Api on the same address, which keeps none,
    the owner's user id, the Device-Token of its login before the flood)."""
    address = addresses.next()
    owner, strangers = Api(base_url, source_address=address), without_cookies(Api(base_url, source_address=address))
    user_id = new_user_id("owner")
    assert sign_up_from(owner, user_id).status_code == 201
    login = log_in_from(owner, user_id)
    assert login.status_code == 200, login.text
    token = login.headers.get(DEVICE_TOKEN, "")
    assert token, "a login must answer a Device-Token"
    for _ in range(LOGIN_LIMIT):
        assert log_in_from(strangers, user_id, "wrong-password").status_code == 401
    failures, response = LOGIN_LIMIT, None
    for _ in range(MAX_FLOOD):
        response = log_in_from(strangers, new_user_id("nobody"), "wrong-password")
        if response.status_code != 401:
            break
        failures += 1
    assert response.status_code == 429, f"{MAX_FLOOD} wrong logins from one address were never slowed down"
    met_settings["wrong logins from one address before its first 429 (LOGIN_MAX_FAILURES_PER_CLIENT)"] = (
        str(failures))
    yield owner, strangers, user_id, token
    owner.close()
    strangers.close()


def while_locked(strangers: Api, probe):
    """probe()'s answer, got while the strangers' address was refused throughout: a wrong login got 429 just
    before and just after it. The first slow-downs are short (1, 2, 4, ... s), so when one ended meanwhile,
    the strangers fail once more, which sets a longer one, and the probe runs again."""
    for _ in range(12):
        response = None
        for _ in range(MAX_FLOOD):
            response = log_in_from(strangers, new_user_id("nobody"), "wrong-password")
            if response.status_code != 401:
                break
        assert response.status_code == 429, response.text
        answer = probe()
        if log_in_from(strangers, new_user_id("nobody"), "wrong-password").status_code == 429:
            return answer
    raise AssertionError("the strangers' address was never refused for the length of one probe")


@pytest.mark.case("CASE-0140")
def test_a_flood_of_failures_from_one_address_does_not_refuse_a_returning_users_right_password(flooded):
    owner, strangers, user_id, token = flooded
    # A new device behind that address waits like the strangers do; the owner's device, which returns its token
    # (cookie and header), does not; nor does a client that keeps cookies and sends nothing else.
    new_device, with_token, by_cookie = while_locked(strangers, lambda: (
        log_in_from(strangers, user_id), log_in_from(owner, user_id, device_token=token),
        owner.post(LOGIN, json={"user_id": user_id, "password": PASSWORD})))
    assert new_device.status_code == 429, new_device.text
    assert with_token.status_code == 200, with_token.text
    assert with_token.json()["user_id"] == user_id and with_token.json()["access_token"]
    assert with_token.headers.get(DEVICE_TOKEN) == token
    assert by_cookie.status_code == 200, by_cookie.text


@pytest.mark.case("CASE-0143")
def test_a_device_token_opens_nothing_for_another_account_and_a_made_up_one_is_ignored(flooded, new_client, case):
    _, strangers, user_id, token = flooded
    other = new_user_id("other")
    assert sign_up_from(new_client(), other).status_code == 201
    someone_elses, made_up = while_locked(strangers, lambda: (
        log_in_from(strangers, other, device_token=token),
        log_in_from(strangers, user_id, device_token="dt1." + "A" * 43)))
    told = assert_problem(someone_elses, 429, case)
    assert someone_elses.headers.get("Retry-After") == told.values["seconds"]
    assert_problem(made_up, 429, case)


def loop_of_right_logins(client: Api, user_id: str, device_token: str | None = None):
    """Right passwords until the answer is not 200: (how many got 200, the answer that ended the loop)."""
    for done in range(MAX_LOOP):
        response = log_in_from(client, user_id, device_token=device_token)
        if response.status_code != 200:
            return done, response
    raise AssertionError(f"{MAX_LOOP} right logins of one user id in a row were never slowed down")


@pytest.mark.case("CASE-0141")
def test_a_loop_of_right_passwords_is_slowed_down(new_client, met_settings, case):
    client = without_cookies(new_client())
    user_id = new_user_id("loop")
    assert sign_up_from(new_client(), user_id).status_code == 201
    done, refused = loop_of_right_logins(client, user_id)
    met_settings["LOGIN_MAX_PER_ACCOUNT (right logins without a device token before the 429)"] = str(done)
    assert done == LOGINS_PER_ACCOUNT, f"{done} right logins before the 429, not {LOGINS_PER_ACCOUNT}"
    told = assert_problem(refused, 429, case)
    assert refused.headers.get("Retry-After") == told.values["seconds"] and int(told.values["seconds"]) > 0


@pytest.mark.case("CASE-0142")
def test_a_loop_of_right_passwords_from_a_known_device_is_slowed_down_per_device(new_client, met_settings, case):
    client = without_cookies(new_client())
    user_id = new_user_id("loop")
    assert sign_up_from(new_client(), user_id).status_code == 201
    token = log_in_from(client, user_id).headers.get(DEVICE_TOKEN)
    assert token, "a login must answer a Device-Token"
    done, refused = loop_of_right_logins(client, user_id, device_token=token)
    met_settings["LOGIN_MAX_PER_DEVICE (right logins with a device token before the 429)"] = str(done)
    assert done == LOGINS_PER_DEVICE, f"{done} right logins with the device token before the 429"
    told = assert_problem(refused, 429, case)
    assert refused.headers.get("Retry-After") == told.values["seconds"] and int(told.values["seconds"]) > 0


@pytest.mark.case("CASE-0144")
def test_an_address_past_its_sign_ups_still_logs_its_users_in(throttled):
    client, created, refused = throttled
    assert sign_up_from(client).status_code == 429, "the client must still be refused"
    assert "operator" in refused.json()["hint"]
    login = log_in_from(client, created[0])
    assert login.status_code == 200, login.text
    assert login.json()["user_id"] == created[0] and login.json()["access_token"]

