"""Device tokens: their parser (hypothesis), where a login finds them, how they are handed out, and the login
route's use of them with the fake store (against MariaDB and gunicorn: tests/integration/order_ms/
test_throttle_redesign.py)."""
import contextlib
import hashlib
import string
from dataclasses import replace

import pytest
from flask import Flask, Response
from hypothesis import given, settings
from hypothesis import strategies as st

from services.order_ms import device_tokens
from services.order_ms.login_slots import LOGIN_SLOTS
from tests.unit.answers import assert_problem

PASSWORD = "a-long-password"
TOKEN_ALPHABET = string.ascii_letters + string.digits + "-_"


# --- the parser ------------------------------------------------------------------------------------------

def test_a_new_token_is_well_formed_random_and_stored_only_as_its_sha256():
    tokens = {device_tokens.new_token() for _ in range(100)}
    assert len(tokens) == 100
    for token in tokens:
        assert token.startswith("dt1.") and len(token) == 47
        assert device_tokens.token_hash(token) == hashlib.sha256(token.encode()).hexdigest()


@settings(max_examples=500)
@given(st.one_of(st.none(), st.text(), st.binary().map(lambda raw: raw.decode("latin-1")), st.integers()))
def test_anything_a_client_sends_is_a_token_or_nothing_never_an_error(value):
    hashed = device_tokens.token_hash(value)
    if hashed is not None:
        assert device_tokens.TOKEN.fullmatch(value)
        assert len(hashed) == 64 and set(hashed) <= set("0123456789abcdef")


@given(st.text(TOKEN_ALPHABET, min_size=43, max_size=43))
def test_every_token_of_the_format_is_read_and_hashed_as_itself(body):
    token = f"dt1.{body}"
    assert device_tokens.token_hash(token) == hashlib.sha256(token.encode()).hexdigest()


@given(st.text(TOKEN_ALPHABET, min_size=43, max_size=43), st.sampled_from(["", " ", "\n", "=", ".", "é", "\x00"]),
       st.integers(min_value=0, max_value=46))
def test_a_token_with_anything_added_or_taken_away_is_nothing(body, extra, at):
    token = f"dt1.{body}"
    assert device_tokens.token_hash(token[:at] + extra + token[at + 1:] if extra == "" else
                                     token[:at] + extra + token[at:]) is None


@pytest.mark.parametrize("value", ["", "dt1.", "dt2." + "a" * 43, "dt1." + "a" * 42, "dt1." + "a" * 44,
                                   "DT1." + "a" * 43, " dt1." + "a" * 43, "dt1." + "a" * 42 + "+"])
def test_look_alikes_are_nothing(value):
    assert device_tokens.token_hash(value) is None


# --- where a login finds it, how it is handed out -----------------------------------------------------------

def presented(headers=None, cookie=None):
    app = Flask(__name__)
    environ = {"HTTP_COOKIE": f"{device_tokens.COOKIE}={cookie}"} if cookie else {}
    with app.test_request_context("/order-ms/login", method="POST", headers=headers or {}, environ_base=environ):
        from flask import request
        return device_tokens.presented(request)


def test_the_header_is_read_before_the_cookie_and_a_malformed_one_is_passed_over():
    header, cookie = device_tokens.new_token(), device_tokens.new_token()
    assert presented({"Device-Token": header}, cookie) == header
    assert presented({"Device-Token": "garbage"}, cookie) == cookie
    assert presented({}, cookie) == cookie
    assert presented({"Device-Token": header}) == header
    assert presented({"Device-Token": "garbage"}, "also garbage") is None
    assert presented() is None


@pytest.mark.parametrize("secure", [False, True])
def test_it_is_handed_out_as_a_header_and_an_httponly_strict_cookie_for_the_login_path_only(order_settings, secure):
    response = Response()
    device_tokens.attach(response, "dt1." + "a" * 43, order_settings, secure)
    assert response.headers["Device-Token"] == "dt1." + "a" * 43
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"device_token=dt1.{'a' * 43};")
    for part in ("HttpOnly", "SameSite=Strict", "Path=/order-ms/login",
                 f"Max-Age={order_settings.device_token_ttl_seconds}"):
        assert part in cookie
    assert ("Secure" in cookie) == secure


def test_a_known_token_is_kept_for_another_account_and_an_unknown_one_replaced(order_store, order_settings):
    first = device_tokens.remember(None, order_settings, "Alice", None)
    assert device_tokens.trusted_for(None, order_settings, first, "alice") == device_tokens.token_hash(first)
    # The family browser: the same device vouches for a second account once its password was right.
    assert device_tokens.remember(None, order_settings, "bob", first) == first
    assert device_tokens.trusted_for(None, order_settings, first, "bob")
    # A well-formed token the service never issued is not adopted.
    invented = "dt1." + "b" * 43
    assert device_tokens.remember(None, order_settings, "bob", invented) != invented
    assert device_tokens.trusted_for(None, order_settings, invented, "bob") is None
    assert device_tokens.trusted_for(None, order_settings, first, "carol") is None


