"""Login: bearer tokens for customers and staff, wrong credentials and the lockout (CASE-0023..0028).

Failed logins also count against the client address (LOGIN_MAX_FAILURES_PER_CLIENT): these cases keep
their failures few, and lock out only fresh user ids, never the staff account."""
from __future__ import annotations

import pytest

from tests.acceptance.uat.checks import assert_problem
from tests.acceptance.uat.flows import PASSWORD, as_placed, new_user_id, orders_path, sign_up
from tests.acceptance.uat.staff import staff_credentials

LOGIN = "/order-ms/login"
# Far above the default LOGIN_MAX_FAILURES (5), so a deployment with another limit still passes.
MAX_LOCKOUT_ATTEMPTS = 20


@pytest.mark.smoke
@pytest.mark.case("CASE-0023")
def test_customer_logs_in_and_token_opens_orders(api, customer):
    user_id = customer.user_id
    response = api.post(LOGIN, json={"user_id": user_id, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["user_id"] == user_id and body["role"] == "customer"
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0
    assert isinstance(body["access_token"], str) and body["access_token"]
    orders = api.get(orders_path(user_id), token=body["access_token"])
    assert orders.status_code == 200
    assert as_placed(orders.json()) == as_placed(api.get(orders_path(user_id), token=customer.token).json())


@pytest.mark.case("CASE-0024")
def test_staff_logs_in_with_staff_role(api):
    user_id, password = staff_credentials()
    response = api.post(LOGIN, json={"user_id": user_id, "password": password})
    assert response.status_code == 200
    assert response.json()["role"] == "staff"
    assert response.json()["access_token"]


@pytest.mark.case("CASE-0025")
def test_wrong_password_is_refused(api, customer, case):
    told = assert_problem(api.post(LOGIN, json={"user_id": customer.user_id, "password": "wrong-password"}), 401, case)
    assert "access_token" not in told.body


@pytest.mark.case("CASE-0026")
def test_unknown_user_gets_the_same_answer_as_wrong_password(api, customer, case):
    unknown = assert_problem(api.post(LOGIN, json={"user_id": new_user_id("nobody"), "password": PASSWORD}), 401, case)
    wrong = assert_problem(api.post(LOGIN, json={"user_id": customer.user_id, "password": "wrong-password"}), 401, case)
    members = ("title", "detail", "hint")
    assert [unknown.body[key] for key in members] == [wrong.body[key] for key in members]


@pytest.mark.case("CASE-0027")
def test_repeated_failures_lock_the_user_id_out(api, case):
    account = sign_up(api)
    failures = 0
    response = None
    for _ in range(MAX_LOCKOUT_ATTEMPTS):
        response = api.post(LOGIN, json={"user_id": account.user_id, "password": "wrong-password"})
        if response.status_code != 401:
            break
        failures += 1
    assert failures >= 1, "the first wrong password must be a plain 401"
    told = assert_problem(response, 429, case)
    retry_after = response.headers.get("Retry-After", "")
    assert retry_after.isdigit() and int(retry_after) > 0, f"Retry-After {retry_after!r}"
    # The hint's wait is the one Retry-After gives.
    assert told.values["seconds"] == retry_after
    # A lockout that the right password lifts would only slow guessing down by one request.
    assert_problem(api.post(LOGIN, json={"user_id": account.user_id, "password": account.password}), 429, case)


@pytest.mark.case("CASE-0028")
def test_login_without_password_is_invalid_input(api, case):
    assert_problem(api.post(LOGIN, json={"user_id": new_user_id()}), 422, case, field="password")


@pytest.mark.case("CASE-0108")
def test_login_in_another_case_gives_the_account_as_signed_up(api, customer):
    response = api.post(LOGIN, json={"user_id": customer.user_id.upper(), "password": customer.password})
    assert response.status_code == 200
    assert response.json()["user_id"] == customer.user_id
    assert api.get(orders_path(customer.user_id), token=response.json()["access_token"]).status_code == 200
