"""The Idempotency-Key rule the route checks and the OpenAPI document shows: 1-255 visible ASCII characters,
inner spaces allowed, surrounding ones dropped."""
import pytest
from flask import Flask

from services.order_ms.orders import IDEMPOTENCY_KEY, _idempotency_key
from services.platform.problems import Problem

app = Flask(__name__)


def key_of(header: str):
    with app.test_request_context(headers={"Idempotency-Key": header}):
        return _idempotency_key()


@pytest.mark.parametrize("key", ["3f0c9a52-6d1e-4b8f-9a0e-2b7c5d4e1f60", "a", "order 7 of today", "x" * 255])
def test_visible_ascii_keys_are_taken(key):
    assert IDEMPOTENCY_KEY.check(key) is None
    assert key_of(f" {key} ") == key


@pytest.mark.parametrize("key", ["x" * 256, "café", "tab\there", " "])
def test_other_keys_are_refused(key):
    with pytest.raises(Problem) as refused:
        key_of(key)
    assert refused.value.status == 422 and refused.value.title == "Invalid Idempotency-Key"
