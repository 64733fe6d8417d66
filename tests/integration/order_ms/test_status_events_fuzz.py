"""Property-based: whatever a `delivery_status` record holds (near-valid events of both types with one field changed,
dropped or added; any headers), the status consumer's parse either refuses it with a reason or yields an event the
read model's write stores on MariaDB without any error but "unknown order": no record can wedge the consumer."""
from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.contracts.envelope import InvalidEvent
from services.order_ms import read_model, store
from services.order_ms.read_model import UnknownOrder
from services.order_ms.status_consumer import parse_status_event

EXAMPLES = 150

any_text = st.text(st.characters(codec=None, categories=None), max_size=80)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=2**31 - 3, max_value=2**33),
                         st.floats(allow_nan=True, allow_infinity=True), any_text,
                         st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z",
                                       fullmatch=True),
                         st.sampled_from(["CONFIRMED", "IN_DELIVERY", "COMPLETED", "CANCELED", "LOST"]))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(any_text, inner, max_size=3)), max_leaves=8)
event_types = st.one_of(st.none(), st.sampled_from([b"DeliveryStatusChanged", b"OrderCancelRefused", b"Other"]),
                        st.binary(max_size=20))



@pytest.fixture(scope="module")
def order_id(pool) -> str:
    return store.create_order(pool, f"fz-{uuid.uuid4().hex[:10]}", {"coffee_name": "jslee", "coffee_price": 1,
                                                                    "coffee_qty": 1}, None, None)[0]["order_id"]


def valid_event(order_id: str, refusal: bool) -> dict:
    common = {"delivery_id": str(uuid.uuid4()), "order_id": order_id, "status": "IN_DELIVERY", "version": 2}
    if refusal:
        return {**common, "reason": "Already IN_DELIVERY.", "refused_at": "2026-11-28T15:06:00.250000Z"}
    return {**common, "previous_status": "CONFIRMED", "updated_at": "2026-11-28T15:09:41.000321Z"}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(refusal=st.booleans(), change=st.sampled_from(["replace", "drop", "add", "none"]), data=st.data(),
       event_type=event_types, schema_version=st.one_of(st.none(), st.sampled_from([b"1", b"2", b""])))
def test_any_record_is_refused_with_a_reason_or_stored(pool, order_id, refusal, change, data, event_type,
                                                       schema_version):
    event = valid_event(order_id, refusal)
    field = data.draw(st.sampled_from(sorted(event)))
    if change == "replace":
        event[field] = data.draw(json_values)
    elif change == "drop":
        del event[field]
    elif change == "add":
        event[data.draw(any_text)] = data.draw(json_values)
    raw = json.dumps(event, ensure_ascii=data.draw(st.booleans())).encode("utf-8", "surrogatepass")
    headers = [(name, value) for name, value in (("event_type", event_type), ("schema_version", schema_version))
               if value is not None]
    try:
        parsed = parse_status_event(raw, headers)
    except InvalidEvent as refused:
        assert str(refused)
        return
    try:
        read_model.apply_status_events(pool, [parsed])
    except UnknownOrder:
        assert parsed.value["order_id"] != order_id
