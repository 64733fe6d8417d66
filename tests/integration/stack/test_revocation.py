"""Revocation across instances (issue 25): a logout, a deletion and an operator's demotion make the account's earlier
tokens useless within seconds on two gunicorn instances of each service (the stack's and a second one on the same
MariaDB), through the real outbox, relay, Kafka topic `account_versions` and delivery-ms's consumer. Every wait
polls with a deadline; the services run with their production default TOKEN_VERSION_CACHE_SECONDS."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import requests

from tests.acceptance.uat.client import Api
from tests.acceptance.uat.flows import new_delivery
from tests.integration.conftest import auth, login
from tests.support.accounts import new_customer
from tests.support.gunicorn import gunicorn
from tests.support.polling import wait_for
from tests.support.stack import ROOT, current_pid

REVOKED = "The access token has been revoked (its account logged out, changed role or was deleted)."
# Long enough for the relay, the broker and the consumer on a loaded machine; a pass takes a few seconds.
DEADLINE_SECONDS = 30


@pytest.fixture(scope="module")
def instances(stack, tmp_path_factory):
    """{"order-ms": [url, url], "delivery-ms": [url, url]}: the stack's instance and a second one of each."""
    with gunicorn("services.order_ms:create_app()", stack.http_env_of("order_ms"),
                  tmp_path_factory.mktemp("order-ms-2")) as order_2, \
         gunicorn("services.delivery_ms:create_app()", stack.http_env_of("delivery_ms"),
                  tmp_path_factory.mktemp("delivery-ms-2")) as delivery_2:
        yield {"order-ms": [stack.services["order-ms"], order_2], "delivery-ms": [stack.services["delivery-ms"],
                                                                                 delivery_2]}


def answers(instances: dict, user_id: str, token: str) -> list[requests.Response]:
    """The token on every instance: its own orders list on order-ms, the deliveries list on delivery-ms."""
    return ([requests.get(f"{url}/order-ms/{user_id}/orders", headers=auth(token), timeout=10)
             for url in instances["order-ms"]]
            + [requests.get(f"{url}/delivery-ms/deliveries", headers=auth(token), timeout=10)
               for url in instances["delivery-ms"]])


def accepted_everywhere(instances: dict, user_id: str, token: str) -> None:
    statuses = [answer.status_code for answer in answers(instances, user_id, token)]
    assert statuses == [200, 200, 200, 200], statuses


def refused_everywhere(instances: dict, user_id: str, token: str) -> None:
    """Polls until every instance refuses the token as revoked."""
    def all_refused():
        got = answers(instances, user_id, token)
        return got if all(answer.status_code == 401 for answer in got) else None
    for answer in wait_for(all_refused, f"every instance refusing {user_id}'s revoked token",
                           timeout=DEADLINE_SECONDS, interval=0.1):
        assert answer.json()["detail"] == REVOKED


