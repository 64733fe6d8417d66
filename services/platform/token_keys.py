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
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.platform.settings import SettingsError

ALGORITHM = "EdDSA"
log = logging.getLogger(__name__)
T = TypeVar("T")
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

    @property
    def kids(self) -> list[str]:
        return list(self.by_kid)


@dataclass(frozen=True, eq=False)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey

    @property
    def kids(self) -> list[str]:
        return [self.kid]


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


class KeySource(Protocol[T]):
    """Where a process gets a key (or key set) each time it uses one."""

    def current(self) -> T: ...


@dataclass(frozen=True)
class FixedKey(Generic[T]):
    """A key that never changes: local mode's key of the process's own."""

    value: T

    def current(self) -> T:
        return self.value


class ReloadingKeyFile(Generic[T]):
    """A key file's content, read again on the first use after the file changed: a rotation needs no restart.

    Kubernetes updates a mounted Secret by writing the new files into a new folder and swapping the `..data`
    symlink the file's path goes through, so the path then leads to another file; an operator may rewrite it in
    place. Either way the (device, inode, size, modification time) the path leads to changes: one stat per use
    tells. A new content that cannot be used (half written, not a key, gone) leaves the keys loaded before in
    place, logged once; it is read again when the file changes again. The first read, at start, raises."""

    def __init__(self, path: str, variable: str, load: Callable[[str, str], T]):
        """`load(path, variable)` parses the file (raising SettingsError); what it returns has `kids`."""
        self._path, self._variable, self._load = path, variable, load
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._value = load(path, variable)

    def current(self) -> T:
        if self._stat() != self._stamp:
            self._reload()
        return self._value

    def _stat(self) -> tuple[int, ...] | None:
        try:
            info = os.stat(self._path)
        except OSError:
            return None
        return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns

    def _reload(self) -> None:
        with self._lock:
            # Stamped before reading: a write that lands while the file is read changes the stamp again, so
            # the next use reads the finished file.
            stamp = self._stat()
            if stamp == self._stamp:
                return  # another thread read it meanwhile
            self._stamp = stamp
            if stamp is None:
                log.error("%s (%s) is gone: the keys loaded before stay in use", self._variable, self._path)
                return
            try:
                self._value = self._load(self._path, self._variable)
            except SettingsError as exc:
                log.error("%s changed but cannot be used, the keys loaded before stay in use: %s", self._variable, exc)
                return
            # The kids let an operator see each pod take a rotation's step (docs/security.md#token-keys).
            log.info("%s read again", self._variable, extra={"key_file": self._path, "kids": self._value.kids})


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
