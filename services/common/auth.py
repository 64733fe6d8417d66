"""Bearer-token authentication shared by both services: signed JWTs with an expiry and a role."""
from __future__ import annotations

import time
from dataclasses import dataclass

import jwt
from flask import current_app, request

from services.common.problems import Problem

ROLE_CUSTOMER = "customer"
ROLE_STAFF = "staff"
ROLES = (ROLE_CUSTOMER, ROLE_STAFF)
TOKEN_ISSUER = "coffee-order"
ALGORITHM = "HS256"
LOGIN_HINT = (
    "Log in with POST /order-ms/login {\"user_id\": \"...\", \"password\": \"...\"} and send the "
    "access_token as 'Authorization: Bearer <token>'."
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject and role."""

    user_id: str
    role: str

    @property
    def is_staff(self) -> bool:
        return self.role == ROLE_STAFF


def issue_token(secret: str, ttl_seconds: int, user_id: str, role: str) -> str:
    now = int(time.time())
    claims = {"sub": user_id, "role": role, "iss": TOKEN_ISSUER, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(secret: str, token: str) -> Principal:
    """The principal of a valid token; raises a 401 Problem naming what is wrong otherwise."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], issuer=TOKEN_ISSUER,
            options={"require": ["sub", "role", "exp", "iat"]},
        )
    except jwt.ExpiredSignatureError:
        raise _unauthorized("The access token has expired.") from None
    except jwt.PyJWTError:
        raise _unauthorized("The access token is malformed or not signed by this service.") from None
    if claims["role"] not in ROLES or not isinstance(claims["sub"], str):
        raise _unauthorized("The access token does not name a known role.")
    return Principal(user_id=claims["sub"], role=claims["role"])


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "unauthorized", "Unauthorized", detail, LOGIN_HINT,
                   headers={"WWW-Authenticate": 'Bearer realm="coffee-order"'})


def authenticate() -> Principal:
    """The caller of the current request, from its `Authorization: Bearer` header (401 otherwise)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise _unauthorized("This endpoint needs an access token and none was sent.")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("The Authorization header must be 'Bearer <token>'.")
    return decode_token(current_app.config["SETTINGS"].jwt_secret, token.strip())


def require_self_or_staff(principal: Principal, user_id: str) -> None:
    """Customers act only on their own user_id; staff may read anyone's."""
    if principal.user_id != user_id and not principal.is_staff:
        raise Problem(
            403, "forbidden", "Forbidden", f"Your token is for {principal.user_id!r}, not {user_id!r}.",
            f"Use /order-ms/{principal.user_id}/... or log in as {user_id!r}.",
        )


def require_staff(principal: Principal) -> None:
    if not principal.is_staff:
        raise Problem(
            403, "forbidden", "Forbidden", "Only staff may do this.",
            "Log in with a staff account; the local stack prints its demo staff account at start.",
        )