def test_an_account_keeps_only_its_most_recent_devices(order_store, order_settings):
    settings = replace(order_settings, device_tokens_per_account=3)
    tokens = [device_tokens.remember(None, settings, "alice", None) for _ in range(5)]
    assert [bool(device_tokens.trusted_for(None, settings, token, "alice")) for token in tokens] == \
        [False, False, True, True, True]


# --- the login route with them (fake store, production defaults) ------------------------------------------

@pytest.fixture
def api(order_app, order_store):
    """An API client: it sends a device token only where a test gives one (no cookie jar)."""
    return order_app.test_client(use_cookies=False)


def sign_up(client, user_id):
    assert client.post("/order-ms/users", json={"user_id": user_id, "password": PASSWORD},
                       headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 201


def log_in(client, user_id, password=PASSWORD, address="203.0.113.5", token=None):
    headers = {"X-Forwarded-For": address}
    if token:
        headers["Device-Token"] = token
    return client.post("/order-ms/login", json={"user_id": user_id, "password": password}, headers=headers)


def test_a_login_answers_a_device_token_in_a_header_and_a_cookie(api):
    sign_up(api, "owner")
    answer = log_in(api, "owner")
    assert answer.status_code == 200 and set(answer.json) == {"access_token", "token_type", "expires_in", "user_id",
                                                               "role"}
    token = answer.headers["Device-Token"]
    assert device_tokens.token_hash(token)
    assert f"device_token={token}" in answer.headers["Set-Cookie"]
    # Returned, it is kept: the same device stays the same device.
    assert log_in(api, "owner", token=token).headers["Device-Token"] == token


def test_a_flood_of_failures_from_the_owners_address_does_not_refuse_the_owners_device(api, order_client,
                                                                                     order_settings):
    sign_up(api, "owner")
    token = log_in(api, "owner").headers["Device-Token"]
    for _ in range(order_settings.login_max_failures):
        assert_problem(log_in(api, "owner", "wrong-password"), 401)
    assert_problem(log_in(api, "owner"), 429)
    assert log_in(api, "owner", token=token).status_code == 200
    # The browser's way: the cookie the login set.
    order_client.set_cookie(device_tokens.COOKIE, token, path=device_tokens.COOKIE_PATH)
    assert log_in(order_client, "owner").status_code == 200


def test_the_device_has_its_own_failure_limit(api, order_settings):
    sign_up(api, "owner")
    token = log_in(api, "owner").headers["Device-Token"]
    for _ in range(order_settings.login_max_failures):
        assert_problem(log_in(api, "owner", "wrong-password", token=token), 401)
    assert "this device" in assert_problem(log_in(api, "owner", token=token), 429)["detail"]


def test_a_loop_of_right_passwords_is_slowed_per_account_and_per_device(api, order_settings):
    sign_up(api, "looper")
    for attempt in range(order_settings.login_max_per_account):
        # Each from another address: only the account's own rate can be reached.
        assert log_in(api, "looper", address=f"192.0.2.{attempt + 1}").status_code == 200
    problem = assert_problem(log_in(api, "looper", address="192.0.2.200"), 429)
    assert problem["type"] == "/problems/too-many-logins" and "reuse it" in problem["hint"]
    sign_up(api, "device-looper")
    token = log_in(api, "device-looper").headers["Device-Token"]
    for _ in range(order_settings.login_max_per_device):
        assert log_in(api, "device-looper", token=token).status_code == 200
    assert "this device" in assert_problem(log_in(api, "device-looper", token=token), 429)["detail"]


def test_a_login_that_finds_every_password_check_slot_taken_is_429_and_counts_nothing(api, order_app, order_store):
    sign_up(api, "owner")
    slots = order_app.config[LOGIN_SLOTS]
    with contextlib.ExitStack() as holding:
        for _ in slots.paths:
            holding.enter_context(slots.held())
        busy = api.post("/order-ms/login", json={"user_id": "owner", "password": PASSWORD})
        problem = assert_problem(busy, 429)
        assert problem["type"] == "/problems/logins-busy" and busy.headers["Retry-After"] == "1"
        counted = {scope for scope, _subject in order_store.counters}
        assert counted == {"signup", "signup_all"}, "a login refused for want of a slot must count nothing"
    assert log_in(api, "owner").status_code == 200
