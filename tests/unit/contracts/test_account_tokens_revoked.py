"""AccountTokensRevoked v1: what goes on the wire, and what a consumer accepts (everything else says why not)."""
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.contracts import account_tokens_revoked
from services.contracts.envelope import InvalidEvent

REVOCATION = {"user_id": "Alice-1", "token_version": 3, "reason": "LOGOUT", "revoked_at": "2026-11-28T15:04:05.123456Z"}


def test_the_record_is_keyed_by_user_id_typed_and_round_trips():
    record = account_tokens_revoked.build(REVOCATION).record()
    assert (record.topic, record.key) == ("account_versions", b"Alice-1")
    assert record.value == json.dumps(REVOCATION, separators=(",", ":")).encode()
    headers = dict(record.headers)
    assert headers["event_type"] == b"AccountTokensRevoked" and headers["schema_version"] == b"1"
    assert account_tokens_revoked.parse(record.value, record.headers) == REVOCATION


@pytest.mark.parametrize("change, reason", [
    ({"token_version": 0}, "token_version"),
    ({"token_version": True}, "token_version"),
    ({"token_version": 2**32}, "token_version"),
    ({"reason": "FORGOT"}, "reason"),
    ({"user_id": "no spaces"}, "user_id"),
    ({"revoked_at": "2026-02-30T00:00:00.000000Z"}, "revoked_at"),
])
def test_unusable_values_say_which_field(change, reason):
    with pytest.raises(InvalidEvent, match=reason):
        account_tokens_revoked.parse(json.dumps({**REVOCATION, **change}).encode())


def test_another_contract_is_refused_by_its_headers():
    with pytest.raises(InvalidEvent, match="event_type"):
        account_tokens_revoked.parse(json.dumps(REVOCATION).encode(), [("event_type", b"OrderCreated")])


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                max_size=5), max_leaves=12)


@given(value=st.one_of(st.binary(max_size=200), JSON.map(lambda v: json.dumps(v).encode()),
                       st.dictionaries(st.sampled_from(list(REVOCATION)), JSON, max_size=4).map(
                           lambda fields: json.dumps({**REVOCATION, **fields}).encode())),
       headers=st.lists(st.tuples(st.sampled_from(["event_type", "schema_version", "event_id", "x"]),
                                  st.none() | st.binary(max_size=30)), max_size=3))
def test_any_record_is_a_revocation_or_an_invalid_event(value, headers):
    try:
        parsed = account_tokens_revoked.parse(value, headers)
    except InvalidEvent:
        return
    assert set(parsed) == set(REVOCATION)
    assert account_tokens_revoked.TOKEN_VERSION.check(parsed["token_version"]) is None
    assert parsed["reason"] in account_tokens_revoked.REASONS
