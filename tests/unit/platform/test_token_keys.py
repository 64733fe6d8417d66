"""The token keys: order-ms publishes its public key set (JWKS), tokens name their key by kid, and a rotation
(add the new public key to every verifier's set, switch the signer, retire the old key a token lifetime later)
logs no one out. In process, with key files as the stack and the chart mount them."""
import base64
import datetime
import json
from dataclasses import replace
from pathlib import Path

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services import delivery_ms, order_ms
from services.order_ms.token_signer import SIGNING_KEY
from services.platform.auth import issue_token
from services.platform.settings import SettingsError
from services.platform.token_keys import ensure_key_pair, load_verifying_keys, public_jwk, public_key_pem

DELIVERIES = "/delivery-ms/deliveries"


def login_token(app, user_id="rotating-user") -> str:
    return issue_token(app.config[SIGNING_KEY].current(), 600, user_id, "customer")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_jwks_document_publishes_the_public_keys_by_kid(order_client, token_key_files):
    response = order_client.get("/order-ms/.well-known/jwks.json")
    assert response.status_code == 200 and response.headers["Cache-Control"].startswith("public")
    (key,) = response.json["keys"]
    assert set(key) == {"kty", "crv", "x", "kid", "alg", "use"}  # never "d", the private part
    assert key["kid"] == jwt.get_unverified_header(login_token(order_client.application))["kid"]
    # Anyone can verify a token with the published key alone.
    verified = jwt.decode(login_token(order_client.application), jwt.PyJWK(key).key, algorithms=["EdDSA"],
                          issuer="coffee-order")
    assert verified["sub"] == "rotating-user"


def test_the_jwks_document_is_in_the_api_document(order_client):
    document = order_client.get("/order-ms/openapi.json").json
    assert "get" in document["paths"]["/order-ms/.well-known/jwks.json"]


def certificate_pem(key: Ed25519PrivateKey) -> bytes:
    """A self-signed certificate of the key, as the chart's `genSelfSignedCertWithKey` makes one."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "coffee-order tokens")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(1).not_valid_before(now).not_valid_after(now).sign(key, None))
    return certificate.public_bytes(serialization.Encoding.PEM)


def test_a_key_set_may_hold_certificates_and_several_keys(tmp_path):
    keys = [Ed25519PrivateKey.generate() for _ in range(3)]
    path = tmp_path / "keys.pem"
    # A certificate's validity does not matter: only its key is used.
    path.write_bytes(public_key_pem(keys[0].public_key()) + public_key_pem(keys[1].public_key())
                     + certificate_pem(keys[2]))
    assert set(load_verifying_keys(str(path), "V").by_kid) == {public_jwk(key.public_key())["kid"] for key in keys}


def test_a_private_key_in_the_public_set_is_refused(token_key_files):
    with pytest.raises(SettingsError, match="only public keys"):
        load_verifying_keys(str(token_key_files[0]), "TOKEN_PUBLIC_KEYS_FILE")


def test_order_ms_refuses_to_sign_with_a_key_no_verifier_has(order_settings, tmp_path):
    new_key, _ = ensure_key_pair(tmp_path)
    with pytest.raises(SettingsError, match="not in TOKEN_PUBLIC_KEYS_FILE"):
        order_ms.create_app(replace(order_settings, token_signing_key_file=str(new_key)))


@pytest.mark.parametrize("variable", ["TOKEN_SIGNING_KEY_FILE", "TOKEN_PUBLIC_KEYS_FILE"])
def test_production_refuses_to_start_without_its_keys(order_settings, variable):
    settings = replace(order_settings, app_env="production", **{variable.lower(): ""})
    with pytest.raises(SettingsError, match=variable):
        order_ms.create_app(settings)


def test_a_rotation_logs_no_one_out(order_settings, delivery_settings, token_key_files, tmp_path, order_store,
                                  delivery_store):
    """Step by step as docs/security.md says: each step is a new process with new settings, like a rollout."""
    old_key, old_set = token_key_files
    new_key, new_public = ensure_key_pair(tmp_path)
    both = tmp_path / "both.pem"
    both.write_bytes(Path(old_set).read_bytes() + new_public.read_bytes())

    def apps(signing_key: Path, public_keys: Path):
        return (order_ms.create_app(replace(order_settings, token_signing_key_file=str(signing_key),
                                            token_public_keys_file=str(public_keys))),
                delivery_ms.create_app(replace(delivery_settings, token_public_keys_file=str(public_keys))))

    # Before: tokens of the old key.
    signer, _ = apps(old_key, old_set)
    old_token = login_token(signer)
    # 1. Every verifier gets the new public key too; the signer still signs with the old key.
    signer, verifier = apps(old_key, both)
    assert len(signer.test_client().get("/order-ms/.well-known/jwks.json").json["keys"]) == 2
    assert verifier.test_client().get(DELIVERIES, headers=bearer(old_token)).status_code == 200
    # 2. The signer switches: new tokens carry the new kid; old tokens still work everywhere.
    signer, verifier = apps(new_key, both)
    new_token = login_token(signer)
    assert jwt.get_unverified_header(new_token)["kid"] != jwt.get_unverified_header(old_token)["kid"]
    for token in (old_token, new_token):
        assert verifier.test_client().get(DELIVERIES, headers=bearer(token)).status_code == 200
        assert signer.test_client().get("/order-ms/rotating-user/orders", headers=bearer(token)).status_code == 200
    # 3. A token lifetime later the old key is retired: its tokens (expired by now anyway) are refused.
    signer, verifier = apps(new_key, new_public)
    assert verifier.test_client().get(DELIVERIES, headers=bearer(new_token)).status_code == 200
    refused = verifier.test_client().get(DELIVERIES, headers=bearer(old_token))
    assert refused.status_code == 401 and "POST /order-ms/login" in refused.json["hint"]


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                        max_size=3), max_leaves=5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.dictionaries(st.sampled_from(["alg", "kid", "typ", "crit", "jku", "jwk"]), JSON_VALUES, max_size=4),
       keep_signature=st.booleans())
def test_any_header_on_a_real_token_is_a_401_never_a_crash(delivery_client, order_app, header, keep_signature):
    """Whatever a caller puts in the header (a kid of any type, another alg, crit, a key of its own), the answer is
    a 401 problem: a changed header breaks the signature, and no header picks a key the set does not hold."""
    _, payload, signature = login_token(order_app).split(".")
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")
    token = f"{encoded}.{payload}.{signature if keep_signature else 'AAAA'}"
    response = delivery_client.get(DELIVERIES, headers=bearer(token))
    assert response.status_code == 401 and response.json["hint"]
