"""Password hashing with argon2id; unknown users cost the same time as known ones."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's first argon2id choice (46 MiB, one pass, one lane) rather than argon2-cffi's default RFC 9106
# low-memory profile (64 MiB, three passes, four lanes): equivalent strength by OWASP's reckoning, half the CPU
# per login, and a worker that logs someone in stays under 100 MiB resident (it peaked near 105 MiB).
# Hashes keep their parameters, so those made with the old ones still verify.
HASHER = PasswordHasher(time_cost=1, memory_cost=46 * 1024, parallelism=1)
# Verified against when the user does not exist, so timing does not reveal which user_ids exist. A constant (the
# hash of "not-a-real-password" with HASHER's parameters, which a unit test holds it to) rather than hashed at
# import: gunicorn's master imports this module and would otherwise hold a hash's 46 MiB peak for no login.
DUMMY_HASH = "$argon2id$v=19$m=47104,t=1,p=1$XXRb8sw3U4wAu2tGCf3fsg$WdjZZQsH/lQ/7Ys1cT8t1xDMJXJVFFmxy1/GHodikZo"


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return HASHER.verify(password_hash or DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
