"""The password hashes: an unknown user costs one verification with the same parameters as a real one."""
from argon2 import extract_parameters

from services.order_ms.passwords import DUMMY_HASH, HASHER, hash_password, verify_password


def test_the_dummy_hash_has_the_parameters_of_real_hashes():
    # Another memory or time cost would make an unknown user's login measurably faster or slower.
    dummy = extract_parameters(DUMMY_HASH)
    assert dummy == extract_parameters(hash_password("any password"))
    assert (dummy.time_cost, dummy.memory_cost, dummy.parallelism) == (HASHER.time_cost, HASHER.memory_cost,
                                                                        HASHER.parallelism)
    assert HASHER.verify(DUMMY_HASH, "not-a-real-password")


def test_an_unknown_user_is_refused_whatever_the_password():
    assert not verify_password(None, "not-a-real-password")
    assert verify_password(hash_password("a-long-password"), "a-long-password")
