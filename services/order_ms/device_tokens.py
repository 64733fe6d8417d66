"""Device tokens, OWASP's "device cookies": proof that a client has logged in to an account before.

A successful login answers with a token (a `device_token` cookie for browsers, a `Device-Token` header for API
clients); a later login that returns it, in the cookie or the header, is judged by that device's own limits
rather than by the locks and rates of its address, which strangers behind the same NAT or proxy can set off
(login_throttle.py). The token is 32 random bytes: the database keeps only its SHA-256, per account it vouches
for (sql/order_ms/0009_login_devices_and_rates.sql), so a copy of the table logs no one in anywhere."""
from __future__ import annotations

import hashlib
import re
import secrets

from flask import Request, Response

from services.order_ms import store
from services.order_ms.settings import OrderSettings
from services.platform.db import ConnectionPool

COOKIE = "device_token"
HEADER = "Device-Token"
# Only the login route reads it: the browser sends it nowhere else.
COOKIE_PATH = "/order-ms/login"
VERSION = "dt1"
# `dt1.` and 32 random bytes in unpadded base64url (43 characters).
TOKEN = re.compile(rf"{VERSION}\.[A-Za-z0-9_-]{{43}}")


def new_token() -> str:
    return f"{VERSION}.{secrets.token_urlsafe(32)}"


def token_hash(value: str | None) -> str | None:
    """The stored form of a well-formed token, or None for anything else (a stale cookie, a guess, garbage)."""
    if not isinstance(value, str) or not TOKEN.fullmatch(value):
        return None
    return hashlib.sha256(value.encode("ascii")).hexdigest()


def presented(request: Request) -> str | None:
    """The token the client sent: the header (API clients) before the cookie (browsers), if well-formed."""
    for value in (request.headers.get(HEADER), request.cookies.get(COOKIE)):
        if token_hash(value):
            return value
    return None


def trusted_for(pool: ConnectionPool, settings: OrderSettings, token: str | None, user_id: str) -> str | None:
    """The token's hash when it vouches for `user_id` (any letter case) and has been used within its lifetime."""
    hashed = token_hash(token)
    if hashed and store.device_vouches(pool, hashed, user_id, settings.device_token_ttl_seconds):
        return hashed
    return None


def remember(pool: ConnectionPool, settings: OrderSettings, user_id: str, token: str | None) -> str:
    """After a right password: the token this client keeps for `user_id`. A token the service issued and that is
    still alive is kept (it now vouches for this account too); anything else is replaced by a new one."""
    hashed = token_hash(token)
    if not (hashed and store.device_known(pool, hashed, settings.device_token_ttl_seconds)):
        token = new_token()
        hashed = token_hash(token)
    store.remember_device(pool, hashed, user_id, settings.device_token_ttl_seconds,
                          settings.device_tokens_per_account)
    return token


def attach(response: Response, token: str, settings: OrderSettings, secure: bool) -> None:
    """Hands the token to both kinds of client: an HttpOnly cookie scripts cannot read, and a header."""
    response.headers[HEADER] = token
    response.set_cookie(COOKIE, token, max_age=settings.device_token_ttl_seconds, path=COOKIE_PATH,
                        secure=secure, httponly=True, samesite="Strict")
