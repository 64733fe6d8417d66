"""Bearer tokens and authorization: JWTs signed with the signing service's Ed25519 key (token_keys.py), with an
expiry and a role, verified with public keys only, and one decorator per access rule.

Services say in their own words how to get a token (`LOGIN_HINT` in the app config) and what to do when
a rule refuses (the `hint` callables they pass to the decorators)."""
from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt
from flask import current_app, g, request

from services.platform import problems
from services.platform.settings import Settings, SettingsError
from services.platform.token_keys import (
    ALGORITHM,
    FixedKey,
    KeySource,
    ReloadingKeyFile,
    SigningKey,
    VerifyingKeys,
    load_verifying_keys,
    verifying_keys,
)

ROLE_CUSTOMER = "customer"
ROLE_STAFF = "staff"
ROLES = (ROLE_CUSTOMER, ROLE_STAFF)
TOKEN_ISSUER = "coffee-order"
LOGIN_HINT = "LOGIN_HINT"
VERIFYING_KEYS = "TOKEN_VERIFYING_KEYS"  # the app config entry holding the process's KeySource of VerifyingKeys
PUBLIC_KEYS_VARIABLE = "TOKEN_PUBLIC_KEYS_FILE"

# A hint for a refused caller: hint(caller's user_id, the user_id in the path) -> text.
ForbiddenHint = Callable[[str, str], str]


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject and role."""

    user_id: str
    role: str

    @property
    def is_staff(self) -> bool:
        return self.role == ROLE_STAFF


def issue_token(signer: SigningKey, ttl_seconds: int, user_id: str, role: str) -> str:
    now = int(time.time())
    claims = {"sub": user_id, "role": role, "iss": TOKEN_ISSUER, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, signer.private_key, algorithm=ALGORITHM, headers={"kid": signer.kid})


def verifying_keys_for(settings: Settings, own_key: SigningKey | None = None) -> KeySource[VerifyingKeys]:
    """The public keys of TOKEN_PUBLIC_KEYS_FILE, read again whenever the file changes; at start the signer's own
    key (`own_key`, in the issuing service) must be one of them, or the tokens it signs would be refused
    everywhere. Without the file only in local mode: the signer's key alone (tokens valid in that process only),
    or none (every token refused)."""
    if settings.token_public_keys_file:
        keys = ReloadingKeyFile(settings.token_public_keys_file, PUBLIC_KEYS_VARIABLE, load_verifying_keys)
        if own_key and own_key.kid not in keys.current().by_kid:
            raise SettingsError(
                f"The token signing key (kid {own_key.kid}) is not in {PUBLIC_KEYS_VARIABLE}: add its public key to "
                "every verifier's set before signing with it (rotation: docs/security.md)")
        return keys
    if not settings.local_mode:
        raise SettingsError(f"{PUBLIC_KEYS_VARIABLE} is not set: outside local mode the HTTP services refuse to "
                            "start without the public keys that verify tokens (in Kubernetes the chart mounts them)")
    return FixedKey(verifying_keys([own_key.private_key.public_key()] if own_key else []))


def decode_token(keys: VerifyingKeys, token: str, login_hint: str) -> Principal:
    """The principal of a valid token; raises a 401 Problem naming what is wrong otherwise."""
    try:
        subject, role, expires = _verified_claims(keys, token)
    except jwt.ExpiredSignatureError:
        raise _unauthorized("The access token has expired.", login_hint) from None
    except jwt.PyJWTError:
        raise _unauthorized("The access token is malformed or not signed by this service.", login_hint) from None
    if expires <= time.time():
        # Verified earlier and remembered, but expired since.
        raise _unauthorized("The access token has expired.", login_hint)
    if role not in ROLES or not isinstance(subject, str):
        raise _unauthorized("The access token does not name a known role.", login_hint)
    return Principal(user_id=subject, role=role)


# A client sends the same token with every request until it expires, and checking its signature and claims
# is a large part of a request's cost: each process remembers the tokens it verified. A token stays valid until it
# expires whatever happens (there is no revocation), so remembering one changes no answer; only its expiry is
# checked again on every request. Tokens that fail are not remembered. They are remembered per key set: a set
# read again (a retired key) starts with none.
@functools.lru_cache(maxsize=4096)
def _verified_claims(keys: VerifyingKeys, token: str) -> tuple[object, object, int]:
    """(subject, role, expiry) of a token signed with a key of `keys` (by its kid, EdDSA only: `none`, HS256 with
    a public key as its secret and any other algorithm are refused) whose issuer and times check out."""
    kid = jwt.get_unverified_header(token).get("kid")
    key = keys.by_kid.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise jwt.InvalidKeyError("unknown kid")
    claims = jwt.decode(
        token, key, algorithms=[ALGORITHM], issuer=TOKEN_ISSUER,
        options={"require": ["sub", "role", "exp", "iat"]},
    )
    return claims["sub"], claims["role"], claims["exp"]


def _unauthorized(detail: str, login_hint: str) -> problems.Problem:
    return problems.unauthorized(detail, login_hint, realm=TOKEN_ISSUER)


def authenticate() -> Principal:
    """The caller of the current request, from its `Authorization: Bearer` header (401 otherwise)."""
    login_hint = current_app.config[LOGIN_HINT]
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise _unauthorized("This endpoint needs an access token and none was sent.", login_hint)
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("The Authorization header must be 'Bearer <token>'.", login_hint)
    return decode_token(current_app.config[VERIFYING_KEYS].current(), token.strip(), login_hint)


def current_principal() -> Principal:
    """The caller, once one of the decorators below has let the request through."""
    return g.principal


def _guard(check: Callable[[Principal, dict], None]):
    def decorator(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            principal = authenticate()
            check(principal, kwargs)
            g.principal = principal
            return view(*args, **kwargs)
        return guarded
    return decorator


def signed_in(view):
    """Any valid token."""
    return _guard(lambda principal, _kwargs: None)(view)


def self_or_staff(hint: ForbiddenHint, path_arg: str = "user_id"):
    """Customers act only on their own `path_arg`; staff may act on anyone's."""
    def check(principal: Principal, kwargs: dict) -> None:
        if principal.user_id != kwargs[path_arg] and not principal.is_staff:
            raise _refused(principal, kwargs[path_arg], hint)
    return _guard(check)


def self_only(hint: ForbiddenHint, path_arg: str = "user_id"):
    """Only the user named by `path_arg`, whatever the role (e.g. acting in one's own name only)."""
    def check(principal: Principal, kwargs: dict) -> None:
        if principal.user_id != kwargs[path_arg]:
            raise _refused(principal, kwargs[path_arg], hint)
    return _guard(check)


def staff_only(hint: str):
    def check(principal: Principal, _kwargs: dict) -> None:
        if not principal.is_staff:
            raise problems.forbidden("Only staff may do this.", hint)
    return _guard(check)


def _refused(principal: Principal, user_id: str, hint: ForbiddenHint) -> problems.Problem:
    return problems.forbidden(
        f"Your token is for {principal.user_id!r}, not {user_id!r}.", hint(principal.user_id, user_id)
    )
