"""Several contracts on one topic: the event_type header picks the contract's parse; a record without it is the
topic's untyped contract; anything else is an InvalidEvent that says why, whatever the record holds."""
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.contracts import order_cancel_requested, order_created
from services.contracts.envelope import InvalidEvent, TypedEvent, parse_by_event_type
from services.delivery_ms.consumer import parse_new_orders_event as parse
from tests.support.topics import new_order

REQUESTED_AT = "2026-11-28T15:06:00.000000Z"


def created_record():
    return order_created.build(new_order()).record()


def cancel_record():
    return order_cancel_requested.build(new_order(), REQUESTED_AT).record()


def test_each_event_type_gets_its_contract():
    created, cancel = created_record(), cancel_record()
    assert parse(created.value, created.headers) == TypedEvent("OrderCreated", json.loads(created.value))
    assert parse(cancel.value, cancel.headers) == TypedEvent("OrderCancelRequested", json.loads(cancel.value))


@pytest.mark.parametrize("headers", [None, [], [("event_type", None)], [("event_id", b"x"), ("schema_version", b"1")]])
def test_a_record_without_an_event_type_is_an_order_created(headers):
    record = created_record()
    assert parse(record.value, headers) == TypedEvent("OrderCreated", json.loads(record.value))


def test_an_untyped_cancel_is_read_as_an_order_created():
    # Without the header the cancel's value is an OrderCreated value with one unknown field, ignored as any is.
    record = cancel_record()
    assert parse(record.value, None).event_type == "OrderCreated"


@pytest.mark.parametrize("event_type", [b"OrderCancelled", b"", b"orderCreated", b"DeliveryStatusChanged", b"\xff"])
def test_an_unknown_event_type_is_refused_naming_those_read(event_type):
    record = created_record()
    with pytest.raises(InvalidEvent, match="is not one of OrderCreated, OrderCancelRequested"):
        parse(record.value, [("event_type", event_type)])


def test_the_last_event_type_header_counts_as_the_contracts_own_check_does():
    record = cancel_record()
    headers = [("event_type", b"OrderCreated"), *record.headers]
    assert parse(record.value, headers).event_type == "OrderCancelRequested"


def test_the_chosen_contract_still_checks_its_version_and_value():
    cancel = cancel_record()
    with pytest.raises(InvalidEvent, match="schema_version"):
        parse(cancel.value, [("event_type", b"OrderCancelRequested"), ("schema_version", b"2")])
    with pytest.raises(InvalidEvent, match="requested_at"):
        parse(created_record().value, [("event_type", b"OrderCancelRequested")])


def test_an_untyped_contract_must_be_one_of_the_parsed():
    with pytest.raises(ValueError, match="untyped"):
        parse_by_event_type({"A": order_created.parse}, untyped="B")


header_names = st.one_of(st.sampled_from(["event_type", "schema_version", "event_id"]), st.text(max_size=12))
header_values = st.one_of(st.none(), st.binary(max_size=30),
                          st.sampled_from([b"OrderCreated", b"OrderCancelRequested", b"1", b"2"]))
values = st.one_of(st.none(), st.binary(max_size=120),
                   st.builds(lambda order, extra: json.dumps({**order, **extra}).encode(),
                             st.builds(new_order), st.dictionaries(st.sampled_from(
                                 ["requested_at", "coffee_qty", "order_id", "x"]),
                                 st.one_of(st.none(), st.integers(), st.text(max_size=30),
                                           st.just(REQUESTED_AT)), max_size=2)))


@settings(max_examples=400, deadline=None)
@given(value=values, headers=st.one_of(st.none(), st.lists(st.tuples(header_names, header_values), max_size=4)))
def test_any_record_is_one_contracts_event_or_an_invalid_event(value, headers):
    try:
        event = parse(value, headers)
    except InvalidEvent as refused:
        assert str(refused).strip()
        return
    contracts = {"OrderCreated": order_created, "OrderCancelRequested": order_cancel_requested}
    assert event.event_type in contracts
    # What the dispatcher accepted is exactly what that contract's own parse makes of the record.
    assert event.value == contracts[event.event_type].parse(value, headers)
    sent = [raw for name, raw in headers or [] if name == "event_type"]
    assert event.event_type == (sent[-1].decode() if sent and sent[-1] is not None else "OrderCreated")
