"""Key files are read again when they change, without a restart: as Kubernetes updates a mounted Secret (a symlink
swap) and as an operator rewrites a file. A rotation done that way on running apps logs no one out; a file that
cannot be used leaves the keys loaded before in place."""
import logging
import os
from dataclasses import replace

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services import delivery_ms, order_ms
from services.order_ms.token_signer import current_signer
from services.platform.auth import issue_token
from services.platform.token_keys import (
    ReloadingKeyFile,
    load_verifying_keys,
    private_key_pem,
    public_jwk,
    public_key_pem,
)
from tests.support.secret_volume import SecretVolume

DELIVERIES = "/delivery-ms/deliveries"
JWKS = "/order-ms/.well-known/jwks.json"


def kid(key: Ed25519PrivateKey) -> str:
    return public_jwk(key.public_key())["kid"]


def public_set(*keys: Ed25519PrivateKey) -> bytes:
    return b"".join(public_key_pem(key.public_key()) for key in keys)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def kids_of(path) -> set[str]:
    return set(load_verifying_keys(str(path), "V").by_kid)


@pytest.fixture
def old_key():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def new_key():
    return Ed25519PrivateKey.generate()


def test_a_secret_volume_update_is_read_on_the_next_use(tmp_path, old_key, new_key):
    volume = SecretVolume(tmp_path / "public")
    volume.write({"public-keys.pem": public_set(old_key)})
    keys = ReloadingKeyFile(str(volume.path("public-keys.pem")), "TOKEN_PUBLIC_KEYS_FILE", load_verifying_keys)
    first = keys.current()
    assert set(first.by_kid) == {kid(old_key)}
    assert keys.current() is first  # unchanged: the same object, so verified tokens stay remembered
    volume.write({"public-keys.pem": public_set(old_key, new_key)})
    assert set(keys.current().by_kid) == {kid(old_key), kid(new_key)}


def test_a_rewritten_file_is_read_again(tmp_path, old_key, new_key):
    path = tmp_path / "public-keys.pem"
    path.write_bytes(public_set(old_key))
    keys = ReloadingKeyFile(str(path), "TOKEN_PUBLIC_KEYS_FILE", load_verifying_keys)
    replacement = tmp_path / "replacement.pem"
    replacement.write_bytes(public_set(new_key))
    os.replace(replacement, path)
    assert set(keys.current().by_kid) == {kid(new_key)}
    # In place, with the same size: the modification time tells.
    path.write_bytes(public_set(old_key))
    os.utime(path, ns=(1, 1))
    assert set(keys.current().by_kid) == {kid(old_key)}


NOT_A_PUBLIC_KEY = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"


@pytest.mark.parametrize("broken", [b"", b"not a key", NOT_A_PUBLIC_KEY])
def test_a_file_that_cannot_be_used_keeps_the_keys_loaded_before(tmp_path, old_key, new_key, broken, caplog):
    volume = SecretVolume(tmp_path / "public")
    volume.write({"public-keys.pem": public_set(old_key)})
    keys = ReloadingKeyFile(str(volume.path("public-keys.pem")), "TOKEN_PUBLIC_KEYS_FILE", load_verifying_keys)
    keys.current()
    volume.write({"public-keys.pem": broken})
    with caplog.at_level(logging.ERROR):
        assert set(keys.current().by_kid) == {kid(old_key)}
        assert set(keys.current().by_kid) == {kid(old_key)}
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1 and "TOKEN_PUBLIC_KEYS_FILE" in errors[0].getMessage()  # once, not on every use
    # Once the file is fixed it is read again.
    volume.write({"public-keys.pem": public_set(new_key)})
    assert set(keys.current().by_kid) == {kid(new_key)}


def test_a_missing_file_keeps_the_keys_loaded_before(tmp_path, old_key):
    path = tmp_path / "public-keys.pem"
    path.write_bytes(public_set(old_key))
    keys = ReloadingKeyFile(str(path), "TOKEN_PUBLIC_KEYS_FILE", load_verifying_keys)
    path.unlink()
    assert set(keys.current().by_kid) == {kid(old_key)}
    path.write_bytes(public_set(old_key))
    assert set(keys.current().by_kid) == {kid(old_key)}


