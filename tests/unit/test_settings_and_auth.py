"""Unit tests for settings from the environment and for access tokens."""
import time

import jwt
import pytest

from services.common.auth import decode_token, issue_token
from services.common.problems import Problem
from services.common.settings import SettingsError, load_settings
from flask import Flask


def test_defaults_make_the_local_stack_work(monkeypatch):
    for name in ("APP_ENV", "DB_HOST", "DB_NAME", "JWT_SECRET", "DEMO_ACCOUNTS"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.local_mode and settings.db_host == "127.0.0.1" and settings.db_name == "coffee"
    assert settings.demo_accounts is True
    assert len(settings.jwt_secret) >= 32


def test_production_refuses_to_start_without_a_token_secret(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("JWT_SECRET", raising=False)
    with pytest.raises(SettingsError, match="JWT_SECRET"):
        load_settings()


def test_production_has_no_demo_accounts_by_default(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("JWT_SECRET", "s" * 40)
    assert load_settings().demo_accounts is False


def test_bad_numbers_name_the_variable(monkeypatch):
    monkeypatch.setenv("DB_PORT", "abc")
    with pytest.raises(SettingsError, match="DB_PORT"):
        load_settings()


def test_token_round_trip_carries_subject_and_role():
    token = issue_token("secret-" * 6, 60, "USER0001", "customer")
    principal = decode_token("secret-" * 6, token)
    assert (principal.user_id, principal.role, principal.is_staff) == ("USER0001", "customer", False)


@pytest.mark.parametrize("make_token,detail", [
    (lambda: issue_token("other-secret-" * 4, 60, "u", "customer"), "not signed"),
    (lambda: jwt.encode({"sub": "u", "role": "customer", "iss": "coffee-order", "iat": 1, "exp": int(time.time()) - 5},
                        "secret-" * 6, algorithm="HS256"), "expired"),
    (lambda: "not-a-token", "malformed"),
    (lambda: jwt.encode({"sub": "u", "role": "admin", "iss": "coffee-order", "iat": 1, "exp": int(time.time()) + 60},
                        "secret-" * 6, algorithm="HS256"), "role"),
])
def test_bad_tokens_are_401_with_a_login_hint(make_token, detail):
    with Flask(__name__).test_request_context("/"), pytest.raises(Problem) as caught:
        decode_token("secret-" * 6, make_token())
    assert caught.value.status == 401
    assert detail in caught.value.detail
    assert "POST /order-ms/login" in caught.value.hint