def staff_command(stack, *args: str, password: str | None = None) -> subprocess.CompletedProcess:
    """The operator's command, as order-ms's app user on the stack's database."""
    env = {**os.environ, **stack.http_env_of("order_ms"), **({"STAFF_PASSWORD": password} if password else {})}
    done = subprocess.run([sys.executable, "-m", "services.order_ms.staff", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def token_version_in_delivery_ms(delivery_db, user_id: str) -> int | None:
    cursor = delivery_db.cursor()
    cursor.execute("SELECT token_version FROM account_token_versions WHERE user_id = ?", (user_id,))
    row = cursor.fetchone()
    return row[0] if row else None


def test_a_logout_on_one_instance_revokes_every_token_on_every_instance_of_both(base_url, instances, delivery_db):
    customer = new_customer(base_url, "revoke")
    second = login(base_url, customer.user_id, customer.password)
    for token in (customer.token, second):
        accepted_everywhere(instances, customer.user_id, token)  # every instance now remembers the version
    logged_out = requests.post(f"{instances['order-ms'][1]}/order-ms/logout", headers=customer.headers, timeout=10)
    assert logged_out.status_code == 204
    for token in (customer.token, second):
        refused_everywhere(instances, customer.user_id, token)
    assert token_version_in_delivery_ms(delivery_db, customer.user_id) == 2
    # A new login works at once everywhere, also where the old version is still remembered.
    accepted_everywhere(instances, customer.user_id, login(base_url, customer.user_id, customer.password))


def test_a_deleted_accounts_token_is_refused_everywhere_and_it_cannot_log_in(base_url, instances):
    customer = new_customer(base_url, "revoke")
    accepted_everywhere(instances, customer.user_id, customer.token)
    deleted = requests.delete(f"{instances['order-ms'][0]}/order-ms/users/{customer.user_id}",
                              headers=customer.headers, timeout=10)
    assert deleted.status_code == 204
    refused_everywhere(instances, customer.user_id, customer.token)
    again = requests.post(f"{base_url}/order-ms/login", json={"user_id": customer.user_id,
                                                              "password": customer.password}, timeout=10)
    assert again.status_code == 401


def test_a_demoted_staff_token_stops_moving_deliveries_on_every_instance(base_url, stack, instances):
    user_id = f"revoke-staff-{os.urandom(4).hex()}"
    staff_command(stack, "create", "--user-id", user_id, password="a-staff-password")
    staff_token = login(base_url, user_id, "a-staff-password")
    api = Api(base_url)
    try:
        delivery = new_delivery(api, new_customer(base_url, "revoke"))
    finally:
        api.close()
    path = f"/delivery-ms/deliveries/{delivery['delivery_id']}/status"
    first, second = instances["delivery-ms"]
    moved = requests.put(f"{first}{path}", json={"status": "IN_DELIVERY"}, headers=auth(staff_token), timeout=10)
    assert moved.status_code == 200
    assert requests.get(f"{second}/delivery-ms/deliveries", headers=auth(staff_token), timeout=10).status_code == 200

    assert "demoted" in staff_command(stack, "demote", "--user-id", user_id).stdout

    # Setting a delivery's current status again is a no-op: polling with it changes nothing while the revocation
    # travels, and a refusal is the staff rule's own (staff_only asks the revocation rule before anything else).
    def no_op_move_refused_on(url):
        answer = requests.put(f"{url}{path}", json={"status": "IN_DELIVERY"}, headers=auth(staff_token), timeout=10)
        assert answer.status_code in (200, 401), answer.text
        return [answer] if answer.status_code == 401 else None  # a list: a 401 Response itself is falsy
    for url in (first, second):
        (refused,) = wait_for(lambda url=url: no_op_move_refused_on(url), f"{url} refusing the demoted staff's move",
                              timeout=DEADLINE_SECONDS, interval=0.1)
        assert refused.json()["detail"] == REVOKED
    refused_everywhere(instances, user_id, staff_token)
    relogin = requests.post(f"{base_url}/order-ms/login", json={"user_id": user_id, "password": "a-staff-password"},
                            timeout=10)
    assert relogin.json()["role"] == "customer"
    assert_problem_403 = requests.put(f"{second}{path}", json={"status": "COMPLETED"},
                                      headers=auth(relogin.json()["access_token"]), timeout=10)
    assert assert_problem_403.status_code == 403, "a customer's token: staff work is refused"


def test_while_the_broker_is_frozen_delivery_ms_keeps_the_versions_it_knows_and_catches_up_after(
        base_url, instances, order_db):
    """Fail open to the known versions (docs/security.md#revocation): order-ms refuses at once, delivery-ms cannot
    hear of the logout until the broker answers again, then refuses too; nothing is lost on the way."""
    customer = new_customer(base_url, "revoke")
    accepted_everywhere(instances, customer.user_id, customer.token)
    broker = current_pid("broker")
    os.kill(broker, signal.SIGSTOP)
    try:
        logged_out = requests.post(f"{instances['order-ms'][0]}/order-ms/logout", headers=customer.headers,
                                   timeout=10)
        assert logged_out.status_code == 204
        wait_for(lambda: all(requests.get(f"{url}/order-ms/{customer.user_id}/orders", headers=customer.headers,
                                          timeout=10).status_code == 401 for url in instances["order-ms"]),
                 "order-ms refusing the token on both instances", timeout=DEADLINE_SECONDS, interval=0.1)
        cursor = order_db.cursor()
        cursor.execute("SELECT sent_at FROM order_outbox WHERE topic = 'account_versions' AND message_key = ?",
                       (customer.user_id,))
        assert cursor.fetchall() == [(None,)], "the event waits in the outbox while the broker is frozen"
        for url in instances["delivery-ms"]:
            still = requests.get(f"{url}/delivery-ms/deliveries", headers=customer.headers, timeout=10)
            assert still.status_code == 200, "delivery-ms fails open to the versions it knows"
    finally:
        os.kill(broker, signal.SIGCONT)
    refused_everywhere(instances, customer.user_id, customer.token)
