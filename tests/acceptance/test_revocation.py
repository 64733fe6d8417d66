"""Revocation: a logout or an account deletion makes the account's earlier tokens useless on both services within
seconds (CASE-0150..0153). A role change is an operator's act the suite cannot perform over HTTP: its case is
proven across two instances of each service in tests/integration/stack/test_revocation.py."""
from __future__ import annotations

import pytest

from tests.acceptance.uat.checks import assert_problem, wait_until
from tests.acceptance.uat.flows import PASSWORD, log_in, orders_path, place_order, sign_up

LOGOUT = "/order-ms/logout"
DELIVERIES = "/delivery-ms/deliveries"


def refused_everywhere(api, user_id: str, token: str):
    """Polls until both services answer the token with 401; returns those two answers."""
    def probe():
        answers = [api.get(orders_path(user_id), token=token), api.get(DELIVERIES, token=token)]
        return answers if all(answer.status_code == 401 for answer in answers) else None
    return wait_until(probe, f"both services refusing {user_id}'s revoked token")


@pytest.mark.case("CASE-0150")
def test_a_logout_revokes_every_earlier_token_on_both_services(api, account_pool, case):
    account = account_pool.account(1)
    second_token = log_in(api, account.user_id, account.password)
    try:
        assert api.get(DELIVERIES, token=second_token).status_code == 200
        logout = api.post(LOGOUT, token=account.token)
        assert logout.status_code == 204, logout.text[:300]
        for token in (account.token, second_token):
            for answer in refused_everywhere(api, account.user_id, token):
                assert_problem(answer, 401, case)
    finally:
        renewed = account_pool.log_in_again(1)
    assert api.get(orders_path(renewed.user_id), token=renewed.token).status_code == 200
    assert api.get(DELIVERIES, token=renewed.token).status_code == 200


@pytest.mark.case("CASE-0151")
def test_a_deleted_account_keeps_no_token_no_password_and_its_id(api):
    account = sign_up(api)  # a fresh account: deleting a pooled one would break the cases after this
    place_order(api, account)
    deleted = api.delete(f"/order-ms/users/{account.user_id}", token=account.token)
    assert deleted.status_code == 204, deleted.text[:300]
    assert deleted.content == b""
    refused_everywhere(api, account.user_id, account.token)
    login = api.post("/order-ms/login", json={"user_id": account.user_id, "password": PASSWORD})
    assert login.status_code == 401 and login.json()["title"] == "Invalid Credentials"
    again = api.post("/order-ms/users", json={"user_id": account.user_id, "password": PASSWORD})
    assert again.status_code == 409 and again.json()["title"] == "User Exists"


@pytest.mark.case("CASE-0152")
def test_deleting_another_customers_account_is_refused(api, customer, other_customer, case):
    refused = api.delete(f"/order-ms/users/{other_customer.user_id}", token=customer.token)
    served = assert_problem(refused, 403, case)
    assert served.values == {"user_id": customer.user_id, "other_user_id": other_customer.user_id}
    assert api.get(orders_path(other_customer.user_id), token=other_customer.token).status_code == 200


@pytest.mark.case("CASE-0153")
def test_a_logout_needs_a_token(api, case):
    assert_problem(api.post(LOGOUT), 401, case)
