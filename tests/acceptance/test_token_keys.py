"""Token keys: the published public key set and tokens forged with it (CASE-0110, CASE-0111). Only the standard
library: the acceptance image has no JWT library, and what a signature proves is checked by the unit and
integration tests (tests/unit/platform/test_token_keys.py, tests/integration/order_ms/test_auth.py)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from tests.acceptance.uat.checks import assert_problem
from tests.acceptance.uat.flows import orders_path

JWKS_PATH = "/order-ms/.well-known/jwks.json"


def b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def encoded(value: dict) -> str:
    return b64encode(json.dumps(value).encode())


@pytest.mark.case("CASE-0110")
def test_the_public_keys_are_published_and_name_the_tokens_key(api, customer):
    response = api.get(JWKS_PATH)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    keys = response.json()["keys"]
    assert keys, "at least the key order-ms signs with"
    for key in keys:
        assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
        assert len(b64decode(key["x"])) == 32 and key["kid"] and "d" not in key
    header = json.loads(b64decode(customer.token.split(".")[0]))
    assert header["alg"] == "EdDSA" and header["kid"] in {key["kid"] for key in keys}


def forgeries(published: dict, login_token: str) -> dict[str, str]:
    header, payload, signature = login_token.split(".")
    staff_claims = {**json.loads(b64decode(payload)), "role": "staff"}
    unsigned = f"{encoded({'alg': 'none', 'typ': 'JWT', 'kid': published['kid']})}.{encoded(staff_claims)}."
    hs256_header = encoded({"alg": "HS256", "typ": "JWT", "kid": published["kid"]})
    forged = {"alg none": unsigned, "login token with role staff": f"{header}.{encoded(staff_claims)}.{signature}"}
    # The algorithm confusion attack, with each form a verifier could take the public key in as an HMAC secret.
    for name, secret in (("raw key", b64decode(published["x"])), ("JWK", json.dumps(published).encode()),
                         ("x", published["x"].encode())):
        signed = f"{hs256_header}.{encoded(staff_claims)}"
        mac = hmac.new(secret, signed.encode(), hashlib.sha256).digest()
        forged[f"HS256 with the {name}"] = f"{signed}.{b64encode(mac)}"
    return forged


FORGERIES = ["alg none", "login token with role staff", "HS256 with the raw key", "HS256 with the JWK",
             "HS256 with the x"]


@pytest.mark.case("CASE-0111")
@pytest.mark.parametrize("forgery", FORGERIES)
@pytest.mark.parametrize("path", ["orders", "deliveries"])
def test_tokens_forged_with_the_published_key_are_refused(api, customer, forgery, path, case):
    published = api.get(JWKS_PATH).json()["keys"][0]
    token = forgeries(published, customer.token)[forgery]
    target = orders_path(customer.user_id) if path == "orders" else "/delivery-ms/deliveries"
    assert_problem(api.get(target, token=token), 401, case)
