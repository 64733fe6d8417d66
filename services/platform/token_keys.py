"""The keys of the access tokens: one Ed25519 private key that signs (the issuing service only) and a set of
public keys that verify (every HTTP service), each named by its `kid`, the key's RFC 7638 thumbprint.

Ed25519 (JWS `EdDSA`) rather than RS256: 32-byte keys and 64-byte signatures, no key size or padding to choose
wrongly, deterministic signatures, and Helm can generate one (`genPrivateKey "ed25519"`).

A public key set is a file of PEM blocks, like kube-apiserver's `--service-account-key-file`: public keys
(`BEGIN PUBLIC KEY`) or certificates (`BEGIN CERTIFICATE`, only their key is used: Helm can derive a certificate
from a private key it generated, never a bare public key). Rotation appends a block."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.platform.settings import SettingsError

ALGORITHM = "EdDSA"
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    """The key as a JWK (RFC 8037), with its kid."""
    x = _b64url(public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    # RFC 7638: the SHA-256 of the required members, sorted, without white space.
    thumbprint = hashlib.sha256(json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"),
                                           sort_keys=True).encode()).digest()
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": _b64url(thumbprint), "alg": ALGORITHM, "use": "sig"}


@dataclass(frozen=True, eq=False)
class VerifyingKeys:
    """The public keys a verifier accepts, by kid (hashed by identity: verified tokens are remembered per set)."""

    by_kid: Mapping[str, Ed25519PublicKey]

    def jwks(self) -> dict:
        return {"keys": [public_jwk(key) for key in self.by_kid.values()]}


@dataclass(frozen=True, eq=False)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey


def signing_key(private_key: Ed25519PrivateKey) -> SigningKey:
    return SigningKey(public_jwk(private_key.public_key())["kid"], private_key)


def verifying_keys(public_keys: list[Ed25519PublicKey]) -> VerifyingKeys:
    return VerifyingKeys({public_jwk(key)["kid"]: key for key in public_keys})


def load_signing_key(path: str, variable: str) -> SigningKey:
    key = serialization.load_pem_private_key(_read(path, variable), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SettingsError(f"{variable} ({path}) must hold an Ed25519 private key "
                            "(openssl genpkey -algorithm ed25519)")
    return signing_key(key)


def load_verifying_keys(path: str, variable: str) -> VerifyingKeys:
    keys = []
    for match in _PEM_BLOCK.finditer(_read(path, variable)):
        kind, block = match.group(1), match.group(0)
        if kind == b"CERTIFICATE":
            key = x509.load_pem_x509_certificate(block).public_key()
        elif kind == b"PUBLIC KEY":
            key = serialization.load_pem_public_key(block)
        else:
            raise SettingsError(f"{variable} ({path}) holds a {kind.decode()}: only public keys and certificates "
                                "belong in a public key set")
        if not isinstance(key, Ed25519PublicKey):
            raise SettingsError(f"{variable} ({path}): every key must be Ed25519")
        keys.append(key)
    if not keys:
        raise SettingsError(f"{variable} ({path}) holds no PEM public key or certificate")
    return verifying_keys(keys)


def _read(path: str, variable: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SettingsError(f"{variable} names {path}, which cannot be read: {exc.strerror}") from exc


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def ensure_key_pair(directory: Path) -> tuple[Path, Path]:
    """(signing key file, public key set file) in `directory`: kept if there, else a new key pair (the private
    key readable by its owner only)."""
    private, public = directory / "token-signing-key.pem", directory / "token-public-keys.pem"
    if not (private.exists() and public.exists()):
        directory.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        private.unlink(missing_ok=True)
        with os.fdopen(os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            out.write(private_key_pem(key))
        public.write_bytes(public_key_pem(key.public_key()))
    return private, public
