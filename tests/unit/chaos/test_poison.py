"""The chaos poison flood's records: every one is refused by the OrderCreated contract (so every one belongs in
the DLQ), each kind is there, each key is unique, and the near-limit ones are just under 1 MiB."""
from collections import Counter

import pytest

from scripts.chaos.poison import poison_records
from services.contracts import order_created
from services.contracts.envelope import InvalidEvent

RECORDS = poison_records("unit", 300, 3)


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: f"{r.kind}:{r.key[-5:].decode()}")
def test_every_poison_record_is_refused_by_the_contract(record):
    with pytest.raises(InvalidEvent):
        order_created.parse(record.value, record.headers)


def test_every_kind_is_in_the_flood_and_every_key_is_unique():
    kinds = Counter(record.kind for record in RECORDS)
    assert set(kinds) == {"random bytes", "deep nesting", "invalid UTF-8", "bad fields", "lone surrogate",
                          "not an object", "null headers", "another contract", "empty value", "odd key and headers",
                          "near 1 MiB"}
    assert kinds["near 1 MiB"] == 3
    assert len({record.key for record in RECORDS}) == len(RECORDS)


def test_near_limit_values_are_just_under_one_mebibyte():
    sizes = sorted(len(record.value) for record in RECORDS if record.kind == "near 1 MiB")
    assert all(1_000_000 <= size < 1024 * 1024 for size in sizes)


def test_poison_that_looks_like_an_order_names_its_order_id():
    lookalikes = [record for record in RECORDS if record.kind in {"lone surrogate", "another contract"}]
    assert lookalikes and all(record.order_id for record in lookalikes)
