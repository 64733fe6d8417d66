"""The key order-ms signs access tokens with, and the public key set it publishes (JWKS) for every verifier."""
from __future__ import annotations

import logging
import threading

from flask import Blueprint, current_app, jsonify

from services.order_ms.settings import OrderSettings
from services.platform.auth import PUBLIC_KEYS_VARIABLE, VERIFYING_KEYS
from services.platform.settings import SettingsError
from services.platform.token_keys import (
    FixedKey,
    KeySource,
    ReloadingKeyFile,
    SigningKey,
    VerifyingKeys,
    load_signing_key,
    signing_key,
)

log = logging.getLogger(__name__)

SIGNING_KEY = "TOKEN_SIGNING_KEY"  # the app config entry holding the Signer
SIGNING_KEY_VARIABLE = "TOKEN_SIGNING_KEY_FILE"
# Verifiers elsewhere may fetch the set instead of mounting it: a rotation adds a key to the set a token lifetime
# before anything is signed with it, so a few minutes of caching miss nothing.
JWKS_MAX_AGE_SECONDS = 300

bp = Blueprint("token_keys", __name__, url_prefix="/order-ms")


class Signer:
    """The key that signs now: the signing key file's, once the public key set holds it.

    Both files are read again when they change (a rotation needs no restart). A new signing key whose public key
    is not yet in the set would sign tokens that every verifier refuses, so the key signing before stays in use
    (logged once) until the set holds the new one: rotation's step 2 taken before step 1 logs no one out."""

    def __init__(self, key_file: KeySource[SigningKey], public_keys: KeySource[VerifyingKeys]):
        self._key_file, self._public_keys = key_file, public_keys
        self._lock = threading.Lock()
        self._in_use = key_file.current()
        self._refused: SigningKey | None = None

    def current(self) -> SigningKey:
        newest = self._key_file.current()
        if newest is not self._in_use:
            self._switch(newest)
        return self._in_use

    def _switch(self, newest: SigningKey) -> None:
        with self._lock:
            if newest.kid in self._public_keys.current().by_kid:
                self._in_use = newest
            elif newest is not self._refused:
                self._refused = newest
                log.error("%s changed to a key (kid %s) that is not in %s: tokens stay signed with kid %s until "
                          "every verifier's set holds the new key (docs/security.md#token-keys)", SIGNING_KEY_VARIABLE,
                          newest.kid, PUBLIC_KEYS_VARIABLE, self._in_use.kid)


def signing_key_file(settings: OrderSettings) -> KeySource[SigningKey]:
    """TOKEN_SIGNING_KEY_FILE's key, read again when the file changes; without it only in local mode, a key of
    this process's own."""
    if settings.token_signing_key_file:
        return ReloadingKeyFile(settings.token_signing_key_file, SIGNING_KEY_VARIABLE, load_signing_key)
    if not settings.local_mode:
        raise SettingsError(f"{SIGNING_KEY_VARIABLE} is not set: outside local mode order-ms refuses to start without "
                            "the private key that signs tokens (in Kubernetes the chart mounts it)")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    return FixedKey(signing_key(Ed25519PrivateKey.generate()))


def current_signer() -> SigningKey:
    """The key that signs the current app's tokens now."""
    return current_app.config[SIGNING_KEY].current()


@bp.get("/.well-known/jwks.json")
def jwks():
    response = jsonify(current_app.config[VERIFYING_KEYS].current().jwks())
    response.cache_control.public = True
    response.cache_control.max_age = JWKS_MAX_AGE_SECONDS
    return response