@pytest.fixture
def mounted(tmp_path, old_key, order_settings, delivery_settings):
    """Running apps of both services whose key files are Secret volumes, as the chart mounts them."""
    signing, public = SecretVolume(tmp_path / "signing"), SecretVolume(tmp_path / "public")
    signing.write({"signing-key.pem": private_key_pem(old_key)})
    public.write({"public-keys.pem": public_set(old_key)})
    order_app = order_ms.create_app(replace(order_settings, token_signing_key_file=str(signing.path("signing-key.pem")),
                                            token_public_keys_file=str(public.path("public-keys.pem"))))
    delivery_app = delivery_ms.create_app(replace(delivery_settings,
                                                  token_public_keys_file=str(public.path("public-keys.pem"))))
    return signing, public, order_app, delivery_app


def login_token(app, user_id="rotating-user") -> str:
    with app.app_context():
        return issue_token(current_signer(), 600, user_id, "customer")


def token_kid(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def test_a_rotation_on_running_apps_logs_no_one_out(mounted, old_key, new_key, order_store, delivery_store):
    """docs/security.md's three steps, each a Secret update only: the same app objects throughout, no restart."""
    signing, public, order_app, delivery_app = mounted
    orders, deliveries = order_app.test_client(), delivery_app.test_client()
    old_token = login_token(order_app)
    assert token_kid(old_token) == kid(old_key)

    # 1. Every verifier's set gets the new public key; the signer still signs with the old key.
    public.write({"public-keys.pem": public_set(old_key, new_key)})
    assert {key["kid"] for key in orders.get(JWKS).json["keys"]} == {kid(old_key), kid(new_key)}
    assert deliveries.get(DELIVERIES, headers=bearer(old_token)).status_code == 200
    assert token_kid(login_token(order_app)) == kid(old_key)

    # 2. The signer switches: new tokens carry the new kid; old tokens still work everywhere.
    signing.write({"signing-key.pem": private_key_pem(new_key)})
    new_token = login_token(order_app)
    assert token_kid(new_token) == kid(new_key)
    for token in (old_token, new_token):
        assert deliveries.get(DELIVERIES, headers=bearer(token)).status_code == 200
        assert orders.get("/order-ms/rotating-user/orders", headers=bearer(token)).status_code == 200

    # 3. A token lifetime later the old key is retired: its tokens are refused, on both services.
    public.write({"public-keys.pem": public_set(new_key)})
    assert deliveries.get(DELIVERIES, headers=bearer(new_token)).status_code == 200
    for client, path in ((deliveries, DELIVERIES), (orders, "/order-ms/rotating-user/orders")):
        refused = client.get(path, headers=bearer(old_token))
        assert refused.status_code == 401 and "POST /order-ms/login" in refused.json["hint"]
    assert {key["kid"] for key in orders.get(JWKS).json["keys"]} == {kid(new_key)}


def test_the_signer_switches_only_to_a_key_its_set_holds(mounted, old_key, new_key, caplog):
    """Step 2 before step 1 would sign tokens every verifier refuses: order-ms keeps the old key until the set
    holds the new one."""
    signing, public, order_app, _ = mounted
    signing.write({"signing-key.pem": private_key_pem(new_key)})
    with caplog.at_level(logging.ERROR):
        assert token_kid(login_token(order_app)) == kid(old_key)
    assert any("not in TOKEN_PUBLIC_KEYS_FILE" in record.getMessage() for record in caplog.records)
    public.write({"public-keys.pem": public_set(old_key, new_key)})
    assert token_kid(login_token(order_app)) == kid(new_key)


def test_a_retired_key_is_refused_even_when_its_tokens_were_verified_before(mounted, old_key, new_key, delivery_store):
    """Verified tokens are remembered per key set: a new set starts with none remembered."""
    _, public, order_app, delivery_app = mounted
    deliveries = delivery_app.test_client()
    token = login_token(order_app)
    assert deliveries.get(DELIVERIES, headers=bearer(token)).status_code == 200
    public.write({"public-keys.pem": public_set(new_key)})
    assert deliveries.get(DELIVERIES, headers=bearer(token)).status_code == 401
