"""Sign-up: new customer accounts and the ways a sign-up is refused (CASE-0018..0022)."""
from __future__ import annotations

import pytest

from tests.acceptance.uat.checks import ISO_UTC_MICROSECONDS, assert_problem
from tests.acceptance.uat.flows import PASSWORD, log_in, new_user_id

SIGN_UP = "/order-ms/users"


@pytest.mark.case("CASE-0018")
def test_new_customer_signs_up_and_logs_in(api):
    user_id = new_user_id()
    response = api.post(SIGN_UP, json={"user_id": user_id, "password": PASSWORD})
    assert response.status_code == 201
    body = response.json()
    assert body["user_id"] == user_id
    assert body["role"] == "customer"
    assert ISO_UTC_MICROSECONDS.match(body["created_at"]), body
    assert log_in(api, user_id, PASSWORD)


@pytest.mark.case("CASE-0019")
def test_short_password_is_refused(api, case):
    user_id = new_user_id()
    assert_problem(api.post(SIGN_UP, json={"user_id": user_id, "password": "short"}), 422, case, field="password")
    # Nothing was created: the short password does not log in (checked without signing up again, which
    # would spend one of the client's sign-ups).
    assert api.post("/order-ms/login", json={"user_id": user_id, "password": "short"}).status_code == 401


@pytest.mark.case("CASE-0020")
def test_taken_user_id_is_refused(api, customer, case):
    user_id = customer.user_id
    told = assert_problem(api.post(SIGN_UP, json={"user_id": user_id, "password": "another-password"}), 409, case)
    assert told.values["user_id"] == user_id
    assert log_in(api, user_id, customer.password), "the first account must keep its password"


@pytest.mark.case("CASE-0021")
@pytest.mark.parametrize("user_id", ["has space", "dot.ted", "x" * 51, ""])
def test_user_id_breaking_the_rules_is_refused(api, user_id, case):
    assert_problem(api.post(SIGN_UP, json={"user_id": user_id, "password": PASSWORD}), 422, case, field="user_id")


@pytest.mark.case("CASE-0022")
@pytest.mark.parametrize("missing", ["password", "user_id"])
def test_sign_up_without_a_field_is_refused(api, missing, case):
    body = {"user_id": new_user_id(), "password": PASSWORD}
    del body[missing]
    told = assert_problem(api.post(SIGN_UP, json=body), 422, case, field=missing)
    assert told.body["detail"].startswith(f"{missing} "), "the detail must name the missing field"


@pytest.mark.case("CASE-0107")
def test_user_id_in_another_case_is_refused(api, customer, case):
    look_alike = customer.user_id.upper()
    assert look_alike != customer.user_id
    told = assert_problem(api.post(SIGN_UP, json={"user_id": look_alike, "password": "another-password"}), 409, case)
    assert told.values["user_id"] == look_alike
    assert log_in(api, customer.user_id, customer.password), "the first account must keep its password"
