"""The per-process cache of token versions, with a scripted clock and lookup: what it remembers, for how long,
and when a token proves it stale."""
from services.platform.token_versions import TokenVersionCache


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def cache_with(versions: dict, max_age=2.0, max_accounts=1000):
    clock, lookups = Clock(), []

    def lookup(user_id):
        lookups.append(user_id)
        return versions.get(user_id)
    return TokenVersionCache(lookup, max_age, clock=clock, max_accounts=max_accounts), clock, lookups


def test_a_version_is_read_once_and_remembered_for_the_cache_age_only():
    versions = {"alice": 1}
    cache, clock, lookups = cache_with(versions)
    assert [cache.version("alice") for _ in range(3)] == [1, 1, 1] and lookups == ["alice"]
    versions["alice"] = 2  # another instance revoked
    clock.now += 1.9
    assert cache.version("alice") == 1, "within the cache age the remembered version is answered"
    clock.now += 0.1
    assert cache.version("alice") == 2 and lookups == ["alice", "alice"]


def test_an_unknown_account_is_remembered_too():
    cache, _clock, lookups = cache_with({})
    assert cache.version("nobody") is None and cache.version("nobody") is None
    assert lookups == ["nobody"]


def test_a_token_with_a_higher_version_proves_the_remembered_one_stale():
    versions = {"alice": 1}
    cache, _clock, lookups = cache_with(versions)
    assert cache.version("alice", token_version=1) == 1
    versions["alice"] = 2  # logged out and in again on another instance
    assert cache.version("alice", token_version=2) == 2 and len(lookups) == 2
    assert cache.version("alice", token_version=1) == 2 and len(lookups) == 2, "a lower one proves nothing"


def test_a_deleted_account_is_not_read_again_for_every_old_token():
    cache, _clock, lookups = cache_with({})
    for _ in range(3):
        assert cache.version("gone", token_version=7) is None
    assert lookups == ["gone"]


def test_forget_makes_the_next_request_read_again():
    versions = {"alice": 1}
    cache, _clock, lookups = cache_with(versions)
    cache.version("alice")
    versions["alice"] = 2
    cache.forget("alice")
    assert cache.version("alice") == 2 and len(lookups) == 2


def test_the_cache_stays_bounded():
    cache, clock, _lookups = cache_with({}, max_accounts=10)
    for number in range(25):
        cache.version(f"user{number}")
    assert len(cache._read) <= 10
    clock.now += 5
    cache.version("late")
    assert len(cache._read) <= 10
