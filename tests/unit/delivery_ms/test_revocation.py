"""Revocation in delivery-ms, in process (fake store): a token is refused once the account's version from
`account_versions` is higher than the token's; accounts never heard of have revoked nothing."""
import pytest

from services.platform.auth import REVOKED_DETAIL
from services.platform.token_versions import APP_CACHE
from tests.unit.answers import assert_problem

DELIVERIES = "/delivery-ms/deliveries"


def heard(delivery_store, user_id: str, version: int) -> None:
    delivery_store.record_token_versions(None, [{"user_id": user_id, "token_version": version, "reason": "LOGOUT",
                                                  "revoked_at": "2026-11-28T15:04:05.123456Z"}])


def test_a_token_older_than_the_accounts_version_is_refused_a_newer_one_accepted(delivery_client, delivery_store,
                                                                                  order_store, token):
    old = token("Rev-User1")
    assert delivery_client.get(DELIVERIES, headers=old).status_code == 200
    order_store.revoke_tokens(None, "Rev-User1", "LOGOUT")
    heard(delivery_store, "Rev-User1", 2)
    delivery_client.application.extensions[APP_CACHE].forget("Rev-User1")  # as after the cache's seconds
    problem = assert_problem(delivery_client.get(DELIVERIES, headers=old), 401)
    assert problem["detail"] == REVOKED_DETAIL and "POST /order-ms/login" in problem["hint"]
    assert delivery_client.get(DELIVERIES, headers=token("Rev-User1")).status_code == 200


def test_a_demoted_staff_token_stops_moving_deliveries(delivery_client, delivery_store, token):
    delivery = delivery_store.add("Cust-1")
    staff = token("Barista-2", "staff")
    heard(delivery_store, "Barista-2", 2)
    moved = delivery_client.put(f"{DELIVERIES}/{delivery['delivery_id']}/status", json={"status": "IN_DELIVERY"},
                                headers=staff)
    assert_problem(moved, 401)
    assert delivery_store.rows[0]["status"] == "CONFIRMED"


@pytest.mark.parametrize("stored, accepted", [(None, True), (1, True), (2, False)])
def test_the_rule(delivery_client, delivery_store, token, stored, accepted):
    headers = token("Rev-User3")
    if stored:
        heard(delivery_store, "Rev-User3", stored)
    assert (delivery_client.get(DELIVERIES, headers=headers).status_code == 200) is accepted
