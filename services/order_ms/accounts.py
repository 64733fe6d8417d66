"""Account routes: sign-up (customers) and login for a bearer token.

A user id keeps the form it was signed up with and is unique whatever its case (`Alice` refuses `alice`);
login finds the account in any case and the token carries the account's own form, which every later check
compares byte for byte (sql/order_ms/0005_exact_keys_and_user_ids.sql). Staff accounts are made by an
operator (staff.py), never here. Login and sign-up are throttled (login_throttle.py); a successful login hands the
client a device token (device_tokens.py) that later logins of the account return."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for

from services.contracts.identifiers import USER_ID
from services.order_ms import device_tokens, login_throttle, store
from services.order_ms.client_address import client_address
from services.order_ms.login_slots import LOGIN_SLOTS
from services.order_ms.metrics import LOGIN_FAILURES
from services.order_ms.passwords import hash_password, verify_password
from services.order_ms.token_signer import current_signer
from services.platform import problems
from services.platform.auth import ROLE_CUSTOMER, issue_token
from services.platform.fields import Field
from services.platform.validation import read_body
from services.platform.web import db_pool

bp = Blueprint("accounts", __name__, url_prefix="/order-ms")

EXAMPLE_CREDENTIALS = {"user_id": "USER0002", "password": "a-long-password"}
MIN_PASSWORD_LENGTH = 8
# Path segments of order-ms itself: an account with one of these names could not use its own URLs.
RESERVED_USER_IDS = {"ui", "users", "login", "healthz", "readyz", "metrics", "docs"}
SIGNUP_FIELDS = {
    "user_id": USER_ID,
    "password": Field(str, min_length=MIN_PASSWORD_LENGTH, max_length=128, rule="8-128 characters"),
}
LOGIN_FIELDS = {
    "user_id": Field(str, min_length=1, max_length=50, rule="your user id"),
    "password": Field(str, min_length=1, max_length=128, rule="your password"),
}


@bp.post("/users")
def sign_up():
    fields = read_body(SIGNUP_FIELDS, EXAMPLE_CREDENTIALS)
    if fields["user_id"].lower() in RESERVED_USER_IDS:
        raise problems.invalid_body(
            f"user_id {fields['user_id']!r} is reserved.",
            "Choose another user_id, e.g. USER0002.",
            [{"field": "user_id", "message": "is reserved"}],
        )
    login_throttle.count_signup(db_pool(), current_app.config["SETTINGS"], client_address())
    user = store.create_user(db_pool(), fields["user_id"], hash_password(fields["password"]), ROLE_CUSTOMER)
    if user is None:
        raise problems.conflict(
            "user-exists", "User Exists", f"user_id {fields['user_id']!r} is already taken.",
            f"Log in with POST {url_for('accounts.login')} if it is yours, or choose another user_id.")
    response = jsonify(user)
    response.status_code = 201
    return response


@bp.post("/login")
def login():
    fields = read_body(LOGIN_FIELDS, EXAMPLE_CREDENTIALS)
    settings = current_app.config["SETTINGS"]
    pool, client = db_pool(), client_address()
    # A device that logged in to this account before is judged by its own limits, not its address's.
    presented = device_tokens.presented(request)
    device = device_tokens.trusted_for(pool, settings, presented, fields["user_id"])
    # A slot first, so that a login refused for want of one counts nothing; then counted before the password is
    # checked: a throttled guesser does not even cost a hash verification, and parallel guesses cannot all pass
    # the check before any of them is counted.
    with current_app.config[LOGIN_SLOTS].held():
        login_throttle.reserve_attempt(pool, settings, fields["user_id"], client, device)
        user = store.get_user(pool, fields["user_id"])
        verified = verify_password(user["password_hash"] if user else None, fields["password"])
    if not verified:
        LOGIN_FAILURES.labels("invalid_credentials").inc()
        login_throttle.remove_stale_counters(pool, settings)
        raise problems.Problem(
            status=401, slug="invalid-credentials", title="Invalid Credentials",
            detail="The user id or the password is wrong.",
            hint=f"Check both and try again; sign up with POST {url_for('accounts.sign_up')} if you have no account.")
    login_throttle.release_attempt(pool, settings, fields["user_id"], client, device)
    device_token = device_tokens.remember(pool, settings, user["user_id"], presented)
    token = issue_token(current_signer(), settings.jwt_ttl_seconds, user["user_id"], user["role"])
    response = jsonify(access_token=token, token_type="Bearer", expires_in=settings.jwt_ttl_seconds,
                       user_id=user["user_id"], role=user["role"])
    device_tokens.attach(response, device_token, settings, secure=request.is_secure)
    return response
