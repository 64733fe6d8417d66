"""A token key rotation on running gunicorns, each step only a Secret update (the kubelet's symlink swap): no
process restarts, no one is logged out, and once the old key is retired its tokens are refused everywhere."""
import json
import threading

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.platform.token_keys import private_key_pem, public_jwk, public_key_pem
from tests.acceptance.uat.client import Api
from tests.acceptance.uat.flows import log_in
from tests.support.accounts import new_client_address, new_customer
from tests.support.gunicorn import gunicorn
from tests.support.polling import wait_for
from tests.support.secret_volume import SecretVolume

DELIVERIES = "/delivery-ms/deliveries"
JWKS = "/order-ms/.well-known/jwks.json"
WORKERS = 2


def kid(key: Ed25519PrivateKey) -> str:
    return public_jwk(key.public_key())["kid"]


def public_set(*keys: Ed25519PrivateKey) -> bytes:
    return b"".join(public_key_pem(key.public_key()) for key in keys)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def worker_boots(log_path) -> int:
    return sum("Booting worker" in line for line in log_path.read_text(errors="replace").splitlines())


def reloads(log_path, variable: str) -> list[list[str]]:
    """The kids of every `<variable> read again` line in a gunicorn log."""
    found = []
    for line in log_path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") == f"{variable} read again":
            found.append(entry["kids"])
    return found


@pytest.fixture
def rotating(stack, tmp_path):
    """order-ms and delivery-ms, two workers each, on the stack's databases, their key files Secret volumes."""
    old_key = Ed25519PrivateKey.generate()
    signing, public = SecretVolume(tmp_path / "signing"), SecretVolume(tmp_path / "public")
    signing.write({"signing-key.pem": private_key_pem(old_key)})
    public.write({"public-keys.pem": public_set(old_key)})
    public_file = str(public.path("public-keys.pem"))
    workers = {"GUNICORN_WORKERS": str(WORKERS), "TOKEN_PUBLIC_KEYS_FILE": public_file}
    order_env = {**stack.http_env_of("order_ms"), **workers,
                 "TOKEN_SIGNING_KEY_FILE": str(signing.path("signing-key.pem"))}
    delivery_env = {**stack.http_env_of("delivery_ms"), **workers}
    (tmp_path / "order").mkdir()
    (tmp_path / "delivery").mkdir()
    with gunicorn("services.order_ms:create_app()", order_env, tmp_path / "order") as order_url, \
            gunicorn("services.delivery_ms:create_app()", delivery_env, tmp_path / "delivery") as delivery_url:
        yield old_key, signing, public, order_url, delivery_url, tmp_path


def test_a_rotation_on_running_services_logs_no_one_out(rotating):
    old_key, signing, public, order_url, delivery_url, tmp_path = rotating
    logs = {"order": tmp_path / "order" / "gunicorn.log", "delivery": tmp_path / "delivery" / "gunicorn.log"}
    # gunicorn answers once one worker is up; the baseline is taken when both have booted, so that a later boot
    # can only be a restart.
    wait_for(lambda: all(worker_boots(path) >= WORKERS for path in logs.values()), "both workers of each to boot")
    boots = {name: worker_boots(path) for name, path in logs.items()}
    customer = new_customer(order_url, prefix="rotate")
    old_token = customer.token
    assert jwt.get_unverified_header(old_token)["kid"] == kid(old_key)
    new_key = Ed25519PrivateKey.generate()

    def answers(token: str) -> set[int]:
        """Statuses of a few requests to each service: each on a new connection, so both workers answer some."""
        statuses = set()
        for _ in range(4):
            statuses.add(requests.get(f"{delivery_url}{DELIVERIES}", headers=bearer(token), timeout=10).status_code)
            statuses.add(requests.get(f"{order_url}/order-ms/{customer.user_id}/orders", headers=bearer(token),
                                      timeout=10).status_code)
        return statuses

    # Under load: the customer keeps calling both services with the old token while steps 1 and 2 happen.
    stop, during_rotation = threading.Event(), []

    def keep_calling():
        while not stop.is_set():
            during_rotation.extend(answers(old_token))
    caller = threading.Thread(target=keep_calling)
    caller.start()

    try:
        # 1. Every verifier's set gets the new public key.
        public.write({"public-keys.pem": public_set(old_key, new_key)})
        assert answers(old_token) == {200}
        jwks = requests.get(f"{order_url}{JWKS}", timeout=10).json()
        assert {key["kid"] for key in jwks["keys"]} == {kid(old_key), kid(new_key)}

        # 2. The signer switches: a login now gets a token of the new key; the old token still works.
        signing.write({"signing-key.pem": private_key_pem(new_key)})
        api = Api(order_url, source_address=new_client_address())
        try:
            new_token = log_in(api, customer.user_id, customer.password)
        finally:
            api.close()
        assert jwt.get_unverified_header(new_token)["kid"] == kid(new_key)
        assert answers(old_token) == answers(new_token) == {200}
    finally:
        stop.set()
        caller.join()
    assert during_rotation and set(during_rotation) == {200}

    # 3. The old key is retired: its tokens are refused by both services, the new ones still work.
    public.write({"public-keys.pem": public_set(new_key)})
    assert answers(old_token) == {401}
    assert answers(new_token) == {200}

    # No worker was started again, and the workers that answered say which keys they read.
    assert {name: worker_boots(path) for name, path in logs.items()} == boots
    assert [kid(old_key), kid(new_key)] in reloads(logs["delivery"], "TOKEN_PUBLIC_KEYS_FILE")
    assert [kid(new_key)] in reloads(logs["order"], "TOKEN_SIGNING_KEY_FILE")
