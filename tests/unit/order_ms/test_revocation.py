"""Revocation in order-ms, in process (fake store): a logout, a deletion and an operator's demotion or deletion
make every earlier token of the account useless at once in the process that did it, with the event that tells
delivery-ms; the other processes' few seconds are proven across instances in
tests/integration/stack/test_revocation.py."""
import jwt
import pytest

from services.order_ms import staff as staff_command
from services.order_ms import store
from services.order_ms.token_signer import SIGNING_KEY
from services.platform.auth import REVOKED_DETAIL, issue_token
from tests.unit.answers import assert_problem

USER = "Rev-User1"
ORDERS = f"/order-ms/{USER}/orders"


@pytest.fixture
def revocations(monkeypatch):
    """The AccountTokensRevoked events the store would have written to the outbox (the fake store writes none)."""
    published = []
    real_revoke = store.revoke_tokens

    def revoke_tokens(pool, user_id, reason, role=None):
        account = real_revoke(pool, user_id, reason, role)
        if account is not None:
            published.append((user_id, reason, account["token_version"]))
        return account
    monkeypatch.setattr(store, "revoke_tokens", revoke_tokens)
    return published


def test_a_logout_revokes_every_token_of_the_account_not_only_the_one_sent(order_client, token, revocations):
    phone, laptop = token(USER), token(USER, ttl_seconds=900)
    assert order_client.get(ORDERS, headers=laptop).status_code == 200
    assert order_client.post("/order-ms/logout", headers=phone).status_code == 204
    for headers in (phone, laptop):
        problem = assert_problem(order_client.get(ORDERS, headers=headers), 401)
        assert problem["detail"] == REVOKED_DETAIL and "POST /order-ms/login" in problem["hint"]
    assert revocations == [(USER, "LOGOUT", 2)]
    assert order_client.get(ORDERS, headers=token(USER)).status_code == 200, "a new login's token works"


def test_a_login_after_a_logout_carries_the_new_version(order_client, revocations):
    credentials = {"user_id": USER, "password": "a-long-password"}
    assert order_client.post("/order-ms/users", json=credentials).status_code == 201
    first = order_client.post("/order-ms/login", json=credentials).json["access_token"]
    order_client.post("/order-ms/logout", headers={"Authorization": f"Bearer {first}"})
    second = order_client.post("/order-ms/login", json=credentials).json["access_token"]
    assert jwt.decode(second, options={"verify_signature": False})["ver"] == 2
    assert order_client.get(ORDERS, headers={"Authorization": f"Bearer {second}"}).status_code == 200


def test_a_token_of_a_newer_version_than_remembered_is_accepted_at_once(order_app, order_client, order_store, token):
    """Another instance logged the account out and in again: this process remembers the old version, but a
    token signed with a higher one proves it stale."""
    old = token(USER)
    assert order_client.get(ORDERS, headers=old).status_code == 200  # version 1 is now remembered
    order_store.revoke_tokens(None, USER, "LOGOUT")  # on "another instance": this process's cache is not told
    newer = token(USER)
    assert order_client.get(ORDERS, headers=newer).status_code == 200
    assert assert_problem(order_client.get(ORDERS, headers=old), 401)["detail"] == REVOKED_DETAIL


def test_a_token_from_before_versions_counts_as_the_first_version(order_app, order_client, order_store):
    """Tokens issued by the previous release carry no `ver`: an upgrade logs no one out."""
    order_store.account(USER, "customer")
    claims = {"sub": USER, "role": "customer", "iss": "coffee-order", "iat": 1, "exp": 2**31}
    signer = order_app.config[SIGNING_KEY].current()
    legacy = jwt.encode(claims, signer.private_key, algorithm="EdDSA", headers={"kid": signer.kid})
    assert order_client.get(ORDERS, headers={"Authorization": f"Bearer {legacy}"}).status_code == 200


@pytest.mark.parametrize("version", [0, -1, "1", True, 2**32, None, 1.5])
def test_a_token_with_a_malformed_version_is_401(order_app, order_client, order_store, version):
    order_store.account(USER, "customer")
    token = issue_token(order_app.config[SIGNING_KEY].current(), 60, USER, "customer", version)
    problem = assert_problem(order_client.get(ORDERS, headers={"Authorization": f"Bearer {token}"}), 401)
    assert problem["detail"] == "The access token is malformed or not signed by this service."


def test_deleting_ones_own_account_revokes_its_tokens_and_keeps_its_id(order_client, order_store, token,
                                                                      revocations):
    headers = token(USER)
    assert order_client.delete(f"/order-ms/users/{USER}", headers=headers).status_code == 204
    assert assert_problem(order_client.get(ORDERS, headers=headers), 401)["detail"] == REVOKED_DETAIL
    assert revocations == [(USER, "DELETED", 2)]
    assert store.get_user(None, USER) is None
    assert assert_problem(order_client.post("/order-ms/users", json={"user_id": USER.lower(),
                                                                     "password": "a-long-password"}), 409)


def test_deleting_another_account_is_403_naming_the_callers_own_path_and_the_operator_command(order_client, token,
                                                                                             revocations):
    token("Other-1")
    problem = assert_problem(order_client.delete("/order-ms/users/Other-1", headers=token(USER)), 403)
    assert problem["detail"] == f"Your token is for {USER!r}, not 'Other-1'."
    assert f"DELETE /order-ms/users/{USER}" in problem["hint"] and "staff delete --user-id" in problem["hint"]
    assert revocations == []


def test_a_staff_token_deletes_no_one_else_either(order_client, token, revocations):
    token("Other-1")
    assert_problem(order_client.delete("/order-ms/users/Other-1", headers=token("Boss-1", "staff")), 403)
    assert revocations == []


def test_logout_and_deletion_need_a_token_and_deletion_a_valid_user_id(order_client, token):
    assert "POST /order-ms/login" in assert_problem(order_client.post("/order-ms/logout"), 401)["hint"]
    assert_problem(order_client.delete(f"/order-ms/users/{USER}"), 401)
    assert_problem(order_client.delete("/order-ms/users/no%20spaces", headers=token(USER)), 422)


def test_the_operator_demotes_a_staff_account_and_its_staff_tokens_stop_working(order_client, order_store, token,
                                                                               revocations):
    staff_headers = token("Barista-2", "staff")
    assert order_client.get(ORDERS, headers=staff_headers).status_code == 200
    order_client.application.extensions["token_versions"].forget("Barista-2")  # as after the cache's few seconds
    assert staff_command.demote_staff(None, "Barista-2").startswith("demoted")
    assert order_store.get_user(None, "Barista-2")["role"] == "customer"
    assert assert_problem(order_client.get(ORDERS, headers=staff_headers), 401)["detail"] == REVOKED_DETAIL
    assert revocations == [("Barista-2", "ROLE_CHANGED", 2)]


@pytest.mark.parametrize("user_id, role", [("Cust-9", "customer"), ("Nobody-9", None)])
def test_demoting_a_customer_or_no_one_is_refused_with_exit_code_1(order_store, user_id, role, revocations):
    if role:
        order_store.account(user_id, role)
    with pytest.raises(staff_command.Refused) as refused:
        staff_command.demote_staff(None, user_id)
    assert refused.value.code == 1 and revocations == []


def test_the_operator_deletes_any_account_once(order_store, revocations):
    order_store.account("Cust-9", "customer")
    assert staff_command.delete_account(None, "Cust-9").startswith("deleted")
    with pytest.raises(staff_command.Refused):
        staff_command.delete_account(None, "Cust-9")
    assert revocations == [("Cust-9", "DELETED", 2)]
