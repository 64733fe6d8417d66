"""Unit tests for settings from the environment and for access tokens."""
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask

from services.delivery_ms.settings import load_settings as load_delivery_settings
from services.order_ms import create_app
from services.order_ms.settings import load_settings
from services.order_ms.token_signer import SIGNING_KEY
from services.platform import auth
from services.platform.auth import VERIFYING_KEYS, decode_token, issue_token
from services.platform.kafka import connection_options
from services.platform.problems import Problem
from services.platform.settings import SettingsError
from services.platform.token_keys import signing_key, verifying_keys

LOGIN_HINT = "Log in with POST /login and send the access_token."


def test_defaults_make_the_local_stack_work(monkeypatch):
    for name in ("APP_ENV", "DB_HOST", "DB_NAME", "TOKEN_SIGNING_KEY_FILE", "TOKEN_PUBLIC_KEYS_FILE", "DEMO_ACCOUNTS"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.local_mode and settings.db_host == "127.0.0.1"
    assert settings.demo_accounts is True
    # Without key files, local mode signs with a key of the process's own, which it also verifies with.
    app = create_app(settings)
    token = issue_token(app.config[SIGNING_KEY].current(), 60, "USER0001", "customer")
    assert decode_token(app.config[VERIFYING_KEYS].current(), token, LOGIN_HINT).user_id == "USER0001"


def test_each_service_defaults_to_its_own_database(monkeypatch):
    monkeypatch.delenv("DB_NAME", raising=False)
    assert load_settings().db_name == "coffee_order"
    assert load_delivery_settings().db_name == "coffee_delivery"


def test_sasl_without_a_user_names_the_missing_variables_where_a_kafka_client_is_made(monkeypatch):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.delenv("KAFKA_SASL_USERNAME", raising=False)
    # Migrations and the HTTP services share the protocol setting (the chart's ConfigMap) without a principal.
    settings = load_settings()
    with pytest.raises(SettingsError, match="KAFKA_SASL_USERNAME"):
        connection_options(settings)


def test_unknown_security_protocol_is_refused(monkeypatch):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "TLS")
    with pytest.raises(SettingsError, match="KAFKA_SECURITY_PROTOCOL"):
        load_settings()


def test_production_has_no_demo_accounts_by_default(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    assert load_settings().demo_accounts is False


def test_bad_numbers_name_the_variable(monkeypatch):
    monkeypatch.setenv("DB_PORT", "abc")
    with pytest.raises(SettingsError, match="DB_PORT"):
        load_settings()


KEYS = signing_key(Ed25519PrivateKey.generate())
VERIFIER = verifying_keys([KEYS.private_key.public_key()])


def test_token_round_trip_carries_subject_role_and_kid():
    token = issue_token(KEYS, 60, "USER0001", "customer")
    principal = decode_token(VERIFIER, token, LOGIN_HINT)
    assert (principal.user_id, principal.role, principal.is_staff) == ("USER0001", "customer", False)
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "typ": "JWT", "kid": KEYS.kid}


def claims(**overrides):
    return {"sub": "u", "role": "customer", "iss": "coffee-order", "iat": 1, "exp": int(time.time()) + 60, **overrides}


@pytest.mark.parametrize("make_token,detail", [
    (lambda: issue_token(signing_key(Ed25519PrivateKey.generate()), 60, "u", "customer"), "not signed"),
    (lambda: jwt.encode(claims(exp=int(time.time()) - 5), KEYS.private_key, "EdDSA", {"kid": KEYS.kid}), "expired"),
    (lambda: "not-a-token", "malformed"),
    (lambda: jwt.encode(claims(role="admin"), KEYS.private_key, "EdDSA", {"kid": KEYS.kid}), "role"),
])
def test_bad_tokens_are_401_with_a_login_hint(make_token, detail):
    with Flask(__name__).test_request_context("/"), pytest.raises(Problem) as caught:
        decode_token(VERIFIER, make_token(), LOGIN_HINT)
    assert caught.value.status == 401
    assert detail in caught.value.detail
    assert caught.value.hint == LOGIN_HINT


def test_a_remembered_token_is_refused_once_it_expires(monkeypatch):
    token = issue_token(KEYS, 60, "USER0001", "customer")
    assert decode_token(VERIFIER, token, LOGIN_HINT).user_id == "USER0001"
    later = time.time() + 61
    monkeypatch.setattr(auth.time, "time", lambda: later)
    with Flask(__name__).test_request_context("/"), pytest.raises(Problem) as caught:
        decode_token(VERIFIER, token, LOGIN_HINT)
    assert caught.value.status == 401 and "expired" in caught.value.detail
