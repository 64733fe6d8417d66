"""The key order-ms signs access tokens with, and the public key set it publishes (JWKS) for every verifier."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from services.order_ms.settings import OrderSettings
from services.platform.auth import VERIFYING_KEYS
from services.platform.settings import SettingsError
from services.platform.token_keys import SigningKey, load_signing_key, signing_key

SIGNING_KEY = "TOKEN_SIGNING_KEY"  # the app config entry holding the SigningKey
SIGNING_KEY_VARIABLE = "TOKEN_SIGNING_KEY_FILE"
# Verifiers elsewhere may fetch the set instead of mounting it: a rotation adds a key to the set a token lifetime
# before anything is signed with it, so a few minutes of caching miss nothing.
JWKS_MAX_AGE_SECONDS = 300

bp = Blueprint("token_keys", __name__, url_prefix="/order-ms")


def signer_for(settings: OrderSettings) -> SigningKey:
    """TOKEN_SIGNING_KEY_FILE's key; without it only in local mode, a key of this process's own."""
    if settings.token_signing_key_file:
        return load_signing_key(settings.token_signing_key_file, SIGNING_KEY_VARIABLE)
    if not settings.local_mode:
        raise SettingsError(f"{SIGNING_KEY_VARIABLE} is not set: outside local mode order-ms refuses to start without "
                            "the private key that signs tokens (in Kubernetes the chart mounts it)")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    return signing_key(Ed25519PrivateKey.generate())


@bp.get("/.well-known/jwks.json")
def jwks():
    response = jsonify(current_app.config[VERIFYING_KEYS].jwks())
    response.cache_control.public = True
    response.cache_control.max_age = JWKS_MAX_AGE_SECONDS
    return response
